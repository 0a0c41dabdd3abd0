"""Masked temporal average pooling (kernel 3, stride 2, padding 1) that halves the frame rate."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_avg_pool(
    x: torch.Tensor, mask: torch.Tensor, kernel: int = 3, stride: int = 2, padding: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Average each window over its real frames only; a window is real if its centre frame is.

    Padding frames never leak in, and the output length of a video (ceil(T / 2) for the
    default sizes) does not depend on how much padding follows it, so a video gives the same
    result alone as in a padded batch.

    Args:
        x: features (B, T, D).
        mask: (B, T), True on real frames.
    Returns:
        pooled features (B, T', D) and mask (B, T'), T' = (T + 2 * padding - kernel) // stride + 1.
    """
    weights = mask.to(x.dtype).unsqueeze(1)  # (B, 1, T)
    pool = {"kernel_size": kernel, "stride": stride, "padding": padding}
    summed = F.avg_pool1d(x.transpose(1, 2) * weights, count_include_pad=True, **pool)
    counts = F.avg_pool1d(weights, count_include_pad=True, **pool)  # (B, 1, T') fraction real
    pooled = summed / counts.clamp_min(1e-6)  # both scaled by 1/kernel, which cancels
    centres = mask[:, kernel // 2 - padding :: stride][:, : pooled.size(-1)]  # (B, T')
    return pooled.transpose(1, 2), centres
