"""XGLM (Lin et al. 2022) as a sign-conditioned decoder; loads Hugging Face XGLM checkpoints.

Parameter names follow `transformers`' `XGLMForCausalLM` (`model.layers.3.self_attn.q_proj`),
so a checkpoint folder loads without renaming. Architecture: scaled token embedding plus
sinusoidal positions (offset 2), pre-norm layers (self-attention, GELU FFN), final LayerNorm,
output projection tied to the token embedding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.models.config import DecoderConfig
from sign2gpt.models.decoder.base import SignDecoder, register_family, self_attention_mask
from sign2gpt.models.decoder.kv_cache import KVCache
from sign2gpt.models.decoder.sign_attention import SignCrossAttention, SignMemory, split_heads
from sign2gpt.models.decoder.static_step import StaticKVCache
from sign2gpt.models.layers.fixed_linear import FixedLinear
from sign2gpt.models.layers.lora import LoRALinear, merged_weight, stacked_lora
from sign2gpt.models.layers.sinusoidal import sinusoidal_encoding

# XGLM (like fairseq) reserves the first two sinusoidal positions for padding.
POSITION_OFFSET = 2


@dataclass
class FixedAttention:
    """An attention layer's weights while fixed for generation (see `XGLMAttention`)."""

    qkv: FixedLinear
    out: FixedLinear
    down: torch.Tensor
    up: torch.Tensor


class XGLMAttention(nn.Module):
    """Self-attention with LoRA on q/k/v/out and the gated sign cross-attention inside.

    q, k, v and the cross-attention query (which shares the frozen q projection) come from
    one stacked matmul plus one stacked LoRA. During generation `fix_weights` folds the
    LoRAs into one (3d, d) weight, and the cross-attention query becomes q plus a rank-2r
    correction (its LoRA' minus q's LoRA), so no second d x d weight is streamed per step.
    """

    def __init__(self, cfg: DecoderConfig, layer: int):
        super().__init__()
        d = cfg.d_model
        self.layer = layer
        self.num_heads = cfg.num_heads
        self.dropout = cfg.attention_dropout
        self.q_proj = LoRALinear(d, d, cfg.lora)
        self.k_proj = LoRALinear(d, d, cfg.lora)
        self.v_proj = LoRALinear(d, d, cfg.lora)
        out_lora = cfg.lora if cfg.out_proj_lora_dropout else replace(cfg.lora, dropout=0.0)
        self.out_proj = LoRALinear(d, d, out_lora)
        self.shared_dropout = cfg.lora_shared_dropout
        self.sign = SignCrossAttention(
            d, d, d, cfg.num_heads, cfg.lora, cfg.sign_kv_lora_init, cfg.sign_attention_dropout
        )
        # While `fix_weights` is active: the qkv and out projections with their LoRAs folded
        # in, and the cross-query correction factors (2r, d), (d, 2r).
        self.fixed: FixedAttention | None = None

    def projections(
        self, hidden: torch.Tensor, with_sign: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, L, d) -> q, k, v stacked (B, L, 3d) and the cross-attention query (B, L, d)."""
        d = hidden.size(-1)
        if self.fixed is not None:
            fixed = self.fixed
            qkv = fixed.qkv(hidden)
            cross = qkv[..., :d] + (hidden @ fixed.down.t()) @ fixed.up.t() if with_sign else None
            return qkv, cross
        linears = (self.q_proj, self.k_proj, self.v_proj)
        base = F.linear(
            hidden, torch.cat([p.weight for p in linears]), torch.cat([p.bias for p in linears])
        )  # (B, L, 3d): frozen q, k, v
        loras = [p.lora for p in linears] + ([self.sign.lora_q] if with_sign else [])
        delta = stacked_lora(hidden, loras, self.shared_dropout)  # (B, L, 3d or 4d)
        qkv = base + delta[..., : 3 * d]
        return qkv, (base[..., :d] + delta[..., 3 * d :]) if with_sign else None

    def fix_weights(self, rows: int, pack: bool) -> None:
        """Fold the LoRAs into the frozen weights (inference: fixed until `unfix_weights`)."""
        q, k, v = self.q_proj, self.k_proj, self.v_proj
        weight = torch.cat([merged_weight(q), merged_weight(k), merged_weight(v)])
        bias = torch.cat([q.bias, k.bias, v.bias])
        cross, own = self.sign.lora_q, q.lora
        self.fixed = FixedAttention(
            qkv=FixedLinear(weight, bias, rows=rows, pack=pack),
            out=FixedLinear(merged_weight(self.out_proj), self.out_proj.bias, rows=rows, pack=pack),
            down=torch.cat([cross.A, own.A]),  # (2r, d)
            up=torch.cat([cross.B * cross.scale, -own.B * own.scale], dim=1),  # (d, 2r)
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
    ) -> torch.Tensor:
        """Normalised hidden states (B, L, d) -> attention output (B, L, d).

        `mask` None: plain causal attention (no padding to hide).
        """
        qkv, cross = self.projections(hidden, memory is not None)
        parts = qkv.split(hidden.size(-1), dim=-1)
        q, k, v = (split_heads(x, self.num_heads) for x in parts)  # (B, H, L, hd)
        length = q.size(-2)
        if cache is not None:
            k, v = cache.update(self.layer, k, v)
        dropout = self.dropout if self.training else 0.0
        causal = mask is None and length > 1
        if causal and k.size(-2) != length:  # several new tokens after cached ones
            mask, causal = self_attention_mask(None, length, k.size(-2) - length, q.device), False
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=causal
        )  # (B, H, L, hd)
        if memory is not None:
            out = out + self.sign(split_heads(cross, self.num_heads), memory)
        batch = out.size(0)
        out = out.transpose(1, 2).reshape(batch, length, -1)
        if self.fixed is not None:
            return self.fixed.out(out)
        return self.out_proj(out)

    def sign_memory(self, signs: torch.Tensor, sign_mask: torch.Tensor) -> SignMemory:
        return self.sign.memory(signs, sign_mask, self.k_proj, self.v_proj, self.num_heads)


class XGLMLayer(nn.Module):
    """Pre-norm decoder layer: x + attn(norm(x)), then x + fc2(gelu(fc1(norm(x))))."""

    def __init__(self, cfg: DecoderConfig, layer: int):
        super().__init__()
        self.dropout = nn.Dropout(cfg.dropout)
        self.self_attn_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.self_attn = XGLMAttention(cfg, layer)
        self.final_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.fc1 = nn.Linear(cfg.d_model, cfg.ffn_dim)
        self.activation_dropout = nn.Dropout(cfg.activation_dropout)
        self.fc2 = nn.Linear(cfg.ffn_dim, cfg.d_model)
        # While `fix_weights` is active: fc1 with the GELU fused in, and fc2.
        self.fixed_ffn: tuple[FixedLinear, FixedLinear] | None = None

    def fix_weights(self, rows: int, pack: bool) -> None:
        """Fix the FFN weights in the device's fastest layout (inference)."""
        fc1, fc2 = self.fc1, self.fc2
        self.fixed_ffn = (
            FixedLinear(fc1.weight, fc1.bias, activation="gelu", rows=rows, pack=pack),
            FixedLinear(fc2.weight, fc2.bias, rows=rows, pack=pack),
        )

    def unfix_weights(self) -> None:
        self.fixed_ffn = None

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        memory: SignMemory | None,
        cache: KVCache | StaticKVCache | None,
    ) -> torch.Tensor:
        x = x + self.dropout(self.self_attn(self.self_attn_layer_norm(x), mask, memory, cache))
        if self.fixed_ffn is not None:  # inference: no dropout
            fc1_gelu, fc2 = self.fixed_ffn
            return x + fc2(fc1_gelu(self.final_layer_norm(x)))
        hidden = self.activation_dropout(F.gelu(self.fc1(self.final_layer_norm(x))))
        return x + self.dropout(self.fc2(hidden))

    def sign_memory(self, signs: torch.Tensor, sign_mask: torch.Tensor) -> SignMemory:
        # The sign features go through this layer's frozen self-attention LayerNorm first.
        return self.self_attn.sign_memory(self.self_attn_layer_norm(signs), sign_mask)


