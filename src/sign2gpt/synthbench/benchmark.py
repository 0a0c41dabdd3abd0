"""Pieces of the SynthSign benchmark (`bench/synthsign.py`) that other flows can reuse.

- `StageMeter`: wall time and peak memory of each named stage;
- `stage1_report`: what the stage-1 model does on a split: pseudo-gloss F1 and localization
  P/R/F1 against the generator's true gloss timings (`sign2gpt.localization_eval`).
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from sign2gpt.data import EvaluationBatches
from sign2gpt.inference.predict import localize_dataset
from sign2gpt.inference.trained import TrainedModel, transforms
from sign2gpt.localization import PAPER_THRESHOLD
from sign2gpt.localization_eval import Alignment, dice_alignment, score_localization
from sign2gpt.synthbench.demo import StageTimer
from sign2gpt.synthbench.gloss_to_text import read_gloss_sentences
from sign2gpt.train.pretrain_stage import PretrainModule, gloss_f1

SYNTH_FPS = 25.0  # SynthSign timings count frames at 25 fps, before the temporal stride


def _reset_peak_rss() -> bool:
    """Reset the process's peak resident set (Linux: /proc/self/clear_refs); False if not."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _maxrss_mib(who: int) -> float:
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(who).ru_maxrss * scale / 2**20


def _cpu_seconds() -> float:
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


class StageMeter(StageTimer):
    """`StageTimer` that also records each stage's peak memory in `self.stages`.

    Per stage: `seconds` (wall); `cpu_seconds`, user + system CPU time of this process and its
    finished children (on a shared machine the wall time inflates, the CPU time much less);
    `peak_rss_mib`, the process's peak resident memory during the stage
    (`resource.getrusage` maxrss after resetting the peak at the stage start; when the reset is
    not possible, `rss_since_start` is True and the value is the peak since the process
    started); `children_maxrss_mib`, the largest child process so far (the corpus generator's
    workers); `cuda_peak_mib`, `torch.cuda.max_memory_allocated` during the stage (GPU only).
    """

    def __init__(self, device: str = "cpu"):
        super().__init__()
        self.device = device
        self.stages: dict[str, dict[str, Any]] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        reset = _reset_peak_rss()
        cuda = self.device.startswith("cuda") and torch.cuda.is_available()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        cpu_start = _cpu_seconds()
        with super().__call__(name):
            yield
        self.stages[name] = {
            "seconds": round(self.seconds[name], 1),
            "cpu_seconds": round(_cpu_seconds() - cpu_start, 1),
            "peak_rss_mib": round(_maxrss_mib(resource.RUSAGE_SELF)),
            "rss_since_start": not reset,
            "children_maxrss_mib": round(_maxrss_mib(resource.RUSAGE_CHILDREN)),
            "cuda_peak_mib": round(torch.cuda.max_memory_allocated() / 2**20) if cuda else None,
        }


def lemma_gloss_alignment(stage1: TrainedModel, module: PretrainModule) -> Alignment:
    """Dice alignment of pseudo-glosses to sign glosses over the training split."""
    data = stage1.cfg.data
    sentences = read_gloss_sentences(data.root, data.train_split)
    return dice_alignment((module.glosses_of(s.text), s.glosses) for s in sentences)


def stage1_report(
    stage1: TrainedModel,
    splits: list[str],
    *,
    localization_threshold: float = PAPER_THRESHOLD,
    alignment: Alignment | None = None,
) -> dict[str, Any]:
    """Pseudo-gloss P/R/F1 (scores > `text.gloss_threshold`) and localization on each split.

    Args:
        stage1: the stage-1 model (`load_trained` of its best checkpoint).
        splits: corpus splits with timings (`<root>/timings/<split>.json`).
        localization_threshold: on the class softmax (0.2 as the paper).
        alignment: lemma -> glosses; default: Dice over the training split.
    """
    from sign2gpt.data import build_dataset

    cfg = stage1.cfg
    module = PretrainModule(stage1.model, transforms(cfg), stage1.vocab, {}).eval()
    alignment = alignment if alignment is not None else lemma_gloss_alignment(stage1, module)
    report: dict[str, Any] = {
        "alignment": {
            "method": "sentence-level Dice over the training split, best gloss per lemma",
            "aligned_lemmas": len(alignment),
            "lemmas": len(stage1.vocab),
        },
        "pseudo_gloss": {},
        "localization": {},
    }
    for split in splits:
        dataset = build_dataset(cfg.data, split, augment=False)
        with torch.no_grad():
            report["pseudo_gloss"][split] = gloss_f1(
                module, EvaluationBatches(dataset), cfg.text.gloss_threshold
            )
        spans = localize_dataset(stage1, dataset, SYNTH_FPS, localization_threshold)
        timings_path = Path(cfg.data.root) / "timings" / f"{split}.json"
        timings = json.loads(timings_path.read_text(encoding="utf-8"))
        counts = score_localization(spans, timings, alignment, SYNTH_FPS)
        report["localization"][split] = {**counts.as_dict(), "threshold": localization_threshold}
    return report
