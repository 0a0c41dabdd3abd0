"""Clamping with a straight-through gradient, for the zero-initialised cross-attention gates."""

from __future__ import annotations

import torch


def clamp_straight_through(x: torch.Tensor, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Forward: `x.clamp(low, high)`. Backward: identity, so a gate at 0 still gets a gradient."""
    return x + (x.clamp(low, high) - x).detach()
