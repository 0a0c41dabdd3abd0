"""Adding SignCL (`model.sign_encoder.contrastive`) to a stage's loss, in stage 1 and stage 2."""

from __future__ import annotations

import torch

from sign2gpt.models.contrastive import contrastive_term
from sign2gpt.models.sign2gpt import Sign2GPT


def add_contrastive(
    loss: torch.Tensor,
    logs: dict[str, float],
    model: Sign2GPT,
    features: torch.Tensor,
    mask: torch.Tensor,
    texts: list[str],
) -> tuple[torch.Tensor, dict[str, float]]:
    """(loss + weight * SignCL, logs with `signcl`: the unweighted SignCL and `task_loss`: the
    loss without it); the loss and logs unchanged when SignCL is off or the visual side is
    frozen (Sign(Z)2GPT: no gradient would reach the features)."""
    cfg = model.cfg.sign_encoder.contrastive
    term = None if model.cfg.freeze_visual else contrastive_term(features, mask, cfg, texts)
    if term is None:
        return loss, logs
    logs = {**logs, "signcl": term.item() / cfg.weight, "task_loss": loss.item()}
    return loss + term, logs
