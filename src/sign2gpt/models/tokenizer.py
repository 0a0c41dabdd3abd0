"""Text tokenizer wrapper: a `tokenizers.Tokenizer` plus the ids of BOS, EOS and padding.

Loads a Hugging Face tokenizer folder (tokenizer.json, or anything `AutoTokenizer` reads
locally with a fast backend), or a tokenizer trained here for the synthetic benchmark.
Saved as `tokenizer.json` + `special_tokens.json`; no pickles.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from sign2gpt.errors import CheckpointError, ConfigError, DataError
from sign2gpt.io import atomic_path, write_json
from sign2gpt.models.config import DecoderConfig

SPECIAL_TOKENS_FILE = "special_tokens.json"
# Our own tokenizers reserve ids 0..3 as XGLM does: <s>=0, <pad>=1, </s>=2, <unk>=3.
TRAINED_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


class TextTokenizer:
    """Encode text to ids without special tokens; the model adds `bos_id` / `eos_id` itself.

    Args:
        backend: the `tokenizers.Tokenizer`.
        bos_id: id that starts every decoder input (XGLM: `</s>`, what its tokenizer prepends).
        eos_id: id that ends every target.
        pad_id: id used for padding.
    """

    def __init__(self, backend: Tokenizer, *, bos_id: int, eos_id: int, pad_id: int):
        self.backend = backend
        self.bos_id = bos_id
        self.eos_id = eos_id
        self.pad_id = pad_id

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        return self.backend.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Iterable[int]) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=True)

    def save(self, folder: str | Path) -> None:
        """Write `tokenizer.json` and `special_tokens.json` into `folder` (atomically)."""
        folder = Path(folder)
        with atomic_path(folder / "tokenizer.json") as tmp:
            self.backend.save(str(tmp))
        special = {"bos_id": self.bos_id, "eos_id": self.eos_id, "pad_id": self.pad_id}
        write_json(folder / SPECIAL_TOKENS_FILE, special)

    @classmethod
    def load(cls, folder: str | Path) -> TextTokenizer:
        """Load a folder written by `save`, or a Hugging Face tokenizer folder."""
        folder = Path(folder)
        if not folder.is_dir():
            raise CheckpointError(folder, "tokenizer folder does not exist")
        if (folder / "tokenizer.json").is_file():
            try:
                backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
            except Exception as exc:  # tokenizers raises plain Exception subclasses
                raise CheckpointError(folder / "tokenizer.json", f"cannot read ({exc})") from None
        else:
            backend = _auto_backend(folder)
        _check_has_vocabulary(backend, folder)
        special_path = folder / SPECIAL_TOKENS_FILE
        if special_path.is_file():
            ids = _read_json(special_path)
            names = ("bos_id", "eos_id", "pad_id")
            if not isinstance(ids, dict) or not all(isinstance(ids.get(n), int) for n in names):
                raise CheckpointError(special_path, f"expected integer {', '.join(names)}")
            return cls(backend, bos_id=ids["bos_id"], eos_id=ids["eos_id"], pad_id=ids["pad_id"])
        return cls(backend, **_hf_special_ids(folder, backend))

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int) -> TextTokenizer:
        """Train a small BPE tokenizer (SentencePiece-style word boundaries) on `texts`.

        Args:
            texts: training sentences.
            vocab_size: upper bound on the vocabulary (special tokens included).
        """
        backend = Tokenizer(models.BPE(unk_token="<unk>"))
        backend.normalizer = normalizers.NFC()
        backend.pre_tokenizer = pre_tokenizers.Metaspace()
        backend.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=TRAINED_SPECIALS, show_progress=False
        )
        backend.train_from_iterator(texts, trainer)
        return cls(backend, bos_id=0, pad_id=1, eos_id=2)


def check_compatible(tokenizer: TextTokenizer, cfg: DecoderConfig, where: str = "model") -> None:
    """Raise `ConfigError` unless the decoder config fits the tokenizer (vocab and special ids).

    Args:
        tokenizer: the loaded tokenizer.
        cfg: the decoder config it will feed.
        where: location for the message, e.g. "configs/x.yaml:model.decoder".
    """
    if tokenizer.vocab_size > cfg.vocab_size:
        raise ConfigError(
            f"{where}: vocab_size {cfg.vocab_size} is smaller than the tokenizer's "
            f"{tokenizer.vocab_size}"
        )
    for name in ("bos_id", "eos_id", "pad_id"):
        if getattr(tokenizer, name) != getattr(cfg, name):
            raise ConfigError(
                f"{where}: {name} is {getattr(cfg, name)} but the tokenizer uses "
                f"{getattr(tokenizer, name)}"
            )


def unknown_characters(tokenizer: TextTokenizer, texts: Iterable[str]) -> Counter[str]:
    """Characters of `texts` the tokenizer cannot encode, with their counts.

    A character is unknown when encoding it alone yields the `<unk>` id, or (not whitespace)
    nothing that decodes back to text (tokenizers without an unknown token drop such characters
    silently). Texts are normalised first (e.g. NFC), so decomposed accents are judged as the
    model sees them.
    """
    backend = tokenizer.backend
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_normalize(backend, text))
    chars = sorted(ch for ch in counts if ch != " ")
    unk_id = backend.token_to_id(getattr(backend.model, "unk_token", None) or "<unk>")
    encodings = backend.encode_batch(chars, add_special_tokens=False)
    unknown = Counter()
    for char, encoding in zip(chars, encodings, strict=True):
        # Whitespace that a tokenizer drops is harmless; whitespace that becomes <unk> is not.
        lost = not char.isspace() and not tokenizer.decode(encoding.ids).strip()
        if unk_id in encoding.ids or lost:
            unknown[char] = counts[char]
    return unknown


def check_tokenizer_coverage(
    tokenizer: TextTokenizer, texts: Iterable[str], where: str | Path
) -> None:
    """Raise `DataError` naming `where` when the tokenizer lacks characters of `texts`.

    Why: such characters become `<unk>` (or vanish), so the model would train on targets it
    can never produce; better to stop before training with the list of what is missing.

    Args:
        tokenizer: the decoder's tokenizer.
        texts: the training sentences.
        where: the file the sentences come from, for the message.
    """
    texts = list(texts)
    unknown = unknown_characters(tokenizer, texts)
    if not unknown:
        return
    listed = ", ".join(f"{ch!r} (U+{ord(ch):04X}, {n}x)" for ch, n in unknown.most_common(20))
    more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
    backend = tokenizer.backend
    example = next(t for t in texts if unknown.keys() & set(_normalize(backend, t)))
    raise DataError(
        where,
        f"the tokenizer cannot encode {len(unknown)} character(s) of the text: {listed}{more} "
        f"(e.g. in {example[:60]!r}); they would become <unk>. Use a tokenizer that covers "
        "this language (text.tokenizer) or clean the text",
    )


def _normalize(backend: Tokenizer, text: str) -> str:
    return backend.normalizer.normalize_str(text) if backend.normalizer else text


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(path, f"not valid JSON ({exc})") from None


def _check_has_vocabulary(backend: Tokenizer, folder: Path) -> None:
    """Refuse a tokenizer whose vocabulary holds only special tokens.

    Why: transformers builds such an empty tokenizer, without an error, when the vocabulary
    file (e.g. sentencepiece.bpe.model) is unreadable; every word would then be <unk>.
    """
    special = {token.content for token in backend.get_added_tokens_decoder().values()}
    if not set(backend.get_vocab(with_added_tokens=False)) - special:
        raise CheckpointError(
            folder, "tokenizer has no vocabulary besides special tokens (vocabulary file "
            "missing or unreadable?)",
        )


def _auto_backend(folder: Path) -> Tokenizer:
    """Fall back to `transformers.AutoTokenizer` (e.g. a sentencepiece-only folder)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:  # transformers raises many types for unreadable folders
        raise CheckpointError(folder, f"no tokenizer found ({exc})") from None
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if not isinstance(backend, Tokenizer):
        raise CheckpointError(folder, "tokenizer has no fast (tokenizers) backend")
    return backend


def _hf_special_ids(folder: Path, backend: Tokenizer) -> dict[str, int]:
    """BOS = what the tokenizer prepends (XGLM: `</s>`), else `bos_token`; EOS and pad by name."""
    config_path = folder / "tokenizer_config.json"
    config = _read_json(config_path) if config_path.is_file() else {}

    def token_id(key: str) -> int | None:
        token = config.get(key)
        if isinstance(token, dict):  # older files store {"content": "<s>", ...}
            token = token.get("content")
        return backend.token_to_id(token) if isinstance(token, str) else None

    prefix = backend.encode("", add_special_tokens=True).ids
    eos_id = token_id("eos_token")
    if eos_id is None:
        raise CheckpointError(folder, "tokenizer_config.json names no eos_token")
    bos_id = prefix[0] if prefix else token_id("bos_token")
    pad_id = token_id("pad_token")
    return {
        "bos_id": eos_id if bos_id is None else bos_id,
        "eos_id": eos_id,
        "pad_id": eos_id if pad_id is None else pad_id,
    }
