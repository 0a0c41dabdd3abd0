"""Zero-gated cross-attention to the sign features, placed inside an LM's self-attention.

It reuses the layer's frozen q/k/v projections, each with its own LoRA' (separate from the
self-attention LoRA), and multiplies each head's output by a gate that starts at 0, so a
fresh adapter leaves the pretrained LM unchanged. Any LM family's attention uses it the same
way (see `xglm.py`): `memory(...)` once per sign sequence, then `query(...)` and `forward(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.models.config import LoRAConfig
from sign2gpt.models.layers.gate import clamp_straight_through
from sign2gpt.models.layers.lora import LoRA, LoRALinear


@dataclass
class SignMemory:
    """One layer's keys/values of the sign features, computed once and reused every step.

    Attributes:
        keys, values: (B, H_kv, S, head_dim).
        mask: (B, 1, 1, S) bool, True on real sign positions.
    """

    keys: torch.Tensor
    values: torch.Tensor
    mask: torch.Tensor

    def select(self, index: torch.Tensor) -> SignMemory:
        """Keep rows `index` of the batch (generation drops finished samples)."""
        return SignMemory(*(t.index_select(0, index) for t in (self.keys, self.values, self.mask)))


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, L, H * head_dim) -> (B, H, L, head_dim)."""
    batch, length, _ = x.shape
    return x.view(batch, length, num_heads, -1).transpose(1, 2)


class SignCrossAttention(nn.Module):
    """LoRA'_q, LoRA'_k, LoRA'_v and one gate per head.

    Args:
        d_model: LM width (query input and sign input width).
        q_dim: output width of the LM's q projection.
        kv_dim: output width of its k/v projections (smaller than q_dim with grouped queries).
        num_heads: query heads (one gate each).
        lora: adapter settings.
        kv_init: init of LoRA'_k and LoRA'_v (`LoRA`'s `init`; LoRA'_q is always `zero_b`).
        dropout: dropout on the attention probabilities while training.
    """

    def __init__(
        self,
        d_model: int,
        q_dim: int,
        kv_dim: int,
        num_heads: int,
        lora: LoRAConfig,
        kv_init: Literal["zero_b", "linear"] = "zero_b",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.num_heads = num_heads
        self.dropout = dropout
        self.lora_q = LoRA(d_model, q_dim, lora)
        self.lora_k = LoRA(d_model, kv_dim, lora, init=kv_init)
        self.lora_v = LoRA(d_model, kv_dim, lora, init=kv_init)
        self.gate = nn.Parameter(torch.zeros(num_heads))
        # The clamped gate (1, H, 1, 1), precomputed while adapters are merged (inference).
        self.frozen_gate: torch.Tensor | None = None

    def memory(
        self,
        signs: torch.Tensor,
        sign_mask: torch.Tensor,
        k_proj: LoRALinear,
        v_proj: LoRALinear,
        num_kv_heads: int,
    ) -> SignMemory:
        """Keys/values of normalised sign features (B, S, d_model) through the frozen k/v."""
        keys = k_proj.base(signs) + self.lora_k(signs)
        values = v_proj.base(signs) + self.lora_v(signs)
        return SignMemory(
            keys=split_heads(keys, num_kv_heads),
            values=split_heads(values, num_kv_heads),
            mask=sign_mask[:, None, None, :].bool(),
        )

    def query(self, hidden: torch.Tensor, base_q: torch.Tensor) -> torch.Tensor:
        """Cross-attention query (B, H, L, head_dim) = frozen q_proj(h) + LoRA'_q(h)."""
        return split_heads(base_q + self.lora_q(hidden), self.num_heads)

    def forward(self, query: torch.Tensor, memory: SignMemory) -> torch.Tensor:
        """Gated attention output (N, H, L, head_dim), to add to the self-attention heads.

        `query` may hold G = N / B consecutive rows per memory row (the beams of one video
        in beam search): they attend as G x L query positions of that row, so the sign
        keys/values are stored and read once per video, not once per beam.
        """
        rows, heads, length, head_dim = query.shape
        group = rows // memory.keys.size(0)
        if group > 1:  # (B * G, H, L, hd) -> (B, H, G * L, hd)
            query = query.view(-1, group, heads, length, head_dim).transpose(1, 2)
            query = query.reshape(-1, heads, group * length, head_dim)
        out = F.scaled_dot_product_attention(
            query, memory.keys, memory.values, attn_mask=memory.mask,
            dropout_p=self.dropout if self.training else 0.0,
            enable_gqa=memory.keys.size(1) != heads,
        )  # fmt: skip
        if group > 1:
            out = out.view(-1, heads, group, length, head_dim).transpose(1, 2)
            out = out.reshape(rows, heads, length, head_dim)
        gate = self.frozen_gate
        if gate is None:
            gate = clamp_straight_through(self.gate, 0.0, 1.0).to(out.dtype)[None, :, None, None]
        return out * gate.to(out.dtype)
