"""Argument helpers shared by the training commands (light imports only)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from sign2gpt.commands.options import add_device

if TYPE_CHECKING:
    from sign2gpt.run_config import RunConfig

AUTO = "auto"  # --resume auto


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """`-c CONFIG`, `--resume RUN_DIR`, `--skip-bad`, `--device` and `key=value` overrides."""
    parser.add_argument("-c", "--config", type=Path, help="YAML run config")
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue a killed or pre-empted run from its last checkpoint (uses the run's "
        "saved config); `-c CONFIG --resume auto`: the newest run of the config's name, or a "
        "new run when there is none (one command line for a requeued SLURM job)",
    )
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave out corpus rows that fail to read (each one is reported); default: stop",
    )
    add_device(parser, default=None)  # sets train.accelerator (cuda:N: that GPU alone)
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
    import sys

    from sign2gpt.models.config import untrained_paper_parts
    from sign2gpt.train.run import launched_rank, summary_line, train_stage

    cfg, run, resuming = _load_or_resume(args, stage, extra)
    talk = launched_rank() == 0  # the other DDP ranks run this too: one voice
    for warning in untrained_paper_parts(cfg.model) if talk else []:
        print(f"warning: {warning}", file=sys.stderr)
    if talk and stage == "translate" and not cfg.init and not resuming:
        print(
            "note: no --init (init: null): the spatial model and sign encoder of stage 2 start "
            "from scratch, not from a stage-1 run"
        )
    try:
        progress = train_stage(cfg, run, resume=resuming, skip_bad=args.skip_bad)
    except Exception:
        if talk and not resuming and not run.started:  # rank 0's folder: rank 0 decides
            shutil.rmtree(run.root, ignore_errors=True)  # set-up failed: leave no folder
        raise
    if talk:
        print(summary_line(progress, selection_metric(cfg)))
        print(f"best checkpoint: {run.checkpoint('best')}")
    return 0


def _load_or_resume(args: argparse.Namespace, stage: str, extra: list[str]):
    """(config, run folder, whether it resumes) from `-c`, `--resume RUN_DIR` or
    `-c C --resume auto`; everything is checked before any work."""
    from sign2gpt.devices import check_available, device_overrides
    from sign2gpt.errors import CheckpointError, ConfigError
    from sign2gpt.run_config import load_run_config
    from sign2gpt.train.run import find_resumable, launched_rank, resume_run, start_run

    auto = args.resume is not None and str(args.resume) == AUTO
    if args.resume is not None and not auto:
        if args.config or args.overrides or extra:
            raise ConfigError("--resume continues a run with its saved config; drop -c/overrides")
        cfg, run = resume_run(args.resume)
        return _on_device(cfg, args), run, True
    if args.config is None:
        hint = " (--resume auto finds the run by the config's name)" if auto else ""
        raise ConfigError(f"give a config with -c CONFIG (or --resume RUN_DIR){hint}")
    # The command names the stage: `pretrain -c <a translate config>` trains stage 1.
    stage_override = ["model.stage=pretrain"] if stage == "pretrain" else []
    overrides = [*stage_override, *args.overrides, *extra, *device_overrides(args.device)]
    cfg = load_run_config(args.config, overrides)
    if cfg.stage != stage:
        command = "pretrain" if cfg.stage == "pretrain" else "train"
        raise ConfigError(f"{args.config}: model.stage is {cfg.stage!r}; use `sign2gpt {command}`")
    if cfg.init and not Path(cfg.init).is_file():
        what = "is a folder, not a checkpoint file" if Path(cfg.init).is_dir() else "does not exist"
        raise CheckpointError(cfg.init, f"init checkpoint (--init / init:) {what}")
    previous = find_resumable(cfg) if auto else None
    if previous is not None:
        if launched_rank() == 0:
            print(f"--resume auto: continuing {previous.root} (with its saved config)")
        cfg, run = resume_run(previous.root)
        return _on_device(cfg, args), run, True
    if auto and launched_rank() == 0:
        print(f"--resume auto: no run of {cfg.name!r} in {cfg.out_dir} to continue; starting one")
    check_available(cfg.train.accelerator, "--device" if args.device else "train.accelerator")
    return cfg, start_run(cfg), False


def _on_device(cfg: RunConfig, args: argparse.Namespace) -> RunConfig:
    """A resumed run's config on `--device` when given (another machine: its device; the
    run's saved config otherwise), checked to be usable here."""
    from sign2gpt.devices import check_available

    if args.device:
        train = dataclasses.replace(cfg.train, accelerator=args.device)
        cfg = dataclasses.replace(cfg, train=train)
    check_available(cfg.train.accelerator, "--device" if args.device else "train.accelerator")
    return cfg
