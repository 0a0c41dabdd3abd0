"""Ablation: the stage-2 warm start without pseudo-gloss pretraining.

`bench/synthsign.py` trains Sign2GPT with PGP warm-started (Sign(Z)2GPT on the frozen stage-1
features, then end to end) and Sign2GPT without PGP end to end from scratch, as the paper.
This script separates the two changes: on a finished benchmark work folder it trains stage 2
warm-started from stage 1 *at step 0* (the visual side as stage 1 starts: the stand-in ViT,
fresh LoRA, a random sign encoder; seeded like the benchmark's runs), with the benchmark's
epochs, and scores it as the benchmark scores its rows. Writes
bench/results/warm-start-without-pgp-<size>.{json,md}.

    python bench/warm_start_ablation.py --size full     # after bench/synthsign.py --size full
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from common import machine_info, markdown_table, save_results
from sign2gpt.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from sign2gpt.inference.trained import load_trained
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.run_config import load_run_config
from sign2gpt.synthbench.demo import METRICS, pick
from sign2gpt.synthbench.video_reliance import video_reliance
from sign2gpt.train.checkpointing import checkpoint_tensors
from sign2gpt.train.warm_start import WarmStart, train_warm_started
from synthsign import REPO, SIZES, SPLITS, evaluate_all, git_commit


def step0_stage1(stage1_best: Path, path: Path) -> Path:
    """Save stage 1 as it starts (same config, pseudo-glosses and seed, no step taken)."""
    trained = load_trained(stage1_best)
    torch.manual_seed(trained.cfg.train.seed)
    model = Sign2GPT(trained.cfg.model, num_glosses=len(trained.vocab))
    model.load_pretrained()
    meta = load_checkpoint(stage1_best).meta
    meta = {"config": meta["config"], "stage": "pretrain", "glosses": meta["glosses"]}
    save_checkpoint(path, Checkpoint(model=checkpoint_tensors(model), meta=meta))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()
    suffix = "" if args.device == "cpu" else f"-{args.device}"
    bench = json.loads((REPO / "bench" / "results" / f"synthsign-{args.size}{suffix}.json")
                       .read_text(encoding="utf-8"))  # fmt: skip
    runs = {k: Path(v) for k, v in bench["runs"].items()}
    work = runs["stage1"].parent.parent  # <work>/runs/<stage-1 run>
    started = time.perf_counter()
    init = step0_stage1(runs["stage1"] / "checkpoints" / "best.safetensors",
                        work / "stage1-step0.safetensors")  # fmt: skip
    # The benchmark's end-to-end config of Sign2GPT with PGP, started from step 0 instead.
    cfg = load_run_config(runs["with_pgp"] / "config.yaml")
    cfg = dataclasses.replace(cfg, init=str(init), name="synth-translate-warm-no-pgp")
    epochs = WarmStart(**bench["settings"]["warm_start"])
    z_run, run = train_warm_started(cfg, work / "stage1-step0-features", epochs)
    best = run.checkpoint("best")
    full = evaluate_all(best, args.device)
    reliance = video_reliance(load_trained(best, args.device), "dev")
    z_best = json.loads(z_run.metrics_path.read_text(encoding="utf-8"))["best"]
    results = {
        "size": args.size,
        "warm_start_without_pgp": {split: pick(full[split]) for split in SPLITS},
        "benchmark": {k: bench[k] for k in ("with_pgp", "without_pgp", "commit", "date")},
        "dev_video_reliance": dataclasses.asdict(reliance),
        "sign_z2gpt_best_dev": z_best,
        "warm_start": dataclasses.asdict(epochs),
        "seconds": round(time.perf_counter() - started, 1),
        "runs": {"sign_z2gpt": str(z_run.root), "end_to_end": str(run.root)},
        "machine": machine_info(args.device),
        "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
    }
    rows = [
        {"model": label, "split": split, **source[split]}
        for label, source in (
            ("Sign2GPT with PGP, warm start (benchmark)", bench["with_pgp"]),
            ("Sign2GPT without PGP, warm start (this run)", results["warm_start_without_pgp"]),
            ("Sign2GPT without PGP, end to end (benchmark)", bench["without_pgp"]),
        )
        for split in SPLITS
    ]
    body = "\n\n".join((
        f"SynthSign `{args.size}`; benchmark run {bench['commit']} ({bench['date']}); this "
        f"run {results['commit']}, {results['seconds'] / 60:.1f} min.",
        markdown_table(rows, ["model", "split", *METRICS]),
        f"Dev token accuracy of the warm start without PGP, own / other video: "
        f"{reliance.token_accuracy:.4f} / {reliance.token_accuracy_other_video:.4f}.",
    ))  # fmt: skip
    save_results(f"warm-start-without-pgp-{args.size}{suffix}", results, body,
                 title=f"SynthSign {args.size}: warm start without PGP")  # fmt: skip


if __name__ == "__main__":
    main()
