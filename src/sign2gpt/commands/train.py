"""Stage 2: translation with the frozen LM, its adapters and the stage-1 visual model.

Logs loss, teacher-forced dev token accuracy every epoch and generated dev BLEU-1..4 /
ROUGE-L (beam search) every `train.bleu_every` epochs; keeps the best checkpoint by BLEU-4.
With `features=DIR` (from `sign2gpt extract`) it trains Sign(Z)2GPT on frozen features;
`--init` with that Sign(Z)2GPT checkpoint then goes on end to end, adapters already open.

Example:
  sign2gpt train -c configs/phoenix14t/translate.yaml \
      --init runs/phoenix14t-pretrain-.../checkpoints/best.safetensors
  sign2gpt train --resume runs/phoenix14t-translate-20240101-120000
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.common import add_run_arguments, stage_main


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser)
    parser.add_argument(
        "--init",
        type=Path,
        help="stage-1 checkpoint whose spatial model and sign encoder start this stage, or a "
        "stage-2 one (e.g. Sign(Z)2GPT) that also gives the decoder adapters",
    )


def run(args: argparse.Namespace) -> int:
    extra = [f"init={args.init}"] if args.init else []
    return stage_main(args, "translate", extra)
