"""Sign-conditioned LM decoders, one file per LM family (`xglm.py`, `llama.py`, `qwen2.py`).

Every module in this package is imported by `build_decoder`, so a new family (say a
`gemma.py` with `@register_family("gemma")`) is one new file here plus `decoder.family: gemma`
in a config.
"""

from __future__ import annotations

import importlib
import pkgutil

from sign2gpt.errors import ConfigError
from sign2gpt.models.config import DecoderConfig
from sign2gpt.models.decoder.base import DECODER_FAMILIES, SignDecoder, register_family


def _import_families() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def build_decoder(cfg: DecoderConfig) -> SignDecoder:
    """Build the decoder family named by `cfg.family` (random init; see `load_pretrained`)."""
    _import_families()
    if cfg.family not in DECODER_FAMILIES:
        known = ", ".join(sorted(DECODER_FAMILIES))
        raise ConfigError(f"decoder.family: unknown LM family {cfg.family!r} (known: {known})")
    return DECODER_FAMILIES[cfg.family](cfg)


__all__ = [
    "DECODER_FAMILIES",
    "SignDecoder",
    "build_decoder",
    "register_family",
]
