"""What a corpus reader returns: one `VideoRecord` per usable row, one `Problem` per bad row.

Readers never raise for a bad row: they report it, so `data check` can list every defect and
a dataset can refuse (default) or skip them loudly (`skip_bad`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class VideoRecord:
    """One video of a corpus, before decoding.

    Args:
        id: unique name of the video within its split.
        source: a frame folder or a video file.
        text: the spoken-language sentence.
        signer: signer id ("" when unknown).
        split: the split this row belongs to.
        where: "file:line" of the row, for messages.
        confine: the data root a frame folder's files must stay in (a frame file that is a
            symlink out of it is refused when read); None: no such limit (inputs named on
            the command line, `data.allow_absolute_paths: true`).
    """

    id: str
    source: Path
    text: str
    signer: str
    split: str
    where: str
    confine: Path | None = None


@dataclass(frozen=True)
class Problem:
    """A bad row (or bad file) and why; `where` is "file:line".

    `shared`: the defect is in a file several splits read (a manifest with a `split` column),
    and the row's split is not known; `data check` reports it once, charged to no split.
    """

    where: str
    reason: str
    item_id: str = ""
    shared: bool = False

    def __str__(self) -> str:
        name = f" [{self.item_id}]" if self.item_id else ""
        return f"{self.where}{name}: {self.reason}"


@dataclass
class RecordTable:
    """A reader's result for one split."""

    records: list[VideoRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(self.records) + len(self.problems)


def file_order(problem: Problem) -> tuple[str, int, str]:
    """Sort key: by file, then line number (`where` is "file:line" or a path)."""
    path, _, line = problem.where.rpartition(":")
    if path and line.isdigit():
        return path, int(line), problem.item_id
    return problem.where, 0, problem.item_id


def clean_text(text: str | None) -> str | None:
    """Strip a sentence; None when it is missing or blank (a bad row)."""
    if text is None:
        return None
    text = text.strip()
    return text or None


def check_rows(table: RecordTable) -> RecordTable:
    """Move rows with an empty text or a repeated id from `records` to `problems`."""
    kept: list[VideoRecord] = []
    first_seen: dict[str, str] = {}
    for record in table.records:
        if not record.text.strip():
            table.problems.append(Problem(record.where, "empty text", record.id))
        elif record.id in first_seen:
            table.problems.append(
                Problem(record.where, f"duplicate id (first at {first_seen[record.id]})", record.id)
            )
        else:
            first_seen[record.id] = record.where
            kept.append(record)
    table.records = kept
    return table


def resolve_inside(root: Path, relative: str, *, allow_absolute: bool) -> Path | str:
    """Join a path from a corpus file to `root`; a reason string when it is not allowed.

    A path from a data file must stay inside the data root (no absolute paths, no `..`
    escaping it) unless `allow_absolute` is set: a shared manifest then cannot make the
    loader read arbitrary files.
    """
    if not relative.strip():
        return "empty path"
    path = Path(relative.strip())
    if path.is_absolute():
        if allow_absolute:
            return path
        return f"absolute path {relative!r} not allowed (set data.allow_absolute_paths: true)"
    joined = Path(os.path.normpath(root / path))
    root_norm = Path(os.path.normpath(root))
    if not allow_absolute and joined != root_norm and root_norm not in joined.parents:
        return f"path {relative!r} escapes the data root {root}"
    if not allow_absolute:
        return escaping_link(root, joined) or joined
    return joined


def escaping_link(root: Path, path: Path) -> str | None:
    """A reason when `path` (inside `root` as written) is, or passes through, a symlink that
    resolves outside `root`; None when it stays inside. `root` itself may be a link."""
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real == real_root or real_root in real.parents:
        return None
    return (
        f"a symlink takes {path} outside the data root to {real} "
        "(set data.allow_absolute_paths: true to allow it)"
    )
