"""The main job of `make demo`: SynthSign end to end on CPU, from nothing, in minutes.

Generates the SynthSign `small` corpus, trains the stand-in tokenizer + LM and ViT, runs
stage 1 (pseudo-gloss pretraining) and stage 2 (translation), evaluates on test and on the
unseen signer with beam 4, prints the table next to the copy-the-most-frequent-sentence
baseline, shows three translations and writes a localization figure.

Example:
  sign2gpt demo --out demo-out
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.common import add_overrides
from sign2gpt.commands.options import add_device

REPO_CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "synth-small"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="output folder")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=REPO_CONFIGS,
        help="folder with pretrain.yaml and translate.yaml (default: the repository's "
        "configs/synth-small)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    add_device(parser, default=None)
    add_overrides(parser, help="overrides for both stages, e.g. train.epochs=4")


def run(args: argparse.Namespace) -> int:
    from sign2gpt.devices import check_available, device_overrides
    from sign2gpt.errors import ConfigError
    from sign2gpt.synthbench.demo import DemoSettings, run_demo

    if not (args.config_dir / "pretrain.yaml").is_file():
        raise ConfigError(f"{args.config_dir}: no pretrain.yaml (give --config-dir)")
    if args.device:
        check_available(args.device)
    overrides = [*args.overrides, *device_overrides(args.device)]
    device = args.device or "auto"
    run_demo(DemoSettings(args.out, args.config_dir, args.seed, overrides=overrides, device=device))
    return 0
