"""Stage 2: translation with the frozen LM, its adapters and the stage-1 visual model."""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.data import VideoBatch, VideoTransform
from sign2gpt.generation import GenerationSettings
from sign2gpt.inference.decoding import SentenceDecoder, generate_split
from sign2gpt.metrics import BleuConvention, corpus_bleu, translation_scores
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.models.tokenizer import TextTokenizer
from sign2gpt.train.checkpointing import StageCheckpoints
from sign2gpt.train.contrastive import add_contrastive
from sign2gpt.train.features import FeatureBatch
from sign2gpt.train.teacher_forcing import IGNORE, teacher_forcing_batch


class TranslateModule(SentenceDecoder):
    """`forward(batch)` -> (label-smoothed cross-entropy on the target tokens, logs)."""

    def __init__(
        self,
        model: Sign2GPT,
        transforms: tuple[VideoTransform, VideoTransform],
        tokenizer: TextTokenizer,
        label_smoothing: float = 0.1,
    ):
        super().__init__(model, transforms, tokenizer)
        self.label_smoothing = label_smoothing
        self.max_length = model.cfg.decoder.max_positions - 1

    def sign_features(self, batch: VideoBatch | FeatureBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Sign features (B, T', D) and mask of a batch of videos (or of extracted features)."""
        if isinstance(batch, FeatureBatch):
            batch = batch.to(self.device)
            # float32 as stored: Fabric's bf16-mixed casts float inputs (dataclass fields too)
            # before training steps, while evaluation reads them as they are.
            return batch.features.float(), batch.mask
        return super().sign_features(batch)

    def teacher_forced(
        self, batch: VideoBatch, *, with_features: bool = False
    ) -> tuple[torch.Tensor, ...]:
        """Logits (B, L, V) and labels (B, L) (IGNORE on padding) for the batch's sentences;
        `with_features`: also the sign features and their mask."""
        input_ids, attention, labels = self.token_batch(batch.texts)
        features, mask = self.sign_features(batch)
        logits = self.model.decoder(input_ids, attention, features, mask)
        return (logits, labels, features, mask) if with_features else (logits, labels)

    def with_other_video(self, batch: VideoBatch) -> tuple[torch.Tensor, ...]:
        """Teacher-forced logits (B, L, V) with each video's own sign features, the same with
        another video's (row i gets row i-1's; a one-video batch keeps its own), and the labels:
        what the video adds to the LM's prior."""
        input_ids, attention, labels = self.token_batch(batch.texts)
        features, mask = self.sign_features(batch)
        other = torch.roll(torch.arange(features.shape[0], device=features.device), 1)
        own_logits = self.model.decoder(input_ids, attention, features, mask)
        other_logits = self.model.decoder(input_ids, attention, features[other], mask[other])
        return own_logits, other_logits, labels

    def token_batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inputs `BOS w1..wn` and labels `w1..wn EOS`, right-padded (B, L)."""
        tok = self.tokenizer
        encoded = [tok.encode(t)[: self.max_length] for t in texts]
        inputs, labels = teacher_forcing_batch(encoded, tok.bos_id, tok.eos_id, tok.pad_id)
        attention = (labels != IGNORE).long()
        return inputs.to(self.device), attention.to(self.device), labels.to(self.device)

    def forward(self, batch: VideoBatch) -> tuple[torch.Tensor, dict[str, float]]:
        logits, labels, features, mask = self.teacher_forced(batch, with_features=True)
        loss = F.cross_entropy(
            logits.flatten(0, 1).float(),
            labels.flatten(),
            ignore_index=IGNORE,
            label_smoothing=self.label_smoothing,
        )
        logs = {"token_accuracy": token_accuracy(logits, labels)}
        if isinstance(batch, FeatureBatch):  # Sign(Z)2GPT: fixed features, nothing to shape
            return loss, logs
        return add_contrastive(loss, logs, self.model, features, mask, batch.texts)


def teacher_forced_texts(
    logits: torch.Tensor, labels: torch.Tensor, tokenizer: TextTokenizer
) -> list[str]:
    """The argmax token at every target position of a teacher-forced pass, cut at the first
    EOS and decoded: the authors' cheap dev translation (their `obleu`), no generation."""
    texts = []
    for row, real in zip(logits.argmax(-1).tolist(), (labels != IGNORE).tolist(), strict=True):
        ids = [t for t, keep in zip(row, real, strict=True) if keep]
        if tokenizer.eos_id in ids:
            ids = ids[: ids.index(tokenizer.eos_id)]
        texts.append(tokenizer.decode(ids))
    return texts


def token_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of target tokens whose argmax prediction is right (teacher-forced)."""
    real = labels != IGNORE
    return ((logits.argmax(-1) == labels) & real).sum().item() / max(real.sum().item(), 1)


# `train.translate_selection` -> the dev metric that selects the stage-2 checkpoint.
SELECTION_METRICS = {"beam_bleu": "bleu4", "teacher_forced_bleu": "teacher_forced_bleu4"}


class TranslateTask(StageCheckpoints):
    """Stage 2 in the training loop: keep the checkpoint with the best dev BLEU-4, generated
    (beam search, every `bleu_every` epochs) or teacher-forced argmax (every validation, and
    always logged): `train.translate_selection`. Both use the BLEU convention `convention`."""

    def __init__(
        self,
        module: TranslateModule,
        dev: Iterable[VideoBatch],
        *,
        lang: str,
        epochs: int,
        bleu_every: int,
        generation: GenerationSettings,
        selection: str = "beam_bleu",
        convention: BleuConvention | None = None,
    ):
        self.model = module
        self.dev = dev
        self.lang = lang
        self.epochs = epochs
        self.bleu_every = bleu_every
        self.generation = generation
        self.selection_metric = SELECTION_METRICS[selection]
        self.convention = convention

    def validate(self, model: nn.Module, epoch: int) -> dict[str, float]:
        correct = correct_other = total = 0.0
        teacher_forced: list[str] = []
        references: list[str] = []
        for batch in self.dev:
            # Another video's features too: over the run, whether the decoder reads the video.
            logits, other_logits, labels = model.with_other_video(batch)
            real = (labels != IGNORE).sum().item()
            correct += token_accuracy(logits, labels) * real
            correct_other += token_accuracy(other_logits, labels) * real
            total += real
            # Logged whatever selects: one run's history shows both selections.
            teacher_forced += teacher_forced_texts(logits, labels, model.tokenizer)
            references += batch.texts
        metrics = {
            "token_accuracy": correct / max(total, 1),
            "token_accuracy_other_video": correct_other / max(total, 1),
        }
        bleu, _ = corpus_bleu(teacher_forced, references, self.lang, self.convention)
        metrics["teacher_forced_bleu4"] = bleu["bleu4"]
        if epoch % self.bleu_every == 0 or epoch == self.epochs:
            _, hyps, refs = generate_split(model, self.dev, self.generation)
            scores = translation_scores(hyps, refs, lang=self.lang, convention=self.convention)
            metrics.update({k: v for k, v in scores.items() if isinstance(v, float)})
        return metrics
