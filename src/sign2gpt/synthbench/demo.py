"""`sign2gpt demo`: the whole method on CPU from nothing, in minutes.

Generates SynthSign `small`, trains the stand-in tokenizer + LM and the stand-in ViT, runs
stage 1 and stage 2, evaluates on test and on the unseen signer, compares with copying the most
frequent training sentence, shows three translations and writes a localization figure.

Stage 2 is warm-started (`sign2gpt.train.warm_start`): Sign(Z)2GPT on the frozen stage-1
features first, then everything end to end from it at a lower learning rate. Measured on
SynthSign `small` (seed 0, 2-core AMD EPYC, one thread): 6 end-to-end epochs from stage 1 gave
test BLEU-4 8.10, while 30 Sign(Z)2GPT epochs (5x cheaper each) gave 18.83 and one end-to-end
epoch after them at lr 3e-4 gave 20.34 (at lr 2e-3: 20.25, with a dip in dev BLEU first).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sign2gpt.data.cache import FrameCache, write_cache
from sign2gpt.data.readers import read_split
from sign2gpt.inference.evaluation import evaluate_checkpoint
from sign2gpt.inference.localize import localize_video
from sign2gpt.inference.trained import load_trained
from sign2gpt.io import write_json
from sign2gpt.metrics import translation_scores
from sign2gpt.run_config import RunConfig, load_run_config
from sign2gpt.synthbench.language_model import LMTraining, train_language_model
from sign2gpt.synthbench.synth_corpus import prepare_corpus
from sign2gpt.synthbench.visual_backbone import ViTTraining, train_visual_backbone
from sign2gpt.train.run import start_run, train_stage
from sign2gpt.train.warm_start import WarmStart, train_end_to_end_from, train_sign_z2gpt

METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l")


@dataclass
class DemoSettings:
    """What `sign2gpt demo` runs; the defaults fit in 10 minutes on 2 CPU cores."""

    out: Path
    config_dir: Path
    seed: int = 0
    lm: LMTraining = field(default_factory=lambda: LMTraining(epochs=4))
    vit: ViTTraining = field(default_factory=lambda: ViTTraining(epochs=4))
    # Stage 2: Sign(Z)2GPT epochs on the frozen stage-1 features, then end-to-end epochs.
    warm_start: WarmStart = field(
        default_factory=lambda: WarmStart(z_epochs=30, end_to_end_epochs=1, end_to_end_lr=3e-4)
    )
    overrides: list[str] = field(default_factory=list)  # applied to both stages
    device: str = "auto"  # where the evaluation runs (training: train.accelerator)
    limit: int = 0  # at most this many sentences per split (0 = all; tests use a few)


class StageTimer:
    """Wall time of each named stage, printed as it ends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - started
        print(f"=== {name}: {self.seconds[name]:.1f} s ===", flush=True)


def run_demo(settings: DemoSettings) -> dict[str, Any]:
    """Run every step; returns (and writes to <out>/demo-results.json) the results."""
    out = settings.out.resolve()
    corpus, vit_path, lm_dir = out / "synthsign-small", out / "stand-in-vit.safetensors", out / "lm"
    timer = StageTimer()
    with timer("generate SynthSign small"):
        prepare_corpus(corpus, "small", settings.seed, limit=settings.limit)
    common = [
        f"data.root={corpus}",
        f"data.cache_dir={out / 'cache'}",
        f"out_dir={out / 'runs'}",
        f"model.spatial.pretrained={vit_path}",
        f"train.seed={settings.seed}",
        *settings.overrides,
    ]
    stage1_cfg = load_run_config(settings.config_dir / "pretrain.yaml", common)
    with timer("cache decoded frames"):
        cache_frames(stage1_cfg)
    train_texts = [r.text for r in read_split(stage1_cfg.data, "train").records]
    with timer("stand-in LM + tokenizer"):
        decoder = load_run_config(settings.config_dir / "translate.yaml", common).model.decoder
        train_language_model(train_texts, decoder, lm_dir, settings.lm)
    with timer("stand-in ViT (pose regression)"):
        train_visual_backbone(stage1_cfg.data, stage1_cfg.model.spatial.vit, vit_path, settings.vit)
    with timer("stage 1: pseudo-gloss pretraining"):
        stage1_run = start_run(stage1_cfg)
        stage1 = train_stage(stage1_cfg, stage1_run)
    stage2_cfg = load_run_config(
        settings.config_dir / "translate.yaml",
        [
            *common,
            f"init={stage1_run.checkpoint('best')}",
            f"model.decoder.pretrained={lm_dir}",  # vocab_size: read from the folder
        ],
    )
    epochs = settings.warm_start
    with timer("stage 2a: Sign(Z)2GPT on the frozen stage-1 features"):
        z_run = train_sign_z2gpt(stage2_cfg, out / "stage1-features", epochs.z_epochs)
    with timer("stage 2b: end to end from Sign(Z)2GPT"):
        stage2_run = train_end_to_end_from(stage2_cfg, z_run, epochs)
    best = stage2_run.checkpoint("best")
    with timer("evaluate (beam 4)"):
        test = evaluate_checkpoint(best, "test", device=settings.device)
        unseen = evaluate_checkpoint(best, "test_unseen_signer", device=settings.device)
        z_test = evaluate_checkpoint(z_run.checkpoint("best"), "test", device=settings.device)
    baseline = frequent_sentence_scores(train_texts, references_of(test))
    with timer("localization figure"):
        figure = out / "localization.png"
        spans = localization_example(stage1_run.checkpoint("best"), stage1_cfg, figure)
    results = {
        "sign2gpt_test": pick(test),
        "sign2gpt_test_unseen_signer": pick(unseen),
        "sign_z2gpt_test": pick(z_test),
        "frequent_sentence_test": pick(baseline),
        "pseudo_gloss_f1_dev": stage1.best_metric,
        "seconds": timer.seconds,
        "examples": examples(test, 3, settings.seed),
        "localization": {"figure": str(figure), "spans": spans},
        "runs": {
            "stage1": str(stage1_run.root),
            "sign_z2gpt": str(z_run.root),
            "stage2": str(stage2_run.root),
        },
    }
    write_json(out / "demo-results.json", results)
    print_report(results)
    return results


