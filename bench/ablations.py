"""The paper's ablations on SynthSign: one key turned at a time, the same budget and seeds.

Three groups, each against its own baseline, as the paper's tables:
  * stage 2 without pseudo-gloss pretraining (Table 4, upper half): no temporal downsampling,
    no spatial LoRA, global attention, and SignCL in stage 2; each trains stage 2 from scratch
    for the config's epochs;
  * stage 2 with pseudo-gloss pretraining (Table 4, lower half): the position encoding before
    the decoder (none, learned from zero, learned from random; sinusoidal is the baseline) and
    SignCL in both stages; each warm-starts stage 2 from the baseline's stage 1 (Sign(Z)2GPT,
    then end to end: `sign2gpt.train.warm_start`), SignCL from its own stage 1;
  * stage 1 (the localization and token tables): all words as tokens, no sign encoder, SignCL.
Translation rows report test BLEU-4 / ROUGE-L (beam 4), stage-1 rows test pseudo-gloss F1 and
localization P/R/F1 (threshold 0.2), each the mean over `--seeds` seeds (0, 1, ...), beside the
paper's Phoenix14T numbers. The corpus, stand-in LM and stand-in ViT are the SynthSign
benchmark's (`bench/synthsign.py`), built once per size. Writes
bench/results/ablations-<size>.{json,md}.

    python bench/ablations.py --size small --seeds 1 --limit 6 --epochs-scale 0.05  # smoke
    python bench/ablations.py --size full --seeds 3                                  # table
    python bench/ablations.py --size small --first-seed 1 --out-name ablations-small-seed1
    python bench/ablations.py --combine bench/results/ablations-small-seed0.json \
        bench/results/ablations-small-seed1.json                # one table over both runs
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import git_commit, machine_info, markdown_table, save_results
from sign2gpt.config import load_yaml
from sign2gpt.data.readers import read_split
from sign2gpt.inference.evaluation import evaluate_checkpoint
from sign2gpt.inference.trained import load_trained
from sign2gpt.synthbench.benchmark import stage1_report
from sign2gpt.synthbench.demo import cache_frames, pick
from sign2gpt.synthbench.language_model import LMTraining, train_language_model
from sign2gpt.synthbench.synth_corpus import prepare_corpus
from sign2gpt.synthbench.visual_backbone import ViTTraining, train_visual_backbone
from sign2gpt.train.run import start_run, train_stage
from sign2gpt.train.warm_start import train_warm_started
from sign2gpt.train_config import scaled_epochs
from synthsign import REPO, SIZES, stage_config

SIGNCL = "model.sign_encoder.contrastive.enabled=true"


@dataclass(frozen=True)
class Ablation:
    """One row: its group, the overrides it turns, and the paper's number for it."""

    group: str  # "no_pgp" | "pgp" | "stage1"
    overrides: tuple[str, ...]
    paper: str  # the paper's Phoenix14T number (BLEU-4, or stage-1 P / R / F1)


