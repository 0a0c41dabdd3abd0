"""Llama (3.x; also Mistral's layout) as a sign-conditioned decoder; loads Hugging Face folders.

Parameter names follow `transformers`' `LlamaForCausalLM` (`model.layers.3.self_attn.q_proj`,
`model.layers.3.mlp.gate_proj`), so a checkpoint folder loads without renaming. Architecture:
token embedding (no scale, no absolute positions), pre-norm layers (RMSNorm; self-attention
with rotary positions, incl. Llama 3's `llama3` frequency scaling, and grouped-query
key/value heads; SwiGLU FFN), final RMSNorm, output projection tied to the embedding or not.

The sign adapters are XGLM's (`GatedSelfAttention`): LoRA on q/k/v/o and the zero-gated
cross-attention, whose sign features go through each layer's input RMSNorm; the sign keys and
values have the layer's key/value heads and no rotary (the sign projection adds sinusoidal
positions). Families that differ only in switches subclass `LlamaSignDecoder` (`qwen2.py`).
Residual dropout (`decoder.dropout`) is not used: Llama has none; `attention_dropout` is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.config import to_dict
from sign2gpt.errors import CheckpointError
from sign2gpt.models.config import DecoderConfig
from sign2gpt.models.decoder.attention import GatedSelfAttention, Rotary
from sign2gpt.models.decoder.base import SignDecoder, register_family
from sign2gpt.models.decoder.kv_cache import KVCache
from sign2gpt.models.decoder.sign_attention import SignMemory
from sign2gpt.models.decoder.static_step import StaticKVCache
from sign2gpt.models.layers.fixed_linear import FixedLinear
from sign2gpt.models.layers.rms_norm import RMSNorm
from sign2gpt.models.layers.rotary import inverse_frequencies, rotary_angles


class SwiGLU(nn.Module):
    """down(silu(gate(x)) * up(x)), no biases."""

    def __init__(self, d_model: int, ffn_dim: int):
        super().__init__()
        self.gate_proj = nn.Linear(d_model, ffn_dim, bias=False)
        self.up_proj = nn.Linear(d_model, ffn_dim, bias=False)
        self.down_proj = nn.Linear(ffn_dim, d_model, bias=False)
        # While `fix_weights` is active: gate and up stacked into one matmul, and down.
        self.fixed: tuple[FixedLinear, FixedLinear] | None = None

    def fix_weights(self, rows: int, pack: bool) -> None:
        """Fix the FFN weights in the device's fastest layout (inference)."""
        gate_up = torch.cat([self.gate_proj.weight, self.up_proj.weight])
        self.fixed = (
            FixedLinear(gate_up, rows=rows, pack=pack),
            FixedLinear(self.down_proj.weight, rows=rows, pack=pack),
        )

    def unfix_weights(self) -> None:
        self.fixed = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fixed is not None:
            gate_up, down = self.fixed
            gate, up = gate_up(x).chunk(2, dim=-1)
            return down(F.silu(gate) * up)
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    """Pre-norm decoder layer: x + attn(rmsnorm(x)), then x + swiglu(rmsnorm(x))."""

    def __init__(self, cfg: DecoderConfig, layer: int, qkv_bias: bool):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.self_attn = GatedSelfAttention(
            cfg, layer, qkv_bias=qkv_bias, out_bias=False, out_name="o_proj"
        )
        self.post_attention_layernorm = RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        self.mlp = SwiGLU(cfg.d_model, cfg.ffn_dim)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        memory: SignMemory | None,
        cache: KVCache | StaticKVCache | None,
        rotary: Rotary = None,
    ) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), mask, memory, cache, rotary)
        return x + self.mlp(self.post_attention_layernorm(x))

    def sign_memory(self, signs: torch.Tensor, sign_mask: torch.Tensor) -> SignMemory:
        # The sign features go through this layer's frozen input RMSNorm first.
        return self.self_attn.sign_memory(self.input_layernorm(signs), sign_mask)


class LlamaModel(nn.Module):
    """Embeddings, layers and final norm (the `model.` part of `LlamaForCausalLM`)."""

    def __init__(self, cfg: DecoderConfig, qkv_bias: bool):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(LlamaLayer(cfg, i, qkv_bias) for i in range(cfg.num_layers))
        self.norm = RMSNorm(cfg.d_model, eps=cfg.norm_eps)
        nn.init.normal_(self.embed_tokens.weight, std=0.02)


def hf_rope(config: dict[str, Any], where: Path) -> tuple[float | None, dict[str, Any] | None]:
    """(rope_theta, llama3 scaling in `RopeScalingConfig`'s keys or None) from a config.json.

    Older files (and the released Llama/Qwen folders) say `rope_theta` + `rope_scaling`;
    transformers 5 writes both into `rope_parameters`.
    """
    params = config.get("rope_parameters") or config.get("rope_scaling") or {}
    theta = params.get("rope_theta", config.get("rope_theta"))
    rope_type = params.get("rope_type", params.get("type", "default"))
    if rope_type == "default":
        return theta, None
    if rope_type != "llama3":
        raise CheckpointError(where, f"rope type {rope_type!r} is not supported (llama3 is)")
    keys = ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")
    return theta, {"rope_type": "llama3", **{key: params.get(key) for key in keys}}


