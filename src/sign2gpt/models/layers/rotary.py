"""Rotary position embeddings (RoFormer), applied to queries and keys per head."""

from __future__ import annotations

import torch
from torch import nn


class RotaryEmbedding(nn.Module):
    """Rotates pairs of channels by position-dependent angles (the "rotate half" layout)."""

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        self.head_dim = head_dim
        self.base = base

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rotate `x` (B, H, T, head_dim) by the positions 0..T-1."""
        exponents = torch.arange(0, self.head_dim, 2, device=x.device, dtype=torch.float32)
        inv_freq = self.base ** (-exponents / self.head_dim)  # (head_dim / 2,)
        positions = torch.arange(x.size(-2), device=x.device, dtype=torch.float32)
        angles = torch.outer(positions, inv_freq)  # (T, head_dim / 2)
        cos = angles.cos().repeat(1, 2).to(x.dtype)  # (T, head_dim)
        sin = angles.sin().repeat(1, 2).to(x.dtype)
        first, second = x.chunk(2, dim=-1)
        rotated = torch.cat((-second, first), dim=-1)
        return x * cos + rotated * sin
