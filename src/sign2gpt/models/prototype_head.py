"""Stage-1 pseudo-gloss head: cosine similarity to word-vector prototypes, two softmaxes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.models.config import PrototypeHeadConfig


@dataclass
class PrototypeOutput:
    """What the head returns for a batch.

    Attributes:
        scores: (B, K) probability-like score of each pseudo-gloss being in the sentence.
        class_probs: (B, T', K + 1) softmax over prototypes per frame (last = "no sign");
            thresholding it localises the pseudo-glosses in time.
        similarity: (B, T', K + 1) cosine similarities.
    """

    scores: torch.Tensor
    class_probs: torch.Tensor
    similarity: torch.Tensor


class PrototypeHead(nn.Module):
    """Pseudo-gloss scores: sum over t of softmax_class(S / tau_U) * softmax_time(S / tau_T).

    Args:
        cfg: head settings.
        in_dim: sign encoder width.
        num_glosses: K, the pseudo-gloss vocabulary size.
        prototypes: (K, word_dim) initial word vectors (e.g. fastText); None = random normal.
    """

    def __init__(
        self,
        cfg: PrototypeHeadConfig,
        in_dim: int,
        num_glosses: int,
        prototypes: torch.Tensor | None = None,
    ):
        super().__init__()
        self.cfg = cfg
        self.dropout = nn.Dropout(cfg.dropout)
        self.proj = nn.Linear(in_dim, cfg.word_dim)
        if prototypes is None:
            prototypes = torch.randn(num_glosses, cfg.word_dim)
        if tuple(prototypes.shape) != (num_glosses, cfg.word_dim):
            raise ValueError(
                f"prototypes must have shape ({num_glosses}, {cfg.word_dim}), "
                f"got {tuple(prototypes.shape)}"
            )
        self.prototypes = nn.Parameter(prototypes.clone().float())
        self.temperature_class = nn.Parameter(torch.tensor(cfg.temperature_init))
        self.temperature_time = nn.Parameter(torch.tensor(cfg.temperature_init))

    def temperatures(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(tau_U, tau_T), clamped to [temperature_min, temperature_max]."""
        low, high = self.cfg.temperature_min, self.cfg.temperature_max
        return self.temperature_class.clamp(low, high), self.temperature_time.clamp(low, high)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> PrototypeOutput:
        """Score features x (B, T', in_dim) with mask (B, T')."""
        feats = F.normalize(self.proj(self.dropout(x)), dim=-1)  # (B, T', W)
        # The all-zero "no sign" prototype has cosine similarity 0 with everything.
        protos = F.normalize(self.prototypes, dim=-1)  # (K, W)
        similarity = F.pad(feats @ protos.t(), (0, 1))  # (B, T', K + 1)
        tau_class, tau_time = self.temperatures()
        class_probs = (similarity / tau_class).softmax(dim=-1)
        time_logits = (similarity / tau_time).masked_fill(~mask[..., None], float("-inf"))
        time_probs = time_logits.softmax(dim=1)  # over the real frames only
        scores = (class_probs * time_probs).sum(dim=1)[:, :-1]  # (B, K)
        return PrototypeOutput(scores=scores, class_probs=class_probs, similarity=similarity)

    def loss(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Weighted binary cross-entropy of scores (B, K) against multi-hot targets (B, K)."""
        # BCE is not autocast-safe; compute it in float32 outside any autocast region.
        with torch.autocast(device_type=scores.device.type, enabled=False):
            scores = scores.float().clamp(1e-8, 1.0)
            return self.cfg.loss_weight * F.binary_cross_entropy(scores, targets.float())
