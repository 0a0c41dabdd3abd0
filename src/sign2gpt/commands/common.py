"""Argument helpers shared by the training commands (light imports only)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sign2gpt.run_config import RunConfig


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """`-c CONFIG`, `--resume RUN_DIR`, `--skip-bad` and `key=value` overrides."""
    parser.add_argument("-c", "--config", type=Path, help="YAML run config")
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue a killed run from its last checkpoint (uses the run's saved config)",
    )
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave out corpus rows that fail to read (each one is reported); default: stop",
    )
    add_overrides(parser)


def add_overrides(
    parser: argparse.ArgumentParser,
    help: str = "config overrides, e.g. train.epochs=10 data.batch_size=4",
) -> None:
    """The positional `KEY=VALUE ...` config overrides."""
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help=help)


def selection_metric(cfg: RunConfig) -> str:
    """The dev metric that selects a run's best checkpoint (`train.*_selection`)."""
    from sign2gpt.train import pretrain_stage, translate_stage

    if cfg.stage == "pretrain":
        return pretrain_stage.SELECTION_METRICS[cfg.train.pretrain_selection]
    return translate_stage.SELECTION_METRICS[cfg.train.translate_selection]


def stage_main(args: argparse.Namespace, stage: str, extra: list[str]) -> int:
    """Shared body of `pretrain` and `train`: load or resume a run and train it."""
    import shutil

    from sign2gpt.errors import ConfigError
    from sign2gpt.run_config import load_run_config
    from sign2gpt.train.run import resume_run, start_run, summary_line, train_stage

    if args.resume:
        if args.config or args.overrides or extra:
            raise ConfigError("--resume continues a run with its saved config; drop -c/overrides")
        cfg, run = resume_run(args.resume)
    else:
        if args.config is None:
            raise ConfigError("give a config with -c CONFIG (or --resume RUN_DIR)")
        cfg = load_run_config(args.config, [*args.overrides, *extra])
        if cfg.stage != stage:
            command = "pretrain" if cfg.stage == "pretrain" else "train"
            raise ConfigError(
                f"{args.config}: model.stage is {cfg.stage!r}; use `sign2gpt {command}`"
            )
        run = start_run(cfg)
    print(f"run folder: {run.root}")
    try:
        progress = train_stage(cfg, run, resume=bool(args.resume), skip_bad=args.skip_bad)
    except Exception:
        if not args.resume and not run.checkpoint("last").exists():
            shutil.rmtree(run.root, ignore_errors=True)  # nothing trained: leave no folder
        raise
    print(summary_line(progress, selection_metric(cfg)))
    print(f"best checkpoint: {run.checkpoint('best')}")
    return 0
