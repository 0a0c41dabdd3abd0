"""XGLM (Lin et al. 2022) as a sign-conditioned decoder; loads Hugging Face XGLM checkpoints.

Parameter names follow `transformers`' `XGLMForCausalLM` (`model.layers.3.self_attn.q_proj`),
so a checkpoint folder loads without renaming. Architecture: scaled token embedding plus
sinusoidal positions (offset 2), pre-norm layers (self-attention, GELU FFN), final LayerNorm,
output projection tied to the token embedding.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.models.config import DecoderConfig
from sign2gpt.models.decoder.attention import GatedSelfAttention
from sign2gpt.models.decoder.base import SignDecoder, register_family
from sign2gpt.models.decoder.kv_cache import KVCache
from sign2gpt.models.decoder.sign_attention import SignMemory
from sign2gpt.models.decoder.static_step import StaticKVCache
from sign2gpt.models.layers.fixed_linear import FixedLinear
from sign2gpt.models.layers.sinusoidal import sinusoidal_encoding

# XGLM (like fairseq) reserves the first two sinusoidal positions for padding.
POSITION_OFFSET = 2


class XGLMAttention(GatedSelfAttention):
    """Self-attention with biases on q/k/v/out_proj (see `GatedSelfAttention`)."""

    def __init__(self, cfg: DecoderConfig, layer: int):
        super().__init__(cfg, layer, qkv_bias=True, out_bias=True, out_name="out_proj")


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

    def head_weight(self) -> torch.Tensor:
        return self.model.embed_tokens.weight  # tied output projection

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
        return self.logits(model.layer_norm(x))

    def sign_memory(self, signs: torch.Tensor, sign_mask: torch.Tensor) -> list[SignMemory]:
        return [layer.sign_memory(signs, sign_mask) for layer in self.model.layers]

    def hf_config(self) -> dict[str, Any]:
        cfg = self.cfg
        return {
            "architectures": ["XGLMForCausalLM"],
            "model_type": "xglm",
            "vocab_size": cfg.vocab_size,
            "max_position_embeddings": cfg.max_positions,
            "d_model": cfg.d_model,
            "ffn_dim": cfg.ffn_dim,
            "num_layers": cfg.num_layers,
            "attention_heads": cfg.num_heads,
            "activation_function": "gelu",
            "dropout": cfg.dropout,
            "attention_dropout": cfg.attention_dropout,
            "activation_dropout": cfg.activation_dropout,
            "layerdrop": 0.0,
            "init_std": 0.02,
            "scale_embedding": cfg.scale_embedding,
            "use_cache": True,
            "decoder_start_token_id": cfg.bos_id,
            "bos_token_id": cfg.bos_id,
            "eos_token_id": cfg.eos_id,
            "pad_token_id": cfg.pad_id,
            "tie_word_embeddings": True,
        }

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
