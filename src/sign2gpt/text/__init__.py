"""Text side of Sign2GPT: pseudo-glosses (targets of stage 1) and their word-vector prototypes.

Imports here are light; taggers and gensim load only when used.
"""

from sign2gpt.text.prototypes import build_prototypes, load_prototypes, save_prototypes
from sign2gpt.text.pseudo_glosses import (
    KEEP_UPOS,
    PseudoGlossResult,
    PseudoGlossVocab,
    build_pseudo_glosses,
    coverage,
    load_targets,
    normalize_text,
)

__all__ = [
    "KEEP_UPOS",
    "PseudoGlossResult",
    "PseudoGlossVocab",
    "build_prototypes",
    "build_pseudo_glosses",
    "coverage",
    "load_prototypes",
    "load_targets",
    "normalize_text",
    "save_prototypes",
]
