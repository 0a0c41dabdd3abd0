"""Read training/evaluation sentences: a plain text file or a manifest (CSV or JSONL).

- Plain text (any other suffix): one sentence per line, in order.
- CSV (`.csv`, delimiter ",", "|", tab or ";"; the Phoenix14T corpus files use "|"): the text
  column is `text`, else `translation`; an optional `split` column; ids from `id` or `name`.
- JSONL (`.jsonl`): one object per line with the same keys.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from sign2gpt.errors import DataError

TEXT_COLUMNS = ("text", "translation")
ID_COLUMNS = ("id", "name")
_DELIMITERS = (",", "|", "\t", ";")


@dataclass
class SentenceFile:
    """Sentences of one file (one split of it, for manifests with a `split` column)."""

    path: Path
    sentences: list[str]
    ids: list[str]
    split: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path.name}:{self.split}" if self.split else self.path.name


def read_sentence_files(path: str | Path) -> list[SentenceFile]:
    """All sentences of `path`, one `SentenceFile` per split (a single one without splits)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        if path.suffix.lower() == ".csv":
            rows = _read_csv(path)
        elif path.suffix.lower() == ".jsonl":
            rows = _read_jsonl(path)
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
            return [SentenceFile(path, lines, [str(i) for i in range(len(lines))])]
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not UTF-8 text ({exc})") from None
    return _group_rows(path, rows)


def read_sentences(path: str | Path, split: str | None = "train") -> SentenceFile:
    """The sentences of `path`; for manifests with a `split` column only the rows of `split`."""
    files = read_sentence_files(path)
    if files[0].split is None:
        return files[0]
    chosen = [f for f in files if f.split == split]
    if not chosen:
        found = ", ".join(f.split or "" for f in files)
        raise DataError(path, f"no rows with split {split!r} (splits present: {found})")
    return chosen[0]


def _group_rows(path: Path, rows: list[dict]) -> list[SentenceFile]:
    if not rows:
        raise DataError(path, "no rows")
    text_key = next((k for k in TEXT_COLUMNS if k in rows[0]), None)
    if text_key is None:
        raise DataError(path, f"no text column (expected one of {', '.join(TEXT_COLUMNS)})")
    id_key = next((k for k in ID_COLUMNS if k in rows[0]), None)
    groups: dict[str | None, SentenceFile] = {}
    for number, row in enumerate(rows):
        text = row.get(text_key)
        if not isinstance(text, str):
            raise DataError(path, f"row {number + 1}: {text_key!r} is missing or not a string")
        split = row.get("split")
        split = str(split) if split not in (None, "") else None
        group = groups.setdefault(split, SentenceFile(path, [], [], split))
        group.sentences.append(text.strip())
        group.ids.append(str(row[id_key]) if id_key else str(number))
    return list(groups.values())


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        header = handle.readline()
        handle.seek(0)
        # The delimiter that yields a known text column in the header.
        delimiter = next(
            (d for d in _DELIMITERS if set(TEXT_COLUMNS) & set(header.strip().split(d))), None
        )
        if delimiter is None:
            raise DataError(path, f"no text column (expected one of {', '.join(TEXT_COLUMNS)})")
        return list(csv.DictReader(handle, delimiter=delimiter))


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"line {number}: not valid JSON ({exc})") from None
        if not isinstance(row, dict):
            raise DataError(path, f"line {number}: expected a JSON object")
        rows.append(row)
    return rows
