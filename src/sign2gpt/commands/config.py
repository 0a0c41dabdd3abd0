"""Print the fully resolved config of a run as YAML: every key, base files and overrides applied.

What `pretrain` / `train` would run with the same -c and KEY=VALUE arguments, including every
default the file leaves out (model presets expanded). The output is itself a config: saved to
a file, `-c` of it gives the same run.

  sign2gpt config -c configs/phoenix14t/translate.yaml train.lr=1e-4 > resolved.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.common import add_overrides


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, required=True, help="YAML run config")
    add_overrides(parser)


def run(args: argparse.Namespace) -> int:
    from sign2gpt.config import dump_yaml
    from sign2gpt.run_config import load_run_config

    cfg = load_run_config(args.config, args.overrides)
    print(f"# {args.config} resolved (sign2gpt config)", *args.overrides, sep=" ")
    print(dump_yaml(cfg), end="")
    return 0
