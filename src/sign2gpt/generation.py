"""How outputs are produced: beam search settings (one validated object) and the paper's
pseudo-gloss localization threshold.

Torch-free, so that the CLI can take its option defaults from here without a slow import.
"""

from __future__ import annotations

from dataclasses import dataclass

from sign2gpt.errors import ConfigError

# The paper's threshold on the prototype head's class softmax: above it a gloss is "signed".
PAPER_THRESHOLD = 0.2


@dataclass(frozen=True)
class GenerationSettings:
    """Beam search settings shared by translate, evaluate, training's dev BLEU and the API.

    Args:
        num_beams: beam width (1 = greedy search). The paper uses 4.
        max_new_tokens: the longest translation, in tokens.
    """

    num_beams: int = 4
    max_new_tokens: int = 64

    def __post_init__(self) -> None:
        for name in ("num_beams", "max_new_tokens"):
            value = getattr(self, name)
            # bool is an int subclass; `True` beams is a config typo, not one beam.
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")
