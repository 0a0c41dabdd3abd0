"""Sign2GPT: gloss-free sign language translation with a frozen LLM (ICLR 2024).

Translate from Python (the model folder comes from `sign2gpt export`, or give a stage-2
checkpoint file):

    from sign2gpt import Translator

    translator = Translator.from_pretrained("my-model/")
    result = translator.translate("clip.mp4")           # or a frame folder, uint8 frames
    print(result.text, result.glosses)                  # glosses: pseudo-gloss time spans
    results = translator.translate(["a.mp4", "b.mp4"])  # batched, one result per input
    translator.localize("clip.mp4").plot("clip.png")    # class-probability map over time

`import sign2gpt` itself stays light (no torch) so the CLI starts fast; `Translator` is
imported on first use. See `help(sign2gpt.Translator)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Localization", "TranslationResult", "Translator", "__version__"]

if TYPE_CHECKING:
    from sign2gpt.inference.translator import Localization, TranslationResult, Translator


def __getattr__(name: str) -> Any:
    # Lazy: `sign2gpt --help` must not pay for torch; `from sign2gpt import Translator` does.
    if name in ("Localization", "TranslationResult", "Translator"):
        from sign2gpt.inference import translator

        return getattr(translator, name)
    raise AttributeError(f"module 'sign2gpt' has no attribute {name!r}")
