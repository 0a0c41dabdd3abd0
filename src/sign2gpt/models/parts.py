"""Which part of the model a trainable parameter belongs to, by its name.

The training logs report the gradient reaching each part (`sign2gpt.train.diagnostics`) and
`train.lr_scale` gives a part its own learning rate, under these names.
"""

from __future__ import annotations

import re

# Parameter name -> part; the first pattern that matches wins. Searched, not anchored, so
# that wrapper prefixes (`model.`, `_forward_module.`) do not matter.
PARTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("gates", re.compile(r"\.sign\.gate$")),
    ("cross_attention_lora", re.compile(r"\.sign\.lora_\w+\.")),
    ("decoder_lora", re.compile(r"(^|\.)decoder\..*\.lora\.")),
    ("sign_projection", re.compile(r"(^|\.)decoder\.sign_proj\.")),
    ("sign_encoder", re.compile(r"(^|\.)sign_encoder\.")),
    ("spatial_lora", re.compile(r"(^|\.)spatial\..*\.lora\.")),
    ("spatial", re.compile(r"(^|\.)spatial\.")),
)
OTHER = "other"  # e.g. stage 1's prototypes and temperature, the reference's gloss embedding
PART_NAMES: tuple[str, ...] = (*(name for name, _ in PARTS), OTHER)


def part_of(name: str) -> str:
    """The part a parameter belongs to, e.g. `gates` for `...self_attn.sign.gate`."""
    return next((part for part, pattern in PARTS if pattern.search(name)), OTHER)
