"""A linear layer whose weights stay fixed for a while (a generation run), in the layout the
device multiplies fastest.

Why: a beam-search step multiplies only batch x beams rows (8 to 32) by every weight. On a CPU,
`F.linear` (a plain sgemm) is slow at so few rows; oneDNN's kernel with the weight packed once
(`torch.ops.mkldnn._reorder_linear_weight` / `_linear_pointwise`, the ops `torch.compile`'s
CPU backend uses for frozen weights) measured 1.4x to 3x faster per matmul on our 2-core AVX2
machine (32 x 1024 by 1024 x 32768: 41 -> 97 GFLOP/s; 8 rows: 16 -> 54). Elsewhere (GPU,
bf16, no oneDNN) it is plain `F.linear`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.nn.functional as F

ACTIVATIONS = {None: "none", "gelu": "gelu"}  # ours -> oneDNN post-op name


def can_pack(weight: torch.Tensor) -> bool:
    """Whether `weight` takes the packed oneDNN path (fp32 on a CPU with oneDNN)."""
    return (
        weight.device.type == "cpu"
        and weight.dtype == torch.float32
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )


def memory_available() -> int | None:
    """Bytes the OS can still hand out (Linux `MemAvailable`), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def packing_fits(weights: Iterable[torch.Tensor]) -> bool:
    """Whether packed copies of the packable `weights` take under half the free memory.

    Packing copies every weight (XGLM-1.7B: about 7 GB more), which a laptop may not have;
    then the plain `F.linear` path is used instead: slower, never out of memory.
    """
    needed = sum(w.numel() * w.element_size() for w in weights if can_pack(w))
    if needed == 0:  # nothing packs (GPU, bf16): no need to ask the OS
        return True
    available = memory_available()
    return available is None or needed < available // 2


class FixedLinear:
    """y = activation(x W^T + b) for a W and b that do not change while it is in use.

    The packed path holds its own copy of W; the plain path holds W itself (no copy: the
    full LM's weights would double on a GPU).

    Args:
        weight: (out, in).
        bias: (out,) or None.
        activation: None or "gelu" (fused into the matmul when packed).
        rows: the row count to tune the packed layout for (batch x beams).
        pack: False keeps the plain path even where packing is possible (`packing_fits`).
    """

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None = None,
        activation: str | None = None,
        rows: int = 32,
        pack: bool = True,
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(map(str, ACTIVATIONS))}")
        self.activation = activation
        self.bias = None if bias is None else bias.detach()
        self.packed = pack and can_pack(weight)
        weight = weight.detach()
        if self.packed:
            weight = torch.ops.mkldnn._reorder_linear_weight(weight, batch_size=rows)
        self.weight = weight

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed:  # fp32 inputs (a CPU autocast region may hand it bf16)
            x = x.to(torch.float32)
            post_op, scalars, algorithm = ACTIVATIONS[self.activation], [], "none"
            return torch.ops.mkldnn._linear_pointwise(
                x, self.weight, self.bias, post_op, scalars, algorithm
            )
        out = F.linear(x, self.weight, self.bias)
        return out if self.activation is None else F.gelu(out)
