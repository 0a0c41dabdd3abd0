"""Argument helpers shared by the training commands (light imports only)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from sign2gpt.commands.options import add_device


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """`-c CONFIG`, `--resume RUN_DIR`, `--skip-bad`, `--device` and `key=value` overrides."""
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
    add_device(parser, default=None)  # sets train.accelerator (cuda:N: that GPU alone)
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="config overrides, e.g. train.epochs=10 data.batch_size=4",
    )


def stage_main(args: argparse.Namespace, stage: str, extra: list[str]) -> int:
    """Shared body of `pretrain` and `train`: load or resume a run and train it."""
    import shutil

    from sign2gpt.devices import check_available, device_overrides
    from sign2gpt.errors import ConfigError
    from sign2gpt.train.run import resume_run, start_run, summary_line, train_stage
    from sign2gpt.train.run_config import load_run_config

    if args.resume:
        if args.config or args.overrides or extra:
            raise ConfigError("--resume continues a run with its saved config; drop -c/overrides")
        cfg, run = resume_run(args.resume)
        if args.device:  # resuming on another machine: its device, the run's config otherwise
            train = dataclasses.replace(cfg.train, accelerator=args.device)
            cfg = dataclasses.replace(cfg, train=train)
    else:
        if args.config is None:
            raise ConfigError("give a config with -c CONFIG (or --resume RUN_DIR)")
        overrides = [*args.overrides, *extra, *device_overrides(args.device)]
        cfg = load_run_config(args.config, overrides)
        if cfg.stage != stage:
            command = "pretrain" if cfg.stage == "pretrain" else "train"
            raise ConfigError(
                f"{args.config}: model.stage is {cfg.stage!r}; use `sign2gpt {command}`"
            )
        check_available(cfg.train.accelerator, "--device" if args.device else "train.accelerator")
        run = start_run(cfg)
    print(f"run folder: {run.root}")
    try:
        progress = train_stage(cfg, run, resume=bool(args.resume), skip_bad=args.skip_bad)
    except Exception:
        if not args.resume and not run.checkpoint("last").exists():
            shutil.rmtree(run.root, ignore_errors=True)  # nothing trained: leave no folder
        raise
    metric = "gloss_f1" if stage == "pretrain" else "bleu4"
    print(summary_line(progress, metric))
    print(f"best checkpoint: {run.checkpoint('best')}")
    return 0
