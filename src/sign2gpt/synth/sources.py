"""Sentence sources for SynthSign: gloss sequences (sign order) with their German translations.

`full` reads the real Phoenix14T text, either the sentence-aligned text files
(`phoenix14t.<split>.de` / `.gloss`) or the official annotation CSVs
(`PHOENIX-2014-T.<split>.corpus.csv`, directly in the folder or under `annotations/manual/`).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from pathlib import Path

from sign2gpt.errors import DataError

SPLITS = ("train", "dev", "test")


@dataclasses.dataclass(frozen=True)
class Sentence:
    """One signed sentence: glosses in sign order and its spoken-language translation."""

    glosses: tuple[str, ...]
    text: str


def default_text_dir() -> Path:
    """../shared/data/phoenix14t-text relative to the repository (this file is 4 levels in)."""
    return Path(__file__).resolve().parents[4] / "shared" / "data" / "phoenix14t-text"


def read_phoenix_text(folder: str | Path) -> dict[str, list[Sentence]]:
    """Read the train/dev/test sentences of Phoenix14T from text files or annotation CSVs.

    Args:
        folder: holds `phoenix14t.<split>.{de,gloss}` or `PHOENIX-2014-T.<split>.corpus.csv`
            (possibly under `annotations/manual/`).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "text folder does not exist")
    if (folder / "phoenix14t.train.gloss").exists():
        return {split: _read_text_pair(folder, split) for split in SPLITS}
    for csv_dir in (folder, folder / "annotations" / "manual"):
        if (csv_dir / "PHOENIX-2014-T.train.corpus.csv").exists():
            return {split: _read_corpus_csv(csv_dir, split) for split in SPLITS}
    raise DataError(folder, "found neither phoenix14t.train.gloss/.de nor "
                            "PHOENIX-2014-T.train.corpus.csv (also looked in annotations/manual/)")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(path, "file does not exist") from None
    except UnicodeDecodeError:
        raise DataError(path, "not valid UTF-8") from None


def _read_text_pair(folder: Path, split: str) -> list[Sentence]:
    gloss_path, text_path = folder / f"phoenix14t.{split}.gloss", folder / f"phoenix14t.{split}.de"
    glosses, texts = _lines(gloss_path), _lines(text_path)
    if len(glosses) != len(texts):
        raise DataError(gloss_path, f"{len(glosses)} lines but {text_path.name} has {len(texts)}")
    pairs = zip(glosses, texts, strict=True)
    return [_sentence(g, t, gloss_path, i + 1) for i, (g, t) in enumerate(pairs)]


def _read_corpus_csv(folder: Path, split: str) -> list[Sentence]:
    path = folder / f"PHOENIX-2014-T.{split}.corpus.csv"
    rows = list(csv.DictReader(_lines(path), delimiter="|", quoting=csv.QUOTE_NONE))
    if rows and not {"orth", "translation"} <= set(rows[0]):
        raise DataError(path, "header lacks the 'orth' and 'translation' columns")
    return [_sentence(r["orth"], r["translation"], path, i + 2) for i, r in enumerate(rows)]


def _sentence(glosses: str, text: str, path: Path, line: int) -> Sentence:
    tokens = tuple(glosses.split())
    if not tokens or not text.strip():
        raise DataError(path, f"line {line}: empty gloss sequence or translation")
    if "|" in text or "|" in glosses:
        raise DataError(path, f"line {line}: '|' cannot be written into a Phoenix corpus CSV")
    return Sentence(tokens, text.strip())


def fingerprint(splits: dict[str, list[Sentence]]) -> str:
    """SHA-256 of all sentences, recorded so that a corpus names exactly the text it came from."""
    digest = hashlib.sha256()
    for split in sorted(splits):
        for sentence in splits[split]:
            digest.update(f"{split}|{' '.join(sentence.glosses)}|{sentence.text}\n".encode())
    return digest.hexdigest()
