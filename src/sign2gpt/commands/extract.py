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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="stage-1 checkpoint")
    parser.add_argument("--split", required=True, help="split to extract (e.g. train, dev)")
    parser.add_argument("--out", type=Path, required=True, help="feature folder")
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (default: auto)")
    parser.add_argument("--skip-bad", action="store_true", help="leave out unreadable videos")


def run(args: argparse.Namespace) -> int:
    from sign2gpt.errors import CheckpointError
    from sign2gpt.inference.evaluation import pick_device
    from sign2gpt.inference.trained import load_trained
    from sign2gpt.train.features import extract_features

    trained = load_trained(args.checkpoint, pick_device(args.device))
    if trained.cfg.stage != "pretrain":
        raise CheckpointError(args.checkpoint, "is not a stage-1 (pretrain) checkpoint")
    index = extract_features(trained, args.split, args.out, skip_bad=args.skip_bad)
    print(f"wrote {index}")
    return 0
