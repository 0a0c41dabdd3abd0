"""Stage 1: pseudo-gloss pretraining of the spatial model and sign encoder.

Builds the pseudo-gloss vocabulary and prototypes from the training translations (unless
`text.glosses` names a folder from `sign2gpt glosses`), trains with the prototype head, logs
loss and dev pseudo-gloss precision / recall / F1, and keeps the best checkpoint by dev F1.

Example:
  sign2gpt pretrain -c configs/phoenix14t/pretrain.yaml train.epochs=50
  sign2gpt pretrain --resume runs/phoenix14t-pretrain-20240101-120000
"""

from __future__ import annotations

import argparse

from sign2gpt.commands.common import add_run_arguments, stage_main


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return stage_main(args, "pretrain", [])
