"""Evaluate a stage-2 checkpoint on a split with beam search (BLEU-1..4, ROUGE-L).

Writes `<out>/<split>.hyp.txt`, `<split>.ref.txt`, `<split>.ids.txt` and `<split>.json`
(scores with the sacrebleu signature). Default out: the checkpoint's run folder / eval (for an
exported `--model DIR`: DIR-eval beside it, so the model folder stays as exported).

Example:
  sign2gpt evaluate --checkpoint runs/.../checkpoints/best.safetensors --split test
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.model_option import add_model_arguments, model_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, "stage-2")
    parser.add_argument("--split", default="test", help="split name (default: %(default)s)")
    parser.add_argument(
        "--out", type=Path, help="output folder (default: <run>/eval; --model DIR: DIR-eval)"
    )
    parser.add_argument("--beams", type=int, default=4, help="beam size (default: 4)")
    parser.add_argument(
        "--max-new-tokens", type=int, default=64, help="longest output (default: 64)"
    )
    parser.add_argument("--batch-size", type=int, help="videos per batch (default: config)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 ... (default: auto)")
    parser.add_argument("--skip-bad", action="store_true", help="leave out unreadable videos")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from sign2gpt.inference.evaluation import evaluate_checkpoint

    result = evaluate_checkpoint(
        model_path(args),
        args.split,
        out=args.out,
        num_beams=args.beams,
        max_new_tokens=args.max_new_tokens,
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
