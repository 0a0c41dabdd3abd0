"""SignCL (Ye et al., "Improving Gloss-free Sign Language Translation by Reducing Representation
Density", NeurIPS 2024): a contrastive loss on the sign features of one video.

Frames next to each other show the same sign, frames far apart mostly different ones; the loss
pulls an anchor frame's positives (within `positive_distance` steps) under an L1 distance of
`max_distance` and pushes its negatives (more than the margin away) beyond it, which spreads
out the features (lower "representation density"). Our code, written from the paper and the
authors' description; every real frame is an anchor and the sampling is vectorised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sign2gpt.models.config import ContrastiveConfig


def auto_margins(lengths: torch.Tensor, words: torch.Tensor, negative_samples: int) -> torch.Tensor:
    """The paper's negative margin per video: min(max(10, int((T // W + 1) * 2.3)) * 2,
    (T - negative_samples) // 2), from its feature length T and sentence word count W (B,)."""
    per_word = lengths // words.clamp_min(1) + 1
    margins = (per_word.double() * 2.3).long().clamp_min(10) * 2
    return torch.minimum(margins, (lengths - negative_samples) // 2)


def sample_where(allowed: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw up to k of the True columns of each row of `allowed` (..., T), uniformly without
    replacement: (indices (..., k), valid (..., k)); rows with fewer than k have invalid slots."""
    k = min(k, allowed.size(-1))
    scores = torch.rand(allowed.shape, device=allowed.device).masked_fill(~allowed, -1.0)
    top, index = scores.topk(k, dim=-1)
    return index, top >= 0


def signcl_loss(
    features: torch.Tensor, mask: torch.Tensor, cfg: ContrastiveConfig, margins: torch.Tensor
) -> torch.Tensor:
    """The SignCL loss of a batch (a scalar; 0 when no anchor has a positive and a negative).

    Args:
        features: sign features (B, T, D).
        mask: (B, T), True on real steps.
        cfg: distances, sample counts and `max_distance`.
        margins: (B,) negatives are more than this many steps from their anchor.
    """
    steps = torch.arange(features.size(1), device=features.device)
    gap = (steps[:, None] - steps[None, :]).abs()  # (T, T)
    real = mask[:, :, None] & mask[:, None, :]  # (B, T, T): anchor and partner are real
    positives = real & (gap >= 1) & (gap <= cfg.positive_distance)
    negatives = real & (gap > margins.to(gap.device)[:, None, None])
    terms = []
    for allowed, k, sign in ((positives, cfg.positive_samples, 1.0),
                             (negatives, cfg.negative_samples, -1.0)):  # fmt: skip
        index, valid = sample_where(allowed, k)  # (B, T, k)
        partners = features.gather(1, index.flatten(1)[..., None].expand(-1, -1, features.size(-1)))
        partners = partners.view(*index.shape, -1)  # (B, T, k, D)
        distance = (features[:, :, None].float() - partners.float()).abs().sum(-1)  # L1 (B, T, k)
        # positives: softplus(d - delta); negatives: softplus(delta - d)
        loss = F.softplus(sign * (distance - cfg.max_distance)) * valid
        terms.append((loss.sum(-1) / valid.sum(-1).clamp_min(1), valid.any(-1)))
    (pos_loss, has_pos), (neg_loss, has_neg) = terms
    anchors = mask & has_pos & has_neg  # (B, T)
    return ((pos_loss + neg_loss) * anchors).sum() / anchors.sum().clamp_min(1)


def text_units(text: str) -> int:
    """W of the `auto` margin: whitespace words, or characters for unspaced text (Chinese)."""
    words = text.split()
    return len(words) if len(words) > 1 else len("".join(words))


def contrastive_term(
    features: torch.Tensor, mask: torch.Tensor, cfg: ContrastiveConfig, texts: list[str]
) -> torch.Tensor | None:
    """weight * SignCL for a batch with sentences `texts` (for the `auto` margin), or None
    when SignCL is off (nothing computed, no random numbers drawn: the loss stays as it was)."""
    if not cfg.active:
        return None
    lengths = mask.sum(dim=1)
    if cfg.negative_margin == "auto":
        words = torch.tensor([text_units(t) for t in texts], device=lengths.device)
        margins = auto_margins(lengths, words, cfg.negative_samples)
    else:
        margins = torch.full_like(lengths, cfg.negative_margin)
    margins = margins.clamp_min(cfg.positive_distance)
    return cfg.weight * signcl_loss(features, mask, cfg, margins)