def cache_frames(cfg: RunConfig) -> None:
    """Decode every split's PNGs once into the memory-mapped frame cache.

    A cache left by an earlier run is reused only when it holds every video at these settings
    (an output folder reused with another `data.resize` would otherwise decode PNGs all run).
    """
    for split in cfg.data.all_splits:
        records = read_split(cfg.data, split).records
        cache = FrameCache.open(cfg.data, split, records)
        if cache is None or any(r.id not in cache for r in records):
            write_cache(cfg.data, split, records)


def frequent_sentence_scores(train_texts: list[str], references: list[str]) -> dict:
    """The copy-the-most-frequent-training-sentence baseline on `references`."""
    sentence = Counter(train_texts).most_common(1)[0][0]
    return translation_scores([sentence] * len(references), references)


def references_of(result: dict) -> list[str]:
    path = Path(result["files"]["references"])
    return path.read_text(encoding="utf-8").splitlines()


def pick(scores: dict) -> dict[str, float]:
    return {k: round(float(scores[k]), 2) for k in METRICS}


def examples(result: dict, count: int, seed: int) -> list[dict[str, str]]:
    """`count` test videos drawn at random (fixed by `seed`, not chosen by their scores), with
    their translation and reference."""
    files = result["files"]
    read = [
        Path(files[k]).read_text(encoding="utf-8").splitlines()
        for k in ("ids", "hypotheses", "references")
    ]
    rows = list(zip(*read, strict=True))
    picked = sorted(random.Random(seed).sample(range(len(rows)), min(count, len(rows))))
    return [
        {"video": i, "translation": h, "reference": r}
        for i, h, r in (rows[k] for k in picked)
    ]


def localization_example(checkpoint: Path, cfg: RunConfig, figure: Path) -> list[dict]:
    """Localize the first test video with the stage-1 model; write the figure."""
    record = read_split(cfg.data, cfg.data.test_split).records[0]
    stage1 = load_trained(checkpoint)
    spans, _ = localize_video(stage1, record.source, figure, fps=25.0, threshold=0.2)
    return spans


def print_report(results: dict[str, Any]) -> None:
    header = f"{'':<34}" + "".join(f"{m:>9}" for m in METRICS)
    print("\n" + header)
    for label, key in (
        ("Sign2GPT (test)", "sign2gpt_test"),
        ("Sign2GPT (unseen signer)", "sign2gpt_test_unseen_signer"),
        ("Sign(Z)2GPT alone (test)", "sign_z2gpt_test"),
        ("most frequent sentence (test)", "frequent_sentence_test"),
    ):
        print(f"{label:<34}" + "".join(f"{results[key][m]:>9.2f}" for m in METRICS))
    print(f"\npseudo-gloss F1 (dev, stage 1): {results['pseudo_gloss_f1_dev']:.3f}")
    print("time per stage: " + ", ".join(f"{k} {v:.0f} s" for k, v in results["seconds"].items()))
    print(f"total: {sum(results['seconds'].values()):.0f} s\n")
    print("three test videos drawn at random:")
    for example in results["examples"]:
        print(example["video"])
        print(f"  translation: {example['translation']}")
        print(f"  reference:   {example['reference']}")
    print(f"\nlocalization figure: {results['localization']['figure']}")
    best = Path(results["runs"]["stage2"]) / "checkpoints" / "best.safetensors"
    print(f"\ntry it in the browser (docs/web.md): sign2gpt serve --checkpoint {best}")
