"""Learning-rate schedule of the paper: one-cycle cosine with linear warm-up, per iteration."""

from __future__ import annotations

import math

import torch


def one_cycle_cosine(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup_steps: int,
    *,
    start_lr: float | None = None,
    final_lr: float = 0.0,
    peak_lr: float | None = None,
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up to the base lr over `warmup_steps`, then cosine decay to `final_lr`.

    Args:
        optimizer: its groups' lr is the peak (`train.lr`).
        total_steps: optimizer steps of the whole run.
        warmup_steps: steps of the linear warm-up.
        start_lr: lr of step 0 (the authors': lr / 100 = 3e-6); None = lr / (warmup_steps + 1),
            the first step of a ramp that starts at 0.
        final_lr: lr the cosine reaches at `total_steps` (the authors': 3e-6).
        peak_lr: the lr that `start_lr` and `final_lr` belong to (`train.lr`; default the
            first group's); a group with another lr (`train.lr_scale`) gets the same ratios.
    """
    total_steps = max(total_steps, 1)
    warmup_steps = min(max(warmup_steps, 0), total_steps - 1)
    peak = optimizer.param_groups[0]["lr"] if peak_lr is None else peak_lr
    start = None if start_lr is None else start_lr / peak
    end = final_lr / peak

    def factor(step: int) -> float:
        if step < warmup_steps:
            if start is None:
                return (step + 1) / (warmup_steps + 1)
            return start + (1.0 - start) * step / warmup_steps
        progress = (step - warmup_steps) / max(total_steps - warmup_steps, 1)
        return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