ABLATIONS = {
    "baseline (no PGP)": Ablation("no_pgp", (), "19.55"),
    "no downsampling": Ablation("no_pgp", ("model.sign_encoder.downsample=false",), "19.30"),
    "no spatial LoRA": Ablation("no_pgp", ("model.spatial.lora_blocks=0",), "16.38"),
    "global attention": Ablation("no_pgp", ("model.sign_encoder.window=null",), "18.56"),
    "SignCL (stage 2)": Ablation("no_pgp", (SIGNCL,), "-"),
    "baseline (PGP, sinusoidal PE)": Ablation("pgp", (), "23.20"),
    "no PE": Ablation("pgp", ("model.decoder.sign_pe=false",), "21.68"),
    "learned PE, zero init": Ablation("pgp", ("model.decoder.sign_pe_kind=learned_zero",),
                                      "21.89"),
    "learned PE, random init": Ablation("pgp", ("model.decoder.sign_pe_kind=learned_random",),
                                        "21.16"),
    "SignCL (stages 1 and 2)": Ablation("pgp", (SIGNCL,), "-"),
    "baseline (stage 1)": Ablation("stage1", (), "0.52 / 0.39 / 0.44"),
    "all words as tokens": Ablation("stage1", ("text.gloss_tokens=all_words",),
                                    "0.55 / 0.28 / 0.37"),
    "no sign encoder": Ablation("stage1", (
        "model.sign_encoder.blocks_before=0", "model.sign_encoder.blocks_after=0",
        "model.sign_encoder.downsample=false", "model.sign_encoder.input_pe=false",
    ), "0.50 / 0.25 / 0.33"),
    "SignCL (stage 1)": Ablation("stage1", (SIGNCL,), "-"),
}  # fmt: skip
STAGE1_OWN = {"SignCL (stages 1 and 2)": "SignCL (stage 1)"}  # trains from its own stage 1
TRANSLATION = ("bleu4", "rouge_l")
STAGE1 = ("gloss_f1", "loc_precision", "loc_recall", "loc_f1")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_work_arguments(parser)
    parser.add_argument("--seeds", type=int, default=1,
                        help="seeds --first-seed .. --first-seed+N-1 (default 1)")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--out-name", default=None,
                        help="results file name (default ablations-<size>)")
    parser.add_argument("--combine", nargs="+", type=Path, default=None, metavar="JSON",
                        help="no training: merge the seeds of these result files into one table")
    parser.add_argument("--only", nargs="*", default=None, choices=sorted(ABLATIONS),
                        help="these rows only (and the baselines they need)")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    return args  # fmt: skip


def add_work_arguments(parser: argparse.ArgumentParser, shared: bool = False) -> None:
    """The options `Work` reads (--size, --out, --epochs-scale, --device, --limit); `shared`:
    the script shares this benchmark's work folder, and its --out help says so."""
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    where = ", shared with bench/ablations.py" if shared else ""
    parser.add_argument("--out", type=Path, default=None,
                        help=f"work folder (default runs/bench-ablations-<size>{where})")
    parser.add_argument("--epochs-scale", type=float, default=1.0,
                        help="multiply every epoch count by this (>= 1 each)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--limit", type=int, default=0,
                        help="at most this many sentences per split (0 = all; smoke tests)")


