"""Fixed sinusoidal position encodings (the tensor2tensor layout that fairseq and XGLM use)."""

from __future__ import annotations

import math

import torch


def sinusoidal_encoding(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Encode integer positions (L,) as (L, dim) float32: sin of all frequencies, then cos.

    Computed on the fly (no buffer), so it works on any device, including `meta`.

    Args:
        positions: position indices.
        dim: encoding width (odd widths get a zero last column).
    """
    half = dim // 2
    step = math.log(10000) / (half - 1)
    freqs = torch.exp(torch.arange(half, device=positions.device, dtype=torch.float32) * -step)
    angles = positions.float()[:, None] * freqs  # (L, half)
    table = torch.cat([angles.sin(), angles.cos()], dim=1)
    if dim % 2:
        table = torch.cat([table, table.new_zeros(table.size(0), 1)], dim=1)
    return table


def interleaved_sinusoidal_encoding(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Encode positions (L,) as (L, dim) float32 in the "Attention is all you need" layout.

    Column 2i is sin(p / 10000^(2i / dim)) and column 2i + 1 is cos of the same angle (sin and
    cos interleaved, unlike `sinusoidal_encoding`); the sign encoder's input encoding.
    """
    pairs = torch.arange(dim, device=positions.device) // 2
    freqs = torch.exp(pairs.float() * (-math.log(10000) * 2 / dim))  # (dim,)
    angles = positions.float()[:, None] * freqs  # (L, dim)
    even = torch.arange(dim, device=positions.device) % 2 == 0
    return torch.where(even, angles.sin(), angles.cos())
