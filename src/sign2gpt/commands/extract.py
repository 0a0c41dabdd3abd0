"""Sign(Z)2GPT: extract the frozen stage-1 features Z of a split once (safetensors shards).

Runs the stage-1 spatial model and sign encoder (evaluation transform) over every video of the
split and writes `<out>/<split>-NNNNN.safetensors` plus `<out>/<split>.json`. Then train only
the decoder adapters on them, with no video decoding:

  sign2gpt extract --checkpoint runs/<stage-1>/checkpoints/best.safetensors --split train --out z
  sign2gpt extract --checkpoint runs/<stage-1>/checkpoints/best.safetensors --split dev --out z
  sign2gpt train -c configs/phoenix14t/translate.yaml features=z model.freeze_visual=true \\
      --init runs/<stage-1>/checkpoints/best.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.options import add_checkpoint, add_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_checkpoint(parser, "stage-1 checkpoint")
    parser.add_argument("--split", required=True, help="split to extract (e.g. train, dev)")
    parser.add_argument("--out", type=Path, required=True, help="feature folder")
    add_device(parser)
    parser.add_argument("--skip-bad", action="store_true", help="leave out unreadable videos")


def run(args: argparse.Namespace) -> int:
    from sign2gpt.commands.options import device_of
    from sign2gpt.errors import CheckpointError
    from sign2gpt.inference.trained import load_trained
    from sign2gpt.output_paths import check_output_folder
    from sign2gpt.train.features import extract_features

    check_output_folder(args.out, "feature folder")
    trained = load_trained(args.checkpoint, device_of(args))
    if trained.cfg.stage != "pretrain":
        raise CheckpointError(args.checkpoint, "is not a stage-1 (pretrain) checkpoint")
    index = extract_features(trained, args.split, args.out, skip_bad=args.skip_bad)
    print(f"wrote {index}")
    return 0
