"""The folder of one run: merged config, logs, checkpoints and metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sign2gpt.io import write_text


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

    def write_config(self, text: str) -> None:
        write_text(self.config_path, text)
