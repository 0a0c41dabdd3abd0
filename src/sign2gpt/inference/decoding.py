"""Beam-search decoding: videos -> sign features -> sentences, with a stage-2 model."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from sign2gpt.data import VideoBatch, VideoTransform
from sign2gpt.generation import GenerationSettings
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.models.tokenizer import TextTokenizer


class SentenceDecoder(nn.Module):
    """A stage-2 `Sign2GPT` with its video transforms and tokenizer: `translate(batch)`.

    Training's `TranslateModule` extends it with the teacher-forced loss, so validation
    during training and inference afterwards decode the same way.
    """

    def __init__(
        self,
        model: Sign2GPT,
        transforms: tuple[VideoTransform, VideoTransform],
        tokenizer: TextTokenizer,
    ):
        super().__init__()
        self.model = model
        # (training, evaluation): picked by the module's train/eval mode.
        self.transforms = transforms
        self.tokenizer = tokenizer

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def sign_features(self, batch: VideoBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Sign features (B, T', D) and mask of a batch of videos."""
        batch = batch.to(self.device)
        video = self.transforms[0 if self.training else 1](
            batch.frames, batch.mask
        )  # (B, T, 3, S, S)
        return self.model.encode(video, batch.mask)

    @torch.no_grad()
    def translate(
        self, batch: VideoBatch, settings: GenerationSettings | None = None
    ) -> list[str]:
        """Generated sentences for a batch of videos (default settings: 4 beams, 64 tokens)."""
        settings = settings or GenerationSettings()
        features, mask = self.sign_features(batch)
        ids = self.model.decoder.generate(
            features, mask, settings.num_beams, settings.max_new_tokens
        )
        return [self.tokenizer.decode(seq) for seq in ids]

    @torch.no_grad()
    def translate_beams(
        self, batch: VideoBatch, settings: GenerationSettings | None = None
    ) -> list[list[tuple[str, float]]]:
        """Per video, every finished beam, best first: (sentence, length-normalised log p)."""
        settings = settings or GenerationSettings()
        features, mask = self.sign_features(batch)
        found = self.model.decoder.generate(
            features, mask, settings.num_beams, settings.max_new_tokens, return_beams=True
        )
        return [[(self.tokenizer.decode(ids), score) for ids, score in beams] for beams in found]


def generate_split(
    module: SentenceDecoder, batches: Iterable[VideoBatch], settings: GenerationSettings
) -> tuple[list[str], list[str], list[str]]:
    """(ids, hypotheses, references) for every video of a split, in loader order."""
    ids: list[str] = []
    hypotheses: list[str] = []
    references: list[str] = []
    with module.model.decoder.fixed_weights():  # prepared once for the whole split
        for batch in batches:
            hypotheses += module.translate(batch, settings)
            references += batch.texts
            ids += batch.ids
    return ids, hypotheses, references
