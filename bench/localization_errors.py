"""Error analysis of stage-1 localization: wrong word or wrong time?

On a finished `bench/synthsign.py` run, splits the localization errors of its stage-1 model on
the test split (judged as `sign2gpt.localization_eval` does, at several thresholds):
predicted spans into right, right word at the wrong time, and word not signed in the video;
true occurrences into found, word predicted elsewhere in the video, and word not predicted.
Writes bench/results/localization-errors-<size>.{json,md}.

    python bench/localization_errors.py --size full     # after bench/synthsign.py --size full
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from pathlib import Path

from common import git_commit, machine_info, markdown_table, save_results
from sign2gpt.data import build_dataset
from sign2gpt.inference.predict import localize_dataset
from sign2gpt.inference.trained import load_trained, transforms
from sign2gpt.localization_eval import Alignment, LocalizationCounts, judge_video, overlaps
from sign2gpt.synthbench.benchmark import SYNTH_FPS, lemma_gloss_alignment
from sign2gpt.train.pretrain_stage import PretrainModule
from synthsign import REPO, SIZES

THRESHOLDS = (0.1, 0.2, 0.3)
# (overlaps one of the others, overlaps none of them, there are none)
SPAN_KINDS = ("span: right", "span: right word, wrong time", "span: word not signed in the video")
SIGN_KINDS = ("sign: found", "sign: word predicted elsewhere", "sign: word not predicted")


def pick_kind(interval: tuple, others: list[tuple], kinds: tuple[str, str, str]) -> str:
    """`kinds[0]` if `interval` overlaps one of `others`, `kinds[1]` if none, `kinds[2]` if
    there are no others (a predicted span against its word's true signs, or a true sign
    against its word's predicted spans)."""
    if any(overlaps(interval, other) for other in others):
        return kinds[0]
    return kinds[1] if others else kinds[2]


def classify(spans: dict, timings: dict, alignment: Alignment) -> dict:
    """Counts of each kind of span and occurrence over every video, plus timing offsets."""
    counts: Counter[str] = Counter()
    offsets = []  # seconds from a wrongly timed span's centre to its word's nearest sign
    for video_id, predicted in spans.items():
        video = judge_video(predicted, timings[video_id], alignment, SYNTH_FPS)
        judged, truth = video.judged, video.truth
        for glosses, span in judged:
            signed = [when for g, when in truth if g in glosses]
            kind = pick_kind(span, signed, SPAN_KINDS)
            counts[kind] += 1
            if kind == SPAN_KINDS[1]:
                centre = (span[0] + span[1]) / 2
                offsets.append(min(abs(centre - (a + b) / 2) for a, b in signed))
        for gloss, when in truth:
            named = [span for glosses, span in judged if gloss in glosses]
            counts[pick_kind(when, named, SIGN_KINDS)] += 1
    scores = LocalizationCounts(
        predicted_spans=sum(counts[k] for k in SPAN_KINDS),
        correct_spans=counts[SPAN_KINDS[0]],
        true_occurrences=sum(counts[k] for k in SIGN_KINDS),
        found_occurrences=counts[SIGN_KINDS[0]],
    )
    return {
        **dict(sorted(counts.items())),
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
        "wrong_time_offset_median_s": round(statistics.median(offsets), 3) if offsets else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    bench = json.loads((REPO / "bench" / "results" / f"synthsign-{args.size}.json")
                       .read_text(encoding="utf-8"))  # fmt: skip
    stage1 = load_trained(Path(bench["runs"]["stage1"]) / "checkpoints" / "best.safetensors")
    module = PretrainModule(stage1.model, transforms(stage1.cfg), stage1.vocab, {}).eval()
    alignment = lemma_gloss_alignment(stage1, module)
    dataset = build_dataset(stage1.cfg.data, args.split, augment=False)
    timings_path = Path(stage1.cfg.data.root) / "timings" / f"{args.split}.json"
    timings = json.loads(timings_path.read_text(encoding="utf-8"))
    by_threshold = {
        str(t): classify(localize_dataset(stage1, dataset, SYNTH_FPS, t), timings, alignment)
        for t in THRESHOLDS
    }
    results = {
        "size": args.size, "split": args.split, "by_threshold": by_threshold,
        "aligned_lemmas": len(alignment), "lemmas": len(stage1.vocab),
        "benchmark_commit": bench["commit"], "commit": git_commit(),
        "machine": machine_info("cpu"),
    }  # fmt: skip
    rows = [{"threshold": t, **counts} for t, counts in by_threshold.items()]
    body = markdown_table(rows, list(rows[0]))
    save_results(f"localization-errors-{args.size}", results, body,
                 title=f"SynthSign {args.size}: localization errors ({args.split})")  # fmt: skip


if __name__ == "__main__":
    main()
