"""Self-attention with LoRA on q/k/v/out and the gated sign cross-attention inside, shared by
every LM family (XGLM, Llama, Qwen2); a family names its output projection and biases.

q, k, v and the cross-attention query (which shares the frozen q projection) come from one
stacked matmul plus one stacked LoRA. During generation `fix_weights` folds the LoRAs into one
(q + 2 kv, d) weight, and the cross-attention query becomes q plus a rank-2r correction (its
LoRA' minus q's LoRA), so no second d x d weight is streamed per step. Grouped-query
attention (fewer key/value heads) and rotary positions (rotated before the cache) are options.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.models.config import DecoderConfig
from sign2gpt.models.decoder.base import self_attention_mask
from sign2gpt.models.decoder.kv_cache import KVCache
from sign2gpt.models.decoder.sign_attention import SignCrossAttention, SignMemory, split_heads
from sign2gpt.models.decoder.static_step import StaticKVCache
from sign2gpt.models.layers.fixed_linear import FixedLinear
from sign2gpt.models.layers.lora import LoRALinear, merged_weight, stacked_lora
from sign2gpt.models.layers.rotary import rotate

# cos and sin (L, head_dim) of the positions of the tokens in this forward, or None.
Rotary = tuple[torch.Tensor, torch.Tensor] | None


@dataclass
class FixedAttention:
    """An attention layer's weights while fixed for generation (see `GatedSelfAttention`)."""

    qkv: FixedLinear
    out: FixedLinear
    down: torch.Tensor
    up: torch.Tensor


def _cat_biases(linears: tuple[nn.Linear, ...]) -> torch.Tensor | None:
    """The stacked biases of linears that all have one, or None when none has."""
    if linears[0].bias is None:
        return None
    return torch.cat([p.bias for p in linears])


