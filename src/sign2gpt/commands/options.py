"""The CLI's shared options, defined once: model, device, beams, length, fps, threshold.

Each `add_*` adds options with their validation (argparse `type=` functions, so a bad value
is one line and exit 2 before any work) and their defaults from the library. A command calls
the ones it needs; `generation_settings(args)` and `device_of(args)` read them back.
Light imports only (no torch): `--help` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.devices import DEVICE_NAMES, check_device_name
from sign2gpt.errors import ConfigError
from sign2gpt.generation import PAPER_THRESHOLD, GenerationSettings

DEFAULT_GENERATION = GenerationSettings()


def _convert(text: str, kind: type, what: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    value = _convert(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    if not 0 < _convert(text, float, "a number") < float("inf"):  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return float(text)


def probability(text: str) -> float:
    """argparse type: a number in (0, 1)."""
    if not 0 < _convert(text, float, "a number") < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return float(text)


def device_name(text: str) -> str:
    """argparse type: a device name (`sign2gpt.devices`); availability is checked later."""
    try:
        return check_device_name(text, where="")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(": ")) from None


def add_checkpoint(parser: argparse.ArgumentParser, help: str) -> None:
    """`--checkpoint FILE` (required): commands that need a training checkpoint itself."""
    parser.add_argument("--checkpoint", type=Path, required=True, help=help)


def add_model_arguments(parser: argparse.ArgumentParser, stages: str) -> None:
    """One of `--checkpoint` (a training checkpoint) or `--model` (an exported folder).

    Where the model comes from is chosen here only, for every command that loads one.
    """
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help=f"{stages} checkpoint")
    source.add_argument(
        "--model", type=Path, metavar="DIR", help="model folder written by `sign2gpt export`"
    )


def model_path(args: argparse.Namespace) -> Path:
    """The checkpoint file or model folder given."""
    return args.checkpoint or args.model


def add_device(parser: argparse.ArgumentParser, *, default: str | None = "auto") -> None:
    """`--device`: where the model runs. `default=None` (train): the config's accelerator."""
    shown = "the config's train.accelerator" if default is None else default
    parser.add_argument(
        "--device",
        type=device_name,
        default=default,
        help=f"{DEVICE_NAMES} (default: {shown})",
    )


def add_generation(parser: argparse.ArgumentParser) -> None:
    """`--beams` and `--max-new-tokens` (read back with `generation_settings`)."""
    parser.add_argument(
        "--beams",
        type=positive_int,
        default=DEFAULT_GENERATION.num_beams,
        help="beam size, 1 = greedy (default: %(default)s)",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=positive_int,
        default=DEFAULT_GENERATION.max_new_tokens,
        help="longest translation in tokens (default: %(default)s)",
    )


def add_fps(parser: argparse.ArgumentParser) -> None:
    """`--fps`: overrides the frame rate read from each video file (frame folders: 25)."""
    parser.add_argument(
        "--fps",
        type=positive_float,
        help="frame rate (default: the video file's own; 25 for frame folders)",
    )


def add_threshold(parser: argparse.ArgumentParser) -> None:
    """`--threshold`: the class-probability threshold of pseudo-gloss spans."""
    parser.add_argument(
        "--threshold",
        type=probability,
        default=PAPER_THRESHOLD,
        help="pseudo-gloss class-probability threshold (default: %(default)s, the paper's)",
    )


def generation_settings(args: argparse.Namespace) -> GenerationSettings:
    """The `GenerationSettings` of `--beams` / `--max-new-tokens`."""
    return GenerationSettings(num_beams=args.beams, max_new_tokens=args.max_new_tokens)


def device_of(args: argparse.Namespace):
    """The torch device of `--device`, checked for availability (one line when missing)."""
    from sign2gpt.devices import resolve_device

    return resolve_device(args.device)
