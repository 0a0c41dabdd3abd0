"""`--checkpoint FILE | --model DIR`: the trained model a command loads (light imports)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_model_arguments(parser: argparse.ArgumentParser, stages: str) -> None:
    """One of `--checkpoint` (a training checkpoint) or `--model` (an exported folder)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help=f"{stages} checkpoint")
    source.add_argument(
        "--model", type=Path, metavar="DIR", help="model folder written by `sign2gpt export`"
    )


def model_path(args: argparse.Namespace) -> Path:
    """The checkpoint file or model folder given."""
    return args.checkpoint or args.model
