"""Evaluate a stage-2 checkpoint on a split with beam search (BLEU-1..4, ROUGE-L).

Writes `<out>/<split>.hyp.txt`, `<split>.ref.txt`, `<split>.ids.txt` and `<split>.json`
(scores with the sacrebleu signature). Default out: the checkpoint's run folder / eval (for an
exported `--model DIR`: DIR-eval beside it, so the model folder stays as exported). The
output folder is checked before any work.

Example:
  sign2gpt evaluate --checkpoint runs/.../checkpoints/best.safetensors --split test
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.options import (
    add_device,
    add_generation,
    add_model_arguments,
    model_path,
    positive_int,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, "stage-2")
    parser.add_argument("--split", default="test", help="split name (default: %(default)s)")
    parser.add_argument(
        "--out", type=Path, help="output folder (default: <run>/eval; --model DIR: DIR-eval)"
    )
    add_generation(parser)
    parser.add_argument(
        "--batch-size", type=positive_int, help="videos per batch (default: config)"
    )
    add_device(parser)
    parser.add_argument("--skip-bad", action="store_true", help="leave out unreadable videos")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from sign2gpt.commands.options import generation_settings
    from sign2gpt.inference.evaluation import evaluate_checkpoint

    result = evaluate_checkpoint(
        model_path(args),
        args.split,
        out=args.out,
        generation=generation_settings(args),
        batch_size=args.batch_size,
        device=args.device,
        skip_bad=args.skip_bad,
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        scores = " ".join(f"{k} {result[k]:.2f}" for k in ("bleu1", "bleu2", "bleu3", "bleu4"))
        print(f"{args.split}: {scores} rouge_l {result['rouge_l']:.2f} ({result['videos']} videos)")
        print(f"signature: {result['sacrebleu_signature']}")
        print(f"wrote {result['files']['scores']}")
    return 0
