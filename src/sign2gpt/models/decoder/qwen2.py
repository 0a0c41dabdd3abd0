"""Qwen2 / Qwen2.5 as a sign-conditioned decoder: Llama's layout with biases on q/k/v.

Everything else (RMSNorm, rotary, grouped-query attention, SwiGLU, the sign adapters, the
Hugging Face folder layout `Qwen2ForCausalLM` writes) is `llama.py`'s; only the switches differ.
Sliding-window attention (`use_sliding_window: true`) is refused: the released models keep it off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sign2gpt.models.decoder.base import register_family
from sign2gpt.models.decoder.llama import LlamaSignDecoder


@register_family("qwen2")
class Qwen2SignDecoder(LlamaSignDecoder):
    """Qwen2 with sign adapters; see `SignDecoder` for the public methods."""

    model_types = ("qwen2",)
    hf_architecture = "Qwen2ForCausalLM"
    qkv_bias = True

    def hf_config(self) -> dict[str, Any]:
        config = super().hf_config()
        del config["attention_bias"]  # not a Qwen2 key: its q/k/v always have biases
        return {**config, "use_sliding_window": False, "sliding_window": None}

    def hf_config_view(self, config: dict[str, Any], where: Path) -> dict[str, Any]:
        view = super().hf_config_view(config, where)
        # Qwen2 always has q/k/v biases (no `attention_bias` key); its `sliding_window` is
        # only used when `use_sliding_window` is on.
        view["attention_bias"] = True
        view["sliding_window"] = (
            config.get("sliding_window") if config.get("use_sliding_window") else None
        )
        return view
