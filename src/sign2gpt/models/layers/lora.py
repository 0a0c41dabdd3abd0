"""LoRA: a trainable low-rank update beside a frozen linear layer.

Names matter: every LoRA parameter lives in a module attribute containing `lora`, which is
how `sign2gpt.models.adapters.is_adapter_name` finds what trains and what an adapter
checkpoint saves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from sign2gpt.models.config import LoRAConfig


class LoRA(nn.Module):
    """The low-rank delta alone: x -> dropout(x) A^T B^T * alpha / r.

    init `zero_b`: A starts ~ N(0, init_std) and B at zero, so a fresh adapter changes nothing.
    init `linear`: A and B start as two `nn.Linear` weights do (uniform in +-1/sqrt(fan_in)),
    so B is not zero (the authors' cross-attention LoRA'_k and LoRA'_v).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        cfg: LoRAConfig,
        init: Literal["zero_b", "linear"] = "zero_b",
    ):
        super().__init__()
        self.A = nn.Parameter(torch.empty(cfg.r, in_features))
        self.B = nn.Parameter(torch.zeros(out_features, cfg.r))
        self.dropout = nn.Dropout(cfg.dropout)
        self.scale = cfg.scale
        self.init_std = cfg.init_std
        self.init = init
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.init == "linear":  # what nn.Linear.reset_parameters does to its weight
            nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
            nn.init.kaiming_uniform_(self.B, a=math.sqrt(5))
            return
        nn.init.normal_(self.A, std=self.init_std)
        nn.init.zeros_(self.B)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (..., in) -> (..., r) -> (..., out)
        return (self.dropout(x) @ self.A.t()) @ self.B.t() * self.scale


class LoRALinear(nn.Linear):
    """`nn.Linear` plus an optional LoRA; keeps the plain layer's parameter names."""

    def __init__(
        self, in_features: int, out_features: int, lora: LoRAConfig | None, bias: bool = True
    ):
        super().__init__(in_features, out_features, bias=bias)
        self.lora = LoRA(in_features, out_features, lora) if lora is not None else None

    def base(self, x: torch.Tensor) -> torch.Tensor:
        """The frozen projection without the adapter."""
        return super().forward(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out if self.lora is None else out + self.lora(x)


def stacked_lora(
    x: torch.Tensor, loras: Sequence[LoRA], shared_dropout: bool = True
) -> torch.Tensor:
    """The outputs of several LoRAs on the same input, concatenated, in two matmuls.

    Why: one (in -> n*r) and one block-diagonal (n*r -> sum of outs) product replace 2n small
    matmuls (launch overhead on a GPU, per-op overhead on a CPU). All must share rank, scale
    and dropout probability; one dropout mask serves them all.

    Args:
        x: (..., in) input.
        loras: the adapters, in output order.
        shared_dropout: false = each LoRA draws its own dropout mask while training (one
            product per LoRA then; in eval mode there is no mask and the stacked path runs).
    Returns:
        (..., sum of out_features).
    """
    first = loras[0]
    if not shared_dropout and first.dropout.training and first.dropout.p > 0:
        return torch.cat([lora(x) for lora in loras], dim=-1)
    a = torch.cat([lora.A for lora in loras])  # (n * r, in)
    b = torch.block_diag(*[lora.B for lora in loras]) * first.scale  # (sum out, n * r)
    return (first.dropout(x) @ a.t()) @ b.t()


def merged_weight(linear: LoRALinear, lora: LoRA | None = None) -> torch.Tensor:
    """The frozen weight with a LoRA folded in, W + scale * B A (for inference only).

    Args:
        linear: the layer.
        lora: the adapter to fold in; default: the layer's own.
    """
    lora = lora if lora is not None else linear.lora
    if lora is None:
        return linear.weight
    return torch.addmm(linear.weight, lora.B, lora.A, alpha=lora.scale)
