"""Layer scale (CaiT): a learnable per-channel factor on a residual branch."""

from __future__ import annotations

import torch
from torch import nn


class LayerScale(nn.Module):
    """x -> gamma * x, gamma initialised to a small constant so a new block starts near identity."""

    def __init__(self, dim: int, init: float = 1e-5):
        super().__init__()
        self.init = init
        self.gamma = nn.Parameter(torch.full((dim,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma
