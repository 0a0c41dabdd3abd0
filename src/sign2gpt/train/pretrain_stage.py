"""Stage 1: pseudo-gloss pretraining of the spatial model and sign encoder (SPEC.md)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from sign2gpt.data import VideoBatch, VideoTransform
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.text import PseudoGlossVocab, normalize_text
from sign2gpt.train.checkpointing import StageCheckpoints
from sign2gpt.train.contrastive import add_contrastive


class PretrainModule(nn.Module):
    """`forward(batch)` -> (weighted BCE of the pseudo-gloss scores, logs)."""

    def __init__(
        self,
        model: Sign2GPT,
        transforms: tuple[VideoTransform, VideoTransform],
        vocab: PseudoGlossVocab,
        targets: dict[str, list[str]],
    ):
        super().__init__()
        self.model = model
        # (training, evaluation): picked by the module's train/eval mode.
        self.transforms = transforms
        self.vocab = vocab
        self.targets = targets  # sentence -> its pseudo-glosses

    def multi_hot(self, texts: list[str]) -> torch.Tensor:
        """(B, K) targets of a batch's sentences (new sentences are tagged on the fly)."""
        return self.vocab.multi_hot([self.glosses_of(t) for t in texts])

    def glosses_of(self, text: str) -> list[str]:
        key = normalize_text(text)
        if key not in self.targets:  # a dev / test sentence: tag it once
            self.targets[key] = self.vocab.extract(text)
        return self.targets[key]

    def encode(self, batch: VideoBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Sign features (B, T', D) and their mask for a batch of videos."""
        device = next(self.model.parameters()).device
        batch = batch.to(device)
        video = self.transforms[0 if self.training else 1](
            batch.frames, batch.mask
        )  # (B, T, 3, S, S)
        return self.model.encode(video, batch.mask)

    def scores(self, batch: VideoBatch) -> torch.Tensor:
        return self.model.prototype_head(*self.encode(batch)).scores  # (B, K)

    def forward(self, batch: VideoBatch) -> tuple[torch.Tensor, dict[str, float]]:
        features, mask = self.encode(batch)
        scores = self.model.prototype_head(features, mask).scores
        targets = self.multi_hot(batch.texts).to(scores.device)
        loss = self.model.prototype_head.loss(scores, targets)
        tau_class, tau_time = self.model.prototype_head.temperatures()
        logs = {"tau_class": tau_class.item(), "tau_time": tau_time.item()}
        return add_contrastive(loss, logs, self.model, features, mask, batch.texts)


def r_precision_hits(scores: torch.Tensor, targets: torch.Tensor) -> tuple[float, int]:
    """Sum over videos of R-precision (share of the n best-scored glosses that are among the
    video's n targets) and the number of videos with targets.

    A ranking measure that needs no threshold: comparing it with the ranking by training
    frequency tells whether the model reads the video or only learned which words are common.

    Args:
        scores: (B, K) pseudo-gloss scores, or (K,) one ranking for every video.
        targets: (B, K) multi-hot targets.
    """
    scores = scores.expand_as(targets)
    counts = targets.sum(dim=1).long()  # (B,)
    order = scores.argsort(dim=1, descending=True)
    ranked = targets.gather(1, order).float()  # (B, K) targets in score order
    within = torch.arange(targets.size(1), device=targets.device) < counts[:, None]
    hits = (ranked * within).sum(dim=1)
    has_targets = counts > 0
    return (hits[has_targets] / counts[has_targets]).sum().item(), int(has_targets.sum())


def gloss_f1(
    module: PretrainModule, batches: Iterable[VideoBatch], threshold: float
) -> dict[str, float]:
    """Micro precision / recall / F1 and macro F1 of pseudo-gloss presence (score > threshold)
    on a split, plus R-precision of the model's ranking and of the training-frequency ranking.

    Macro F1 is the authors' `ClassF1Score`: per pseudo-gloss tp / (tp + (fp + fn) / 2),
    averaged over the glosses that occur in the split's targets; rare glosses count as much as
    common ones, where micro F1 pools every decision."""
    true_pos = false_pos = false_neg = torch.zeros(())  # per pseudo-gloss (K,) after a batch
    ranked = prior_ranked = 0.0
    videos = 0
    frequency = torch.tensor(module.vocab.target_counts(), dtype=torch.float)  # (K,)
    for batch in batches:
        scores = module.scores(batch).float()
        targets = module.multi_hot(batch.texts).to(scores.device)
        guess = scores > threshold
        present = targets.bool()
        true_pos = true_pos + (guess & present).sum(0).cpu()
        false_pos = false_pos + (guess & ~present).sum(0).cpu()
        false_neg = false_neg + (~guess & present).sum(0).cpu()
        hits, count = r_precision_hits(scores, targets)
        ranked, videos = ranked + hits, videos + count
        prior_ranked += r_precision_hits(frequency.to(scores.device), targets)[0]
    tp, predicted = true_pos.sum().item(), (true_pos + false_pos).sum().item()
    actual = (true_pos + false_neg).sum().item()
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "gloss_precision": precision,
        "gloss_recall": recall,
        "gloss_f1": f1,
        "gloss_macro_f1": macro_f1(true_pos, false_pos, false_neg),
        "gloss_r_precision": ranked / videos if videos else 0.0,
        "frequency_prior_r_precision": prior_ranked / videos if videos else 0.0,
    }


def macro_f1(true_pos: torch.Tensor, false_pos: torch.Tensor, false_neg: torch.Tensor) -> float:
    """Mean per-class F1 over the classes with at least one target (K,) counts -> float."""
    present = (true_pos + false_neg) > 0
    if not present.any():
        return 0.0
    tp = true_pos[present]
    return (tp / (tp + 0.5 * (false_pos[present] + false_neg[present]))).mean().item()


# `train.pretrain_selection` -> the dev metric that selects the stage-1 checkpoint.
SELECTION_METRICS = {"micro_f1": "gloss_f1", "macro_f1": "gloss_macro_f1"}


class PretrainTask(StageCheckpoints):
    """Stage 1 in the training loop: select the checkpoint with the best dev gloss F1
    (micro or macro: `train.pretrain_selection`)."""

    def __init__(
        self,
        module: PretrainModule,
        dev: Iterable[VideoBatch],
        threshold: float,
        selection: str = "micro_f1",
    ):
        self.model = module
        self.dev = dev
        self.threshold = threshold
        self.selection_metric = SELECTION_METRICS[selection]

    def validate(self, model: nn.Module, epoch: int) -> dict[str, float]:
        return gloss_f1(model, self.dev, self.threshold)