class GatedSelfAttention(nn.Module):
    """Self-attention (`q_proj`, `k_proj`, `v_proj` and the output projection named
    `out_name`) with LoRA on each and a `SignCrossAttention` (`sign`).

    Args:
        cfg: the decoder config (width, heads, key/value heads, LoRA, dropout).
        layer: index of this layer (its slot in the key/value cache).
        qkv_bias: whether q/k/v have biases (XGLM, Qwen2: yes; Llama: no).
        out_bias: whether the output projection has one (XGLM only).
        out_name: the output projection's parameter name (`out_proj` in XGLM, `o_proj` in
            Llama), so checkpoints load without renaming.
    """

    def __init__(
        self,
        cfg: DecoderConfig,
        layer: int,
        qkv_bias: bool = True,
        out_bias: bool = True,
        out_name: str = "out_proj",
    ):
        super().__init__()
        d, head_dim = cfg.d_model, cfg.head_dim
        self.layer = layer
        self.num_heads = cfg.num_heads
        self.num_kv_heads = cfg.kv_heads
        self.q_dim, self.kv_dim = cfg.num_heads * head_dim, cfg.kv_heads * head_dim
        self.dropout = cfg.attention_dropout
        self.q_proj = LoRALinear(d, self.q_dim, cfg.lora, bias=qkv_bias)
        self.k_proj = LoRALinear(d, self.kv_dim, cfg.lora, bias=qkv_bias)
        self.v_proj = LoRALinear(d, self.kv_dim, cfg.lora, bias=qkv_bias)
        self.out_name = out_name
        # The authors' code has no dropout on the output projection's LoRA
        # (`decoder.out_proj_lora_dropout`) and one mask per LoRA (`lora_shared_dropout`).
        out_lora = cfg.lora if cfg.out_proj_lora_dropout else replace(cfg.lora, dropout=0.0)
        setattr(self, out_name, LoRALinear(self.q_dim, d, out_lora, bias=out_bias))
        self.shared_dropout = cfg.lora_shared_dropout
        self.sign = SignCrossAttention(
            d, self.q_dim, self.kv_dim, cfg.num_heads, cfg.lora,
            cfg.sign_kv_lora_init, cfg.sign_attention_dropout,
        )  # fmt: skip
        # While `fix_weights` is active: the qkv and out projections with their LoRAs folded
        # in, and the cross-query correction factors (2r, d), (q_dim, 2r).
        self.fixed: FixedAttention | None = None

    @property
    def output_projection(self) -> LoRALinear:
        return getattr(self, self.out_name)

    def projections(
        self, hidden: torch.Tensor, with_sign: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, L, d) -> q, k, v stacked (B, L, q + 2 kv) and the cross query (B, L, q)."""
        q_dim = self.q_dim
        if self.fixed is not None:
            fixed = self.fixed
            qkv = fixed.qkv(hidden)
            if not with_sign:
                return qkv, None
            return qkv, qkv[..., :q_dim] + (hidden @ fixed.down.t()) @ fixed.up.t()
        linears = (self.q_proj, self.k_proj, self.v_proj)
        base = F.linear(hidden, torch.cat([p.weight for p in linears]), _cat_biases(linears))
        loras = [p.lora for p in linears] + ([self.sign.lora_q] if with_sign else [])
        delta = stacked_lora(hidden, loras, self.shared_dropout)  # (B, L, q + 2 kv [+ q])
        width = q_dim + 2 * self.kv_dim
        qkv = base + delta[..., :width]
        return qkv, (base[..., :q_dim] + delta[..., width:]) if with_sign else None

    def fix_weights(self, rows: int, pack: bool) -> None:
        """Fold the LoRAs into the frozen weights (inference: fixed until `unfix_weights`)."""
        linears = (self.q_proj, self.k_proj, self.v_proj)
        weight = torch.cat([merged_weight(p) for p in linears])
        out = self.output_projection
        cross, own = self.sign.lora_q, self.q_proj.lora
        self.fixed = FixedAttention(
            qkv=FixedLinear(weight, _cat_biases(linears), rows=rows, pack=pack),
            out=FixedLinear(merged_weight(out), out.bias, rows=rows, pack=pack),
            down=torch.cat([cross.A, own.A]),  # (2r, d)
            up=torch.cat([cross.B * cross.scale, -own.B * own.scale], dim=1),  # (q, 2r)
        )
        self.sign.frozen_gate = self.sign.gate.clamp(0.0, 1.0)[None, :, None, None]

    def unfix_weights(self) -> None:
        self.fixed = self.sign.frozen_gate = None

    def forward(
        self,
        hidden: torch.Tensor,
        mask: torch.Tensor | None,
        memory: SignMemory | None,
        cache: KVCache | StaticKVCache | None,
        rotary: Rotary = None,
    ) -> torch.Tensor:
        """Normalised hidden states (B, L, d) -> attention output (B, L, d).

        `mask` None: plain causal attention (no padding to hide). `rotary`: cos/sin of the
        tokens' positions, applied to queries and keys (before they enter the cache).
        """
        qkv, cross = self.projections(hidden, memory is not None)
        parts = qkv.split((self.q_dim, self.kv_dim, self.kv_dim), dim=-1)
        q = split_heads(parts[0], self.num_heads)  # (B, H, L, hd)
        k, v = (split_heads(x, self.num_kv_heads) for x in parts[1:])  # (B, H_kv, L, hd)
        if rotary is not None:  # cos/sin in q's dtype (bf16 under autocast)
            cos, sin = (t.to(q.dtype) for t in rotary)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        length = q.size(-2)
        if cache is not None:
            k, v = cache.update(self.layer, k, v)
        dropout = self.dropout if self.training else 0.0
        causal = mask is None and length > 1
        if causal and k.size(-2) != length:  # several new tokens after cached ones
            mask, causal = self_attention_mask(None, length, k.size(-2) - length, q.device), False
        grouped = self.num_kv_heads != self.num_heads
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=causal, enable_gqa=grouped
        )  # (B, H, L, hd)
        if memory is not None:
            out = out + self.sign(split_heads(cross, self.num_heads), memory)
        out = out.transpose(1, 2).reshape(out.size(0), length, -1)
        if self.fixed is not None:
            return self.fixed.out(out)
        return self.output_projection(out)

    def sign_memory(self, signs: torch.Tensor, sign_mask: torch.Tensor) -> SignMemory:
        """Sign keys/values (already normalised by the layer's input norm) per key/value head."""
        return self.sign.memory(signs, sign_mask, self.k_proj, self.v_proj, self.num_kv_heads)
