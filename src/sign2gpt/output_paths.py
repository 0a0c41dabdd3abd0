"""Output paths checked before any work: an evaluation must not be lost to a bad `--out`.

Nothing is created here; the writers create folders when they write.
"""

from __future__ import annotations

import os
from pathlib import Path

from sign2gpt.errors import OutputError


def check_output_folder(folder: str | Path, what: str = "output folder") -> Path:
    """`folder` as a Path when it is, or can be made, a writable folder; else an OutputError."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, f"{what} is a file, not a folder")
    existing = folder
    while not existing.exists():  # the first ancestor that exists gets the new folders
        if existing.parent == existing:
            break
        existing = existing.parent
        if existing.exists() and not existing.is_dir():
            raise OutputError(folder, f"{what} cannot be made: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(folder, f"{what} is not writable ({existing} is read-only for you)")
    return folder


def check_output_file(path: str | Path, suffixes: tuple[str, ...], what: str = "output") -> Path:
    """`path` when its extension is one of `suffixes` and it can be written; else OutputError."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        known = ", ".join(suffixes)
        raise OutputError(path, f"unknown {what} format {path.suffix or '(none)'!r}; use {known}")
    if path.is_dir():
        raise OutputError(path, f"{what} file is a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(path, f"{what} file is not writable")
    check_output_folder(path.parent, f"folder of the {what} file")
    return path
