"""Score translations: corpus BLEU-1..4 and ROUGE-L (beta 1.2), as SLT papers report them.

Both files hold one sentence per line, line i of --hyp translating the sentence of line i of
--ref. BLEU-n is sacrebleu's cumulative corpus BLEU up to n-grams; ROUGE-L is the MS-COCO
caption definition (mean sentence F, beta 1.2). Scores are on the 0-100 scale.

The BLEU convention changes the numbers (docs/evaluation-and-training.md):
  --tokenize 13a  --smooth exp     sacrebleu's defaults (GFSLT-VLP; ours by default)
  --tokenize none --smooth floor   signjoey and the Sign2GPT authors' code (the paper's numbers)
  --tokenize char                  every character a token (CSL-Daily; auto for --lang zh)

--against BASELINE.hyp also tests whether --hyp's BLEU-4 differs from that baseline's on the
same references by more than the choice of sentences explains (sacrebleu's paired bootstrap).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from sign2gpt.commands.options import positive_int
from sign2gpt.errors import DataError

# Literal copies of sign2gpt.metrics' choices would drift; importing it is light (no torch).
from sign2gpt.metrics import SMOOTH_CHOICES, TOKENIZE_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hyp", required=True, type=Path, help="system outputs, one per line")
    parser.add_argument("--ref", required=True, type=Path, help="references, one per line")
    parser.add_argument(
        "--lang", default="de", help="language of the text; 'zh' scores characters (default: de)"
    )
    parser.add_argument(
        "--tokenize", default="auto", choices=TOKENIZE_CHOICES,
        help="BLEU tokenisation: auto = char for --lang zh, else 13a; none = whitespace only "
        "(signjoey); zh = sacrebleu's Chinese tokenizer (default: auto)",
    )
    parser.add_argument(
        "--smooth", default="exp", choices=SMOOTH_CHOICES,
        help="BLEU smoothing: exp (sacrebleu's default) or floor with value 0 (signjoey) "
        "(default: exp)",
    )
    parser.add_argument(
        "--against", type=Path, default=None, metavar="BASELINE_HYP",
        help="another system's outputs for the same references: paired bootstrap test of the "
        "BLEU-4 difference",
    )
    parser.add_argument(
        "--samples", type=positive_int, default=1000,
        help="bootstrap resamples for --against (default: 1000)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not UTF-8 text ({exc})") from None


def run(args: argparse.Namespace) -> int:
    from sign2gpt.metrics import BleuConvention, paired_bleu4, translation_scores

    hyps, refs = _read_lines(args.hyp), _read_lines(args.ref)
    if len(hyps) != len(refs):
        raise DataError(args.hyp, f"{len(hyps)} lines, but {args.ref} has {len(refs)}")
    baseline = None if args.against is None else _read_lines(args.against)
    if baseline is not None and len(baseline) != len(refs):
        raise DataError(args.against, f"{len(baseline)} lines, but {args.ref} has {len(refs)}")
    if baseline is not None and not refs:
        raise DataError(args.ref, "no sentences to compare --against on")
    convention = BleuConvention(tokenize=args.tokenize, smooth=args.smooth)
    scores = translation_scores(hyps, refs, lang=args.lang, convention=convention)
    paired = None
    if baseline is not None:
        paired = paired_bleu4(hyps, baseline, refs, args.lang, convention, args.samples)
    if args.json:
        extra = {} if paired is None else {"against": dataclasses.asdict(paired)}
        print(json.dumps({**scores, "sentences": len(hyps), **extra}, ensure_ascii=False))
        return 0
    print(f"sentences: {len(hyps)}")
    for key in ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l"):
        print(f"{key:>8}: {scores[key]:6.2f}")
    print(f"sacrebleu: {scores['sacrebleu_signature']}")
    if paired is not None:
        print(f"against {args.against}: BLEU-4 {paired.system:.2f} ± {paired.system_ci95:.2f} "
              f"vs {paired.baseline:.2f} ± {paired.baseline_ci95:.2f} (95% intervals), "
              f"difference {paired.difference:+.2f}, p = {paired.p_value:.3f} "
              f"(paired bootstrap, {paired.samples} resamples)")  # fmt: skip
    return 0
