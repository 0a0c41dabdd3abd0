"""The folder of one run: merged config, logs, checkpoints and metrics."""

from __future__ import annotations

import glob
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from sign2gpt.io import write_text

LATEST = "latest"  # <out_dir>/latest: the run started last (a symlink, else latest.txt)


@dataclass
class RunDir:
    """Paths inside a run folder (created on first use)."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    @classmethod
    def create(cls, parent: str | Path, name: str) -> RunDir:
        """A new run folder `parent/name-YYYYmmdd-HHMMSS` (suffixed if it exists)."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        root = Path(parent) / f"{name}-{stamp}"
        suffix = 1
        while root.exists():
            suffix += 1
            root = Path(parent) / f"{name}-{stamp}-{suffix}"
        root.mkdir(parents=True)
        return cls(root)

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def checkpoint(self, name: str) -> Path:
        return self.root / "checkpoints" / f"{name}.safetensors"

    @property
    def started(self) -> bool:
        """Whether training got past its setup here (`mark_started`): such a folder is kept
        when training fails later; one that never started is removed."""
        return (self.root / "checkpoints").is_dir()

    def mark_started(self) -> None:
        (self.root / "checkpoints").mkdir(parents=True, exist_ok=True)

    def mark_latest(self) -> None:
        """Point `<out_dir>/latest` at this run: a relative symlink, replaced atomically; where
        symlinks cannot be made (Windows without the privilege), `latest.txt` names the folder."""
        parent = self.root.parent
        tmp = parent / f".{LATEST}.{os.getpid()}.tmp"
        try:
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.root.name, target_is_directory=True)
            os.replace(tmp, parent / LATEST)
        except OSError:
            tmp.unlink(missing_ok=True)
            write_text(parent / f"{LATEST}.txt", self.root.name + "\n")

    def write_config(self, text: str) -> None:
        write_text(self.config_path, text)


def resumable_runs(parent: str | Path, name: str) -> list[RunDir]:
    """The run folders `parent/name-<stamp>[-N]` that have a checkpoint to resume from, newest
    first (by the stamp in the name, not by file times)."""
    pattern = re.compile(rf"{re.escape(name)}-(\d{{8}}-\d{{6}})(?:-(\d+))?")
    found = []
    for folder in Path(parent).glob(f"{glob.escape(name)}-*"):
        match = pattern.fullmatch(folder.name)
        if match and RunDir(folder).checkpoint("last").is_file():
            found.append((match.group(1), int(match.group(2) or 1), folder))
    return [RunDir(folder) for *_, folder in sorted(found, reverse=True)]
