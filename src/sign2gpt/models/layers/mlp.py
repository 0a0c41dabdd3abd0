"""Two-layer feed-forward block (fc1 -> GELU -> dropout -> fc2), optionally with LoRA."""

from __future__ import annotations

import torch
from torch import nn

from sign2gpt.models.config import LoRAConfig
from sign2gpt.models.layers.lora import LoRALinear


class Mlp(nn.Module):
    """The ViT / transformer FFN; parameter names `fc1`, `fc2` match DINOv2's."""

    def __init__(
        self, dim: int, hidden: int, *, dropout: float = 0.0, lora: LoRAConfig | None = None
    ):
        super().__init__()
        self.fc1 = LoRALinear(dim, hidden, lora)
        self.act = nn.GELU()
        self.dropout = nn.Dropout(dropout)
        self.fc2 = LoRALinear(hidden, dim, lora)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.dropout(self.act(self.fc1(x))))
