"""Stochastic depth: drop a residual branch for whole samples during training."""

from __future__ import annotations

import torch
from torch import nn


class DropPath(nn.Module):
    """Zero the branch for a random subset of samples, rescaling the rest by 1 / keep."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        shape = (x.size(0),) + (1,) * (x.dim() - 1)  # one draw per sample
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep
