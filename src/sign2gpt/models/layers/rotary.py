"""Rotary position embeddings (RoFormer), applied to queries and keys per head.

The sign encoder rotates positions 0..T-1 (`RotaryEmbedding`); the rotary LM families
(`decoder/llama.py`) rotate arbitrary positions with Llama 3's frequency scaling
(`inverse_frequencies`, `rotary_angles`, `rotate`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sign2gpt.models.config import RopeScalingConfig


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x * cos + rotate_half(x) * sin ("rotate half" layout: channel i pairs with i + hd/2)."""
    first, second = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-second, first), dim=-1) * sin


def inverse_frequencies(
    head_dim: int, base: float, scaling: RopeScalingConfig | None = None
) -> torch.Tensor:
    """The (head_dim / 2,) float32 angular frequencies base^(-2i / head_dim), optionally with
    the `llama3` scaling: wavelengths beyond the original context are slowed by `factor`,
    those under original / high_freq_factor kept, the band between interpolated smoothly."""
    exponents = torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim
    inv_freq = 1.0 / (base**exponents)  # the formula of the released models, to the last bit
    if scaling is None:
        return inv_freq
    context = scaling.original_max_position_embeddings
    wavelength = 2 * math.pi / inv_freq
    slowed = torch.where(
        wavelength > context / scaling.low_freq_factor, inv_freq / scaling.factor, inv_freq
    )
    smooth = (context / wavelength - scaling.low_freq_factor) / (
        scaling.high_freq_factor - scaling.low_freq_factor
    )
    blended = (1 - smooth) * slowed / scaling.factor + smooth * slowed
    middle = (wavelength >= context / scaling.high_freq_factor) & (
        wavelength <= context / scaling.low_freq_factor
    )
    return torch.where(middle, blended, slowed)


def rotary_angles(
    inv_freq: torch.Tensor, positions: torch.Tensor, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin (L, head_dim) for `positions` (L,), computed in float32, cast to `dtype`."""
    angles = positions.float()[:, None] * inv_freq.to(positions.device)[None, :]
    angles = torch.cat((angles, angles), dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


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
        return rotate(x, cos, sin)