@register_family("llama")
class LlamaSignDecoder(SignDecoder):
    """Llama with sign adapters; see `SignDecoder` for the public methods."""

    block_types = (LlamaLayer,)
    # config.json `model_type`s this class loads (the first is written by `hf_config`), its
    # `transformers` class, and whether q/k/v have biases.
    model_types: tuple[str, ...] = ("llama", "mistral")
    hf_architecture = "LlamaForCausalLM"
    qkv_bias = False

    def __init__(self, cfg: DecoderConfig):
        super().__init__(cfg)
        self.model = LlamaModel(cfg, self.qkv_bias)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, False)
        # Rotary frequencies (float32), kept per device off the state dict: a model cast to
        # bf16 must not round them, and a CUDA-graph step must not copy them to the GPU.
        self._inv_freq: torch.Tensor | None = None

    def head_weight(self) -> torch.Tensor:
        return self.model.embed_tokens.weight if self.lm_head is None else self.lm_head.weight

    def rotary(self, positions: torch.Tensor, dtype: torch.dtype) -> Rotary:
        """cos/sin (L, head_dim) of `positions` for every layer of this forward."""
        if self._inv_freq is None or self._inv_freq.device != positions.device:
            cfg = self.cfg
            inv_freq = inverse_frequencies(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling)
            self._inv_freq = inv_freq.to(positions.device)
        return rotary_angles(self._inv_freq, positions, dtype)

    def forward_tokens(
        self,
        input_ids: torch.Tensor,
        positions: torch.Tensor,
        mask: torch.Tensor | None,
        memory: list[SignMemory] | None,
        cache: KVCache | StaticKVCache | None = None,
    ) -> torch.Tensor:
        model = self.model
        x = model.embed_tokens(input_ids)  # (B, L, d)
        rotary = self.rotary(positions, x.dtype)
        for i, layer in enumerate(model.layers):
            x = layer(x, mask, None if memory is None else memory[i], cache, rotary)
        return self.logits(model.norm(x))

    def sign_memory(self, signs: torch.Tensor, sign_mask: torch.Tensor) -> list[SignMemory]:
        return [layer.sign_memory(signs, sign_mask) for layer in self.model.layers]

    def hf_expected(self) -> dict[str, Any]:
        """config.json values (normalised by `hf_config_view`) this architecture needs."""
        cfg = self.cfg
        return {
            "vocab_size": cfg.vocab_size,
            "hidden_size": cfg.d_model,
            "num_hidden_layers": cfg.num_layers,
            "num_attention_heads": cfg.num_heads,
            "num_key_value_heads": cfg.kv_heads,
            "head_dim": cfg.head_dim,
            "intermediate_size": cfg.ffn_dim,
            "hidden_act": "silu",
            "rms_norm_eps": cfg.norm_eps,
            "rope_theta": cfg.rope_theta,
            "rope_scaling": None if cfg.rope_scaling is None else to_dict(cfg.rope_scaling),
            "tie_word_embeddings": cfg.tie_embeddings,
            "attention_bias": self.qkv_bias,
            "mlp_bias": False,
            "sliding_window": None,
        }

    def hf_config_view(self, config: dict[str, Any], where: Path) -> dict[str, Any]:
        """config.json with the defaults `transformers` applies to keys a file may omit."""
        theta, scaling = hf_rope(config, where)
        heads = config.get("num_attention_heads")
        hidden = config.get("hidden_size")
        return {
            **config,
            "num_key_value_heads": config.get("num_key_value_heads", heads),
            "head_dim": config.get("head_dim") or (hidden // heads if hidden and heads else None),
            "rope_theta": theta,
            "rope_scaling": scaling,
            "tie_word_embeddings": config.get("tie_word_embeddings", False),
            "attention_bias": config.get("attention_bias", False),
            "mlp_bias": config.get("mlp_bias", False),
            "sliding_window": config.get("sliding_window"),
        }

    def hf_config(self) -> dict[str, Any]:
        cfg = self.cfg
        scaling = None if cfg.rope_scaling is None else to_dict(cfg.rope_scaling)
        return {
            "architectures": [self.hf_architecture],
            "model_type": self.model_types[0],
            "vocab_size": cfg.vocab_size,
            "hidden_size": cfg.d_model,
            "intermediate_size": cfg.ffn_dim,
            "num_hidden_layers": cfg.num_layers,
            "num_attention_heads": cfg.num_heads,
            "num_key_value_heads": cfg.kv_heads,
            "head_dim": cfg.head_dim,
            "hidden_act": "silu",
            "max_position_embeddings": cfg.max_positions,
            "rms_norm_eps": cfg.norm_eps,
            "rope_theta": cfg.rope_theta,  # the released folders' keys (transformers 4 and 5)
            "rope_scaling": scaling,
            "tie_word_embeddings": cfg.tie_embeddings,
            "attention_bias": self.qkv_bias,
            "mlp_bias": False,
            "attention_dropout": cfg.attention_dropout,
            "initializer_range": 0.02,
            "use_cache": True,
            "bos_token_id": cfg.bos_id,
            "eos_token_id": cfg.eos_id,
            "pad_token_id": cfg.pad_id,
        }

    def load_pretrained(self, path: str | Path) -> None:
        from sign2gpt.models.weights import check_hf_config, load_frozen_weights, read_hf_folder

        config, state = read_hf_folder(path)
        config_path = Path(path) / "config.json"
        if config.get("model_type") not in self.model_types:
            raise CheckpointError(
                config_path,
                f"model_type is {config.get('model_type')!r} but decoder.family "
                f"{self.cfg.family!r} loads {' or '.join(self.model_types)}",
            )
        check_hf_config(path, self.hf_config_view(config, config_path), self.hf_expected())
        # A tied output projection is the embedding: a stored `lm_head.weight` is a copy.
        ignore = ("lm_head.weight",) if self.cfg.tie_embeddings else ()
        load_frozen_weights(self, state, path, ignore, self.is_trainable)
