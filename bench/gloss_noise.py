"""How much of the gloss sequence must the visual side recognise? The gloss-to-text reference
of SynthSign trained and tested on corrupted glosses (issue 24's diagnosis).

Sign2GPT's decoder can only translate what the sign features carry. The gloss-to-text
reference is the same decoder fed the *true* gloss sequence, so it bounds Sign2GPT from above;
feeding it glosses that are only partly right shows how BLEU falls with recognition. At level
q every gloss of every sentence (train, dev and test: a recogniser errs on all of them) is kept
with probability q, else deleted or replaced by a random training gloss (one half each), drawn
from (seed, sentence id, position) so that every level is reproducible. Each level trains like
the reference of `bench/synthsign.py` (until dev BLEU-4 stops rising) and is scored on test.
The corpus and stand-in LM are `bench/ablations.py`'s (built once per size). Writes
bench/results/gloss-noise-<size>.{json,md}.

    python bench/gloss_noise.py --size small --limit 6 --epochs-scale 0.05   # smoke
    python bench/gloss_noise.py --size small                                  # the table
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from pathlib import Path
from typing import Any

from ablations import Work, add_work_arguments
from common import git_commit, machine_info, markdown_table, save_results
from sign2gpt.data.readers.phoenix import corpus_file
from sign2gpt.synth.generate import UNSEEN_SPLIT
from sign2gpt.synthbench.demo import pick
from sign2gpt.synthbench.gloss_to_text import evaluate_gloss_to_text, train_gloss_to_text
from sign2gpt.train.run import start_run
from synthsign import REFERENCE_PATIENCE

LEVELS = (1.0, 0.75, 0.5, 0.25)
SPLITS = ("train", "dev", "test", UNSEEN_SPLIT)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_work_arguments(parser, shared=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--levels", type=float, nargs="+", default=list(LEVELS),
                        help=f"share of glosses kept (default {' '.join(map(str, LEVELS))})")
    args = parser.parse_args()
    if not all(0.0 <= q <= 1.0 for q in args.levels):
        parser.error("--levels must lie in [0, 1]")
    return args  # fmt: skip


def corrupted(glosses: list[str], keep: float, vocab: list[str], rng: random.Random) -> list[str]:
    """`glosses` with each kept with probability `keep`, else deleted or replaced."""
    out = []
    for gloss in glosses:
        if rng.random() < keep:
            out.append(gloss)
        elif rng.random() < 0.5:
            out.append(rng.choice(vocab))
    return out or [rng.choice(vocab)]  # an empty sequence has nothing to attend to


def write_noisy_corpus(root: Path, out: Path, keep: float, seed: int) -> Path:
    """The corpus CSVs of `root` with corrupted `orth` columns, under `out` (same layout)."""
    tables = {}
    for split in SPLITS:
        lines = corpus_file(root, split).read_text(encoding="utf-8").splitlines()
        tables[split] = list(csv.DictReader(lines, delimiter="|", quoting=csv.QUOTE_NONE))
    vocab = sorted({g for row in tables["train"] for g in row["orth"].split()})
    for split, rows in tables.items():
        for row in rows:
            rng = random.Random(f"{seed}/{split}/{row['name']}")
            row["orth"] = " ".join(corrupted(row["orth"].split(), keep, vocab, rng))
        path = corpus_file(out, split)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="|",
                                    quoting=csv.QUOTE_NONE, lineterminator="\n")  # fmt: skip
            writer.writeheader()
            writer.writerows(rows)
    return out


def run_levels(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    work = Work(args)
    corpus = work.out / "corpus"
    rows = []
    for keep in args.levels:
        t0 = time.perf_counter()
        root = write_noisy_corpus(corpus, work.out / f"gloss-noise-{keep:g}", keep, args.seed)
        cfg = work.config("translate", [
            f"data.root={root}", f"name=gloss-noise-{keep:g}-seed{args.seed}",
            f"train.seed={args.seed}", f"train.epochs={work.size.reference_epochs}",
            "train.bleu_every=1", "train.validate_every=1",
            f"train.patience={REFERENCE_PATIENCE}",
        ])  # fmt: skip
        run = start_run(cfg)
        progress = train_gloss_to_text(cfg, run)
        best = run.checkpoint("best")
        scores = {s: pick(evaluate_gloss_to_text(best, s, device=args.device))
                  for s in ("dev", "test")}  # fmt: skip
        rows.append({"glosses kept": keep, "epochs": progress.epoch,
                     "dev BLEU-4": scores["dev"]["bleu4"], "test BLEU-4": scores["test"]["bleu4"],
                     "test ROUGE-L": scores["test"]["rouge_l"],
                     "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
        print(rows[-1], flush=True)
    return {
        "size": args.size, "seed": args.seed, "rows": rows,
        "settings": {"epochs_scale": args.epochs_scale, "limit": args.limit,
                     "device": args.device, "reference_epochs": work.size.reference_epochs,
                     "patience": REFERENCE_PATIENCE},
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_info(args.device), "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
    }  # fmt: skip


def tables(results: dict[str, Any]) -> str:
    return "\n\n".join((
        f"SynthSign `{results['size']}`, seed {results['seed']}, commit {results['commit']}, "
        f"{results['date']}; {results['seconds'] / 60:.1f} min. Gloss-to-text reference trained "
        "until dev BLEU-4 stopped rising, beam 4.",
        markdown_table(results["rows"], list(results["rows"][0])),
    ))  # fmt: skip


def main() -> None:
    args = parse_args()
    results = run_levels(args)
    save_results(f"gloss-noise-{args.size}", results, tables(results),
                 title=f"SynthSign {args.size}: the gloss-to-text reference on corrupted glosses")


if __name__ == "__main__":
    main()
