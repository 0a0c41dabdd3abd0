"""Stage 2: translation with the frozen LM, its adapters and the stage-1 visual model."""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.data import VideoBatch, VideoTransform
from sign2gpt.generation import GenerationSettings
from sign2gpt.metrics import translation_scores
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.models.tokenizer import TextTokenizer
from sign2gpt.train.checkpointing import StageCheckpoints
from sign2gpt.train.features import FeatureBatch
from sign2gpt.train.language_model import IGNORE, teacher_forcing_batch


class TranslateModule(nn.Module):
    """`forward(batch)` -> (label-smoothed cross-entropy on the target tokens, logs)."""

    def __init__(
        self,
        model: Sign2GPT,
        transforms: tuple[VideoTransform, VideoTransform],
        tokenizer: TextTokenizer,
        label_smoothing: float = 0.1,
    ):
        super().__init__()
        self.model = model
        # (training, evaluation): picked by the module's train/eval mode.
        self.transforms = transforms
        self.tokenizer = tokenizer
        self.label_smoothing = label_smoothing
        self.max_length = model.cfg.decoder.max_positions - 1

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def sign_features(self, batch: VideoBatch | FeatureBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Sign features (B, T', D) and mask of a batch of videos (or of extracted features)."""
        batch = batch.to(self.device)
        if isinstance(batch, FeatureBatch):
            # float32 as stored: Fabric's bf16-mixed casts float inputs (dataclass fields too)
            # before training steps, while evaluation reads them as they are.
            return batch.features.float(), batch.mask
        video = self.transforms[0 if self.training else 1](
            batch.frames, batch.mask
        )  # (B, T, 3, S, S)
        return self.model.encode(video, batch.mask)

    def teacher_forced(self, batch: VideoBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, L, V) and labels (B, L) (IGNORE on padding) for the batch's sentences."""
        input_ids, attention, labels = self.token_batch(batch.texts)
        features, mask = self.sign_features(batch)
        logits = self.model.decoder(input_ids, attention, features, mask)
        return logits, labels

    def token_batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inputs `BOS w1..wn` and labels `w1..wn EOS`, right-padded (B, L)."""
        tok = self.tokenizer
        encoded = [tok.encode(t)[: self.max_length] for t in texts]
        inputs, labels = teacher_forcing_batch(encoded, tok.bos_id, tok.eos_id, tok.pad_id)
        attention = (labels != IGNORE).long()
        return inputs.to(self.device), attention.to(self.device), labels.to(self.device)

    def forward(self, batch: VideoBatch) -> tuple[torch.Tensor, dict[str, float]]:
        logits, labels = self.teacher_forced(batch)
        loss = F.cross_entropy(
            logits.flatten(0, 1).float(),
            labels.flatten(),
            ignore_index=IGNORE,
            label_smoothing=self.label_smoothing,
        )
        return loss, {"token_accuracy": token_accuracy(logits, labels)}

    @torch.no_grad()
    def translate(self, batch: VideoBatch, settings: GenerationSettings) -> list[str]:
        """Generated sentences for a batch of videos."""
        features, mask = self.sign_features(batch)
        ids = self.model.decoder.generate(
            features, mask, settings.num_beams, settings.max_new_tokens
        )
        return [self.tokenizer.decode(seq) for seq in ids]


def token_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of target tokens whose argmax prediction is right (teacher-forced)."""
    real = labels != IGNORE
    return ((logits.argmax(-1) == labels) & real).sum().item() / max(real.sum().item(), 1)


def generate_split(
    module: TranslateModule, batches: Iterable[VideoBatch], settings: GenerationSettings
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


class TranslateTask(StageCheckpoints):
    """Stage 2 in the training loop: keep the checkpoint with the best generated dev BLEU-4."""

    selection_metric = "bleu4"

    def __init__(
        self,
        module: TranslateModule,
        dev: Iterable[VideoBatch],
        *,
        lang: str,
        epochs: int,
        bleu_every: int,
        generation: GenerationSettings,
    ):
        self.model = module
        self.dev = dev
        self.lang = lang
        self.epochs = epochs
        self.bleu_every = bleu_every
        self.generation = generation

    def validate(self, model: nn.Module, epoch: int) -> dict[str, float]:
        correct = total = 0.0
        for batch in self.dev:
            logits, labels = model.teacher_forced(batch)
            real = (labels != IGNORE).sum().item()
            correct += token_accuracy(logits, labels) * real
            total += real
        metrics = {"token_accuracy": correct / max(total, 1)}
        if epoch % self.bleu_every == 0 or epoch == self.epochs:
            _, hyps, refs = generate_split(model, self.dev, self.generation)
            scores = translation_scores(hyps, refs, lang=self.lang)
            metrics.update({k: v for k, v in scores.items() if isinstance(v, float)})
        return metrics
