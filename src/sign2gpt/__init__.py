"""Sign2GPT: gloss-free sign language translation with a frozen LLM (ICLR 2024)."""

__version__ = "0.1.0"
