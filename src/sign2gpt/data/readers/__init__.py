"""Corpus readers: each turns one split of a corpus into a `RecordTable`."""

from __future__ import annotations

from pathlib import Path

from sign2gpt.data.config import DataConfig
from sign2gpt.data.readers.csl_daily import label_files, read_csl_daily
from sign2gpt.data.readers.manifest import manifest_file, read_manifest
from sign2gpt.data.readers.phoenix import corpus_file, read_phoenix
from sign2gpt.data.records import RecordTable, check_rows

_READERS = {"phoenix14t": read_phoenix, "csl-daily": read_csl_daily, "manifest": read_manifest}


def split_file(cfg: DataConfig, split: str) -> Path:
    """The file that lists the rows of `split` (for messages about the split as a whole)."""
    if cfg.format == "manifest":
        return manifest_file(cfg, split)
    if cfg.format == "csl-daily":
        return label_files(Path(cfg.root))[1]
    return corpus_file(Path(cfg.root), split)


def read_split(cfg: DataConfig, split: str) -> RecordTable:
    """Read the rows of `split` with the reader of `cfg.format`; empty texts and repeated ids
    become problems."""
    return check_rows(_READERS[cfg.format](cfg, split))


__all__ = ["read_csl_daily", "read_manifest", "read_phoenix", "read_split", "split_file"]