class Work:
    """The shared pieces of one size: corpus, frame cache, stand-in LM and ViT (built once)."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.size = SIZES[args.size]
        self.out = (args.out or REPO / "runs" / f"bench-ablations-{args.size}").resolve()
        self.yaml = {stage: load_yaml(self.size.config_dir / f"{stage}.yaml")
                     for stage in ("pretrain", "translate")}  # fmt: skip
        corpus = self.out / "corpus"
        prepare_corpus(corpus, args.size, 0, limit=args.limit, reuse=True)
        vit, self.lm_dir = self.out / "stand-in-vit.safetensors", self.out / "lm"
        self.common = [f"data.root={corpus}", f"data.cache_dir={self.out / 'cache'}",
                       f"out_dir={self.out / 'runs'}", f"model.spatial.pretrained={vit}"]
        if args.device == "cuda":
            self.common += ["train.accelerator=cuda", "train.precision=bf16-mixed"]
        stage1 = self.config("pretrain", [])
        cache_frames(stage1)
        scale = args.epochs_scale
        if not (self.lm_dir / "config.json").is_file():
            texts = [r.text for r in read_split(stage1.data, "train").records]
            decoder = self.config("translate", []).model.decoder
            train_language_model(texts, decoder, self.lm_dir,
                                 LMTraining(epochs=scaled_epochs(self.size.lm_epochs, scale)))
        self.lm_vocab = load_yaml(self.lm_dir / "config.json")["vocab_size"]
        if not vit.is_file():
            pose = dataclasses.replace(stage1.data, frame_stride=self.size.vit_frame_stride)
            training = ViTTraining(epochs=scaled_epochs(self.size.vit_epochs, scale))
            train_visual_backbone(pose, stage1.model.spatial.vit, vit, training)  # fmt: skip

    def config(self, stage: str, overrides: list[str]):
        path = self.size.config_dir / f"{stage}.yaml"
        extra = [] if stage == "pretrain" else [f"model.decoder.pretrained={self.lm_dir}"]
        if stage == "translate" and hasattr(self, "lm_vocab"):
            extra.append(f"model.decoder.vocab_size={self.lm_vocab}")
        return stage_config(self.yaml[stage], path, [*self.common, *extra, *overrides],
                            self.args.epochs_scale)  # fmt: skip


def run_name(label: str, stage: str, seed: int) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")
    return f"name=ablation-{stage}-{slug}-seed{seed}"


def train_stage1(work: Work, label: str, seed: int) -> Path:
    overrides = [*ABLATIONS[label].overrides, f"train.seed={seed}",
                 run_name(label, "pretrain", seed)]  # fmt: skip
    cfg = work.config("pretrain", overrides)
    run = start_run(cfg)
    train_stage(cfg, run)
    return run.checkpoint("best")


def stage1_scores(checkpoint: Path, device: str) -> dict[str, float]:
    report = stage1_report(load_trained(checkpoint, device), ["test"])
    loc = report["localization"]["test"]
    return {"gloss_f1": report["pseudo_gloss"]["test"]["gloss_f1"],
            **{f"loc_{k}": loc[k] for k in ("precision", "recall", "f1")}}  # fmt: skip


def translation_row(work: Work, label: str, seed: int, stage1: dict[str, Path]) -> dict:
    ablation = ABLATIONS[label]
    overrides = [*ablation.overrides, f"train.seed={seed}", run_name(label, "translate", seed)]
    if ablation.group == "no_pgp":
        cfg = work.config("translate", overrides)
        run = start_run(cfg)
        train_stage(cfg, run)
    else:
        init = stage1[STAGE1_OWN.get(label, "baseline (stage 1)")]
        cfg = work.config("translate", [*overrides, f"init={init}"])
        features = work.out / run_name(label, "features", seed).removeprefix("name=")
        _, run = train_warm_started(cfg, features, work.size.warm_start.scaled(
            work.args.epochs_scale))  # fmt: skip
    scores = evaluate_checkpoint(run.checkpoint("best"), "test", device=work.args.device)
    return {k: v for k, v in pick(scores).items() if k in TRANSLATION}


def selected(only: list[str] | None) -> list[str]:
    """The rows to run: `only` plus the baselines of their groups (all rows by default)."""
    if not only:
        return list(ABLATIONS)
    groups = {ABLATIONS[label].group for label in only}
    keep = set(only) | {label for label, a in ABLATIONS.items() if not a.overrides
                        and a.group in groups}  # fmt: skip
    return [label for label in ABLATIONS if label in keep]


def run_ablations(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    work = Work(args)
    labels = selected(args.only)
    per_seed: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    for seed in seeds:
        stage1: dict[str, Path] = {}
        needs_stage1 = {label for label in labels if ABLATIONS[label].group == "stage1"}
        if any(ABLATIONS[label].group == "pgp" for label in labels):
            needs_stage1 |= {"baseline (stage 1)"} | {STAGE1_OWN[k] for k in labels
                                                       if k in STAGE1_OWN}  # fmt: skip
        for label in (k for k in ABLATIONS if k in needs_stage1):
            stage1[label] = train_stage1(work, label, seed)
            if label in per_seed:
                per_seed[label].append(stage1_scores(stage1[label], args.device))
        for label in labels:
            if ABLATIONS[label].group != "stage1":
                per_seed[label].append(translation_row(work, label, seed, stage1))
    rows = summarise(labels, per_seed)
    return {
        "size": args.size, "seeds": seeds, "rows": rows,
        "settings": {"epochs_scale": args.epochs_scale, "limit": args.limit,
                     "device": args.device,
                     "warm_start": dataclasses.asdict(work.size.warm_start.scaled(
                         args.epochs_scale))},
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_info(args.device), "date": time.strftime("%Y-%m-%d"),
        "commit": git_commit(),
    }  # fmt: skip


def summarise(labels: list[str], per_seed: dict[str, list[dict[str, float]]]) -> list[dict]:
    """One row per ablation: its mean over seeds (and the sample sd with several seeds)."""
    rows = []
    for label in labels:
        ablation, scores = ABLATIONS[label], per_seed[label]
        means = {k: round(statistics.mean(s[k] for s in scores), 4) for k in scores[0]}
        sds = {k: round(statistics.stdev(s[k] for s in scores), 4) for k in scores[0]
               } if len(scores) > 1 else {}  # fmt: skip
        rows.append({"ablation": label, "group": ablation.group, "paper": ablation.paper,
                     "keys": " ".join(ablation.overrides) or "-", **means, "sd": sds,
                     "per_seed": scores})  # fmt: skip
    return rows


def combine(paths: list[Path]) -> dict[str, Any]:
    """Several runs' results (the same size, other seeds) as one: rows over all their seeds."""
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    if len({r["size"] for r in runs}) > 1:
        raise SystemExit(f"--combine: the files are of different sizes: {[str(p) for p in paths]}")
    seeds = [seed for r in runs for seed in r["seeds"]]
    if len(set(seeds)) < len(seeds):
        raise SystemExit(f"--combine: a seed occurs twice ({seeds})")
    labels = [label for label in ABLATIONS if all(any(row["ablation"] == label
              for row in r["rows"]) for r in runs)]  # fmt: skip
    per_seed = {label: [s for r in runs for row in r["rows"] if row["ablation"] == label
                        for s in row["per_seed"]] for label in labels}  # fmt: skip
    return {**runs[0], "seeds": seeds, "rows": summarise(labels, per_seed),
            "seconds": sum(r["seconds"] for r in runs),
            "combined": [{"file": str(p), "commit": r["commit"], "date": r["date"],
                          "seeds": r["seeds"], "machine": r["machine"]}
                         for p, r in zip(paths, runs, strict=True)]}  # fmt: skip


