"""Temporal average pooling (kernel 3, stride 2, padding 1) that halves the frame rate: two
rules for padding (`sign_encoder.temporal_pool`)."""

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


def zero_padded_avg_pool(
    x: torch.Tensor, mask: torch.Tensor, kernel: int = 3, stride: int = 2, padding: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """The authors' pool: plain avg_pool1d over the frames with padding set to zero.

    Every window is divided by `kernel`, however many of its frames are real (so a video's
    last step is damped when padding or the border falls in its window); a step is valid when
    any frame of its window is, and the first step always is. Unlike the authors' code the
    padded positions are zeroed first and an even-length input gets one more zero frame, so a
    video gives the same steps alone as in any padded batch (its last real frame, when its
    length is even, makes one more step: (x[-1] + 0 + 0) / 3).

    Args:
        x: features (B, T, D).
        mask: (B, T), True on real frames.
    Returns:
        pooled features (B, T', D) and mask (B, T'), T' = T // 2 + 1 for the default sizes.
    """
    pool = {"kernel_size": kernel, "stride": stride, "padding": padding}
    if x.size(1) % stride == 0:  # the zero frame after an even-length video, always there
        x, mask = F.pad(x, (0, 0, 0, 1)), F.pad(mask, (0, 1))
    zeroed = x.transpose(1, 2) * mask.to(x.dtype).unsqueeze(1)  # (B, D, T)
    pooled = F.avg_pool1d(zeroed, count_include_pad=True, **pool)
    valid = F.max_pool1d(mask.float().unsqueeze(1), **pool).squeeze(1) > 0  # any real
    valid[:, 0] = True  # the decoder always has one sign position to attend to
    return pooled.transpose(1, 2), valid
