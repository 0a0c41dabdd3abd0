"""The one name filter for adapters: it marks what trains and picks what a checkpoint saves.

A parameter is an adapter parameter when a component of its dotted name starts with `lora`
or is `gate` (see `layers/lora.py` and `decoder/sign_attention.py`). Parts with a frozen
pretrained core (spatial ViT, decoder LM) train only these; see `Sign2GPT.is_trainable`.
"""

from __future__ import annotations

import re

_ADAPTER = re.compile(r"(^|\.)(lora\w*|gate)(\.|$)")


def is_adapter_name(name: str) -> bool:
    """True for LoRA and gate parameters, e.g. `layers.3.self_attn.sign.lora_q.A`."""
    return _ADAPTER.search(name) is not None