class XGLMModel(nn.Module):
    """Embeddings, layers and final norm (the `model.` part of `XGLMForCausalLM`)."""

    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.embed_scale = math.sqrt(cfg.d_model) if cfg.scale_embedding else 1.0
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=cfg.pad_id)
        self.layers = nn.ModuleList(XGLMLayer(cfg, i) for i in range(cfg.num_layers))
        self.layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)
        nn.init.normal_(self.embed_tokens.weight, std=0.02)


@register_family("xglm")
class XGLMSignDecoder(SignDecoder):
    """XGLM with sign adapters; see `SignDecoder` for the public methods."""

    block_types = (XGLMLayer,)

    def __init__(self, cfg: DecoderConfig):
        super().__init__(cfg)
        self.model = XGLMModel(cfg)
        self.fixed_head: FixedLinear | None = None  # while `fix_weights` is active

    def fix_weights(self, rows: int, pack: bool) -> None:
        """Fix the output projection in the device's fastest layout (inference)."""
        self.fixed_head = FixedLinear(self.model.embed_tokens.weight, rows=rows, pack=pack)

    def unfix_weights(self) -> None:
        self.fixed_head = None

    def forward_tokens(
        self,
        input_ids: torch.Tensor,
        positions: torch.Tensor,
        mask: torch.Tensor | None,
        memory: list[SignMemory] | None,
        cache: KVCache | StaticKVCache | None = None,
    ) -> torch.Tensor:
        model = self.model
        x = model.embed_tokens(input_ids) * model.embed_scale  # (B, L, d)
        pos = sinusoidal_encoding(positions + POSITION_OFFSET, self.cfg.d_model)
        x = model.dropout(x + pos.to(x.dtype))
        for i, layer in enumerate(model.layers):
            x = layer(x, mask, None if memory is None else memory[i], cache)
        x = model.layer_norm(x)
        if self.fixed_head is not None:
            return self.fixed_head(x)
        return F.linear(x, model.embed_tokens.weight)  # tied output projection

    def sign_memory(self, signs: torch.Tensor, sign_mask: torch.Tensor) -> list[SignMemory]:
        return [layer.sign_memory(signs, sign_mask) for layer in self.model.layers]

    def load_pretrained(self, path: str | Path) -> None:
        from sign2gpt.models.weights import load_hf_model

        expected = {
            "model_type": "xglm",
            "vocab_size": self.cfg.vocab_size,
            "d_model": self.cfg.d_model,
            "num_layers": self.cfg.num_layers,
            "attention_heads": self.cfg.num_heads,
            "ffn_dim": self.cfg.ffn_dim,
        }
        # The output projection is tied to the embedding, so `lm_head.weight` is not loaded.
        load_hf_model(self, path, expected, ("lm_head.weight",), self.is_trainable)
