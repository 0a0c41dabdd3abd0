"""User-facing errors: one clear message, no traceback from deep inside a library."""

from __future__ import annotations

from pathlib import Path


class Sign2GPTError(Exception):
    """Base class of every error the CLI reports as a one-line message."""

    exit_status = 2  # what the CLI exits with


class ConfigError(Sign2GPTError):
    """A config file or override is invalid (unknown key, wrong type, bad value)."""


class DataError(Sign2GPTError):
    """An input file (video, frames, CSV, text) is missing or malformed."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class CheckpointError(Sign2GPTError):
    """A checkpoint or weight file is missing, is not a checkpoint, or does not fit the model."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class OutputError(Sign2GPTError):
    """An output path cannot be written (under a file, not writable, unknown format)."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")
