"""Manifests for any other corpus: CSV or JSON lines.

Columns: `video` (a video file, MP4/WebM/AVI/MKV/MOV, or a folder of PNG/JPG frames, relative
to the data root), `text`; optional `id` (default: the video path), `signer` and `split`.
Either the manifest file name contains `{split}` (one file per split) or it has a `split`
column. Paths may not leave the data root unless `allow_absolute_paths` is set.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sign2gpt.data.config import DataConfig
from sign2gpt.data.records import Problem, RecordTable, VideoRecord, clean_text, resolve_inside
from sign2gpt.data.tables import read_delimited, read_jsonl
from sign2gpt.errors import DataError


def manifest_file(cfg: DataConfig, split: str) -> Path:
    """The manifest holding `split`."""
    assert cfg.manifest is not None  # DataConfig checks this
    return Path(cfg.root) / cfg.manifest.replace("{split}", split)


def _unknown_split(cfg: DataConfig, where: str, row: dict[str, str]) -> Problem:
    known = ", ".join(cfg.all_splits)
    reason = f"unknown split {row['split'].strip()!r} (the config's splits: {known})"
    item_id = (row.get("id") or "").strip() or row["video"].strip()
    return Problem(where, reason, item_id, shared=True)


def read_manifest(cfg: DataConfig, split: str) -> RecordTable:
    """Read the rows of `split` from a CSV or JSONL manifest."""
    root = Path(cfg.root)
    path = manifest_file(cfg, split)
    if not path.is_file():
        raise DataError(path, "manifest file does not exist")
    per_split_file = "{split}" in (cfg.manifest or "")
    required = ("video", "text") if per_split_file else ("video", "text", "split")
    fmt = cfg.manifest_format
    if fmt == "auto":
        fmt = "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "csv"
    if fmt == "jsonl":
        rows, problems = read_jsonl(path, required)
    else:
        rows, problems = read_delimited(path, cfg.csv_delimiter, required)
    if not per_split_file:  # a bad line of a shared manifest belongs to no known split
        problems = [dataclasses.replace(p, shared=True) for p in problems]
    table = RecordTable(problems=problems)
    for number, row in rows:
        where = f"{path}:{number}"
        if not per_split_file and row["split"].strip() != split:
            if row["split"].strip() not in cfg.all_splits:  # `validation`, `Train`: not lost
                table.problems.append(_unknown_split(cfg, where, row))
            continue
        item_id = (row.get("id") or "").strip() or row["video"].strip()
        source = resolve_inside(root, row["video"], allow_absolute=cfg.allow_absolute_paths)
        if isinstance(source, str):
            table.problems.append(Problem(where, source, item_id))
            continue
        table.records.append(
            VideoRecord(
                id=item_id,
                source=source,
                text=clean_text(row["text"]) or "",
                signer=(row.get("signer") or "").strip(),
                split=split,
                where=where,
                confine=None if cfg.allow_absolute_paths else root,
            )
        )
    return table