def with_sd(row: dict[str, Any], metrics: tuple[str, ...]) -> dict[str, Any]:
    """`row` with each metric as "mean ± sd" when it has several seeds."""
    sds = row.get("sd") or {}
    return {**row, **{k: f"{row[k]:.3g} ± {sds[k]:.2g}" for k in metrics if k in sds}}


def tables(results: dict[str, Any]) -> str:
    titles = {"no_pgp": "Stage 2 without pseudo-gloss pretraining (test; paper: Phoenix14T "
                        "test BLEU-4)",
              "pgp": "Stage 2 with pseudo-gloss pretraining (test; paper: Phoenix14T test "
                     "BLEU-4)",
              "stage1": "Stage 1 (test pseudo-gloss F1, localization P / R / F1 at 0.2; paper: "
                        "Phoenix14T P / R / F1)"}  # fmt: skip
    parts = [f"SynthSign `{results['size']}`, seeds {results['seeds']}, commit "
             f"{results['commit']}, {results['date']}; {results['seconds'] / 60:.1f} min."]
    for group, title in titles.items():
        rows = [r for r in results["rows"] if r["group"] == group]
        if rows:
            metrics = STAGE1 if group == "stage1" else TRANSLATION
            rows = [with_sd(r, metrics) for r in rows]
            parts += [title + ":", markdown_table(rows, ["ablation", "keys", "paper", *metrics])]
    return "\n\n".join(parts)


def main() -> None:
    args = parse_args()
    results = combine(args.combine) if args.combine else run_ablations(args)
    suffix = "" if args.device == "cpu" else f"-{args.device}"
    name = args.out_name or f"ablations-{results['size']}{suffix}"
    save_results(name, results, tables(results),
                 title=f"SynthSign {results['size']}: the paper's ablations")  # fmt: skip


if __name__ == "__main__":
    main()
