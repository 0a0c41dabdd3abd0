"""Generate a whole SynthSign corpus: sentences -> recipes -> videos on worker processes -> disk.

Determinism: every video draws all its randomness from its own generator, seeded by
(seed, split, index), and results are written in sentence order, so the output is byte-identical
for the same seed whatever the number of workers.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

from sign2gpt.errors import ConfigError, DataError
from sign2gpt.io import write_json
from sign2gpt.synth import grammar, recipes, writer
from sign2gpt.synth.estimator import KeypointNoise, estimate_keypoints
from sign2gpt.synth.motion import MotionParams, plan_video
from sign2gpt.synth.png import encode_pngs
from sign2gpt.synth.render import KEYPOINTS, renderer_for
from sign2gpt.synth.signers import SIGNERS, TRAIN_SIGNERS, UNSEEN_SIGNER
from sign2gpt.synth.sources import (
    SPLITS,
    Sentence,
    default_text_dir,
    fingerprint,
    read_phoenix_text,
)

UNSEEN_SPLIT = "test_unseen_signer"
SPLIT_CODES = {"train": 0, "dev": 1, "test": 2, UNSEEN_SPLIT: 3}
# Sentences per split of the grammar-made `small` corpus: enough for `make demo` to learn
# something on a CPU in minutes, small enough to generate in well under a minute.
SMALL_SIZES = {"train": 800, "dev": 100, "test": 100}
_VERSION = 1


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """Everything that determines the corpus's bytes (besides the text for `full`)."""

    size: Literal["small", "full"] = "small"
    seed: int = 0
    image_size: int = 64
    noise: int = 3  # uniform pixel noise in [-noise, noise] grey levels
    drop_prob: float = 0.02
    camera_jitter: float = 0.3
    limit: int = 0  # at most this many sentences per split (0 = all), for quick corpora
    # Also write each video's keypoints as a pose estimator would give them (for
    # `model.spatial.kind: pose`); the videos' bytes do not depend on it.
    keypoints: bool = False
    keypoint_noise: KeypointNoise = dataclasses.field(default_factory=KeypointNoise)

    def __post_init__(self) -> None:
        if self.size not in ("small", "full"):
            raise ConfigError(f"size must be 'small' or 'full', got {self.size!r}")
        if not 16 <= self.image_size <= 512:
            raise ConfigError(f"image_size must be within 16..512, got {self.image_size}")
        if not 0 <= self.noise <= 64 or not 0 <= self.drop_prob < 0.5 or self.limit < 0:
            raise ConfigError("noise must be 0..64, drop_prob in [0, 0.5) and limit >= 0")
        if not 0 <= self.camera_jitter <= 1:
            raise ConfigError(f"camera_jitter must be in [0, 1], got {self.camera_jitter}")

    def motion(self) -> MotionParams:
        return MotionParams(camera_jitter=self.camera_jitter, drop_prob=self.drop_prob)


@dataclasses.dataclass(frozen=True)
class _Job:
    split: str
    index: int
    name: str
    sentence: Sentence
    signer: int


# Per-process state of the workers (set once by `_init_worker`, read by `_render_job`).
_STATE: dict = {}


def _init_worker(cfg: SynthConfig, gloss_recipes: dict, root: Path) -> None:
    _STATE.update(cfg=cfg, recipes=gloss_recipes, root=root, motion=cfg.motion())


def _render_job(job: _Job) -> writer.VideoRecord:
    cfg: SynthConfig = _STATE["cfg"]
    rng = np.random.default_rng([cfg.seed, SPLIT_CODES[job.split], job.index])
    renderer = renderer_for(job.signer, cfg.image_size)
    timeline = plan_video(list(job.sentence.glosses), _STATE["recipes"], SIGNERS[job.signer], rng,
                          _STATE["motion"], renderer.scale)
    frames, keypoints = renderer.render(timeline, rng, cfg.noise)
    writer.write_frames(writer.frame_dir(_STATE["root"], job.split, job.name),
                        encode_pngs(frames))
    if cfg.keypoints:
        # Their own generator: the videos stay byte-identical with keypoints on or off.
        estimator_rng = np.random.default_rng([cfg.seed, SPLIT_CODES[job.split], job.index, 1])
        points, confidence = estimate_keypoints(timeline, keypoints, SIGNERS[job.signer],
                                                renderer.scale, estimator_rng,
                                                cfg.keypoint_noise)  # fmt: skip
        writer.write_keypoint_file(writer.keypoint_file(_STATE["root"], job.split, job.name),
                                   points, confidence, cfg.image_size)  # fmt: skip
    return writer.VideoRecord(
        name=job.name, signer=SIGNERS[job.signer].name, glosses=job.sentence.glosses,
        text=job.sentence.text, num_frames=len(frames), timings=timeline.timings,
        keypoints=keypoints,
        cues=np.concatenate([timeline.hand_shape, timeline.face[:, None]], axis=1),
    )


def load_sentences(cfg: SynthConfig, text_dir: str | Path | None = None
                   ) -> tuple[dict[str, list[Sentence]], list[str], str]:
    """The sentences of each split, the gloss vocabulary for recipes, and the text's name.

    Args:
        cfg: generator config (`size` picks the source).
        text_dir: Phoenix14T text (`full` only); default ../shared/data/phoenix14t-text.
    """
    if cfg.size == "small":
        # Distinct seeds per split, so the splits are different draws from the grammar.
        splits = {split: grammar.generate_sentences(SMALL_SIZES[split], cfg.seed * 7 + i)
                  for i, split in enumerate(SPLITS)}
        vocabulary, source = grammar.gloss_vocabulary(), "sign2gpt weather-report grammar"
    else:
        folder = Path(text_dir) if text_dir is not None else default_text_dir()
        if text_dir is None and not folder.is_dir():
            raise DataError(folder, "no Phoenix14T text here; pass --text-dir")
        splits = read_phoenix_text(folder)
        vocabulary = sorted({g for sents in splits.values() for s in sents for g in s.glosses})
        source = f"Phoenix14T text ({folder.name})"
    if cfg.limit:
        splits = {split: sents[:cfg.limit] for split, sents in splits.items()}
    return splits, vocabulary, source


def plan_jobs(cfg: SynthConfig, splits: dict[str, list[Sentence]]) -> list[_Job]:
    """One job per video; signers 1-8 spread evenly over train/dev/test, signer 9 alone."""
    jobs = []
    for split in (*SPLITS, UNSEEN_SPLIT):
        sentences = splits["test" if split == UNSEEN_SPLIT else split]
        if split == UNSEEN_SPLIT:
            signers = np.full(len(sentences), UNSEEN_SIGNER)
        else:
            order = np.random.default_rng([cfg.seed, SPLIT_CODES[split], 1 << 30])
            signers = np.array(TRAIN_SIGNERS)[order.permutation(len(sentences)) % len(
                TRAIN_SIGNERS)]
        jobs += [_Job(split, i, f"{split}_{i:05d}", s, int(signers[i]))
                 for i, s in enumerate(sentences)]
    return jobs


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def generate_corpus(cfg: SynthConfig, out: str | Path, *, text_dir: str | Path | None = None,
                    workers: int | None = None, force: bool = False,
                    progress: bool = True) -> dict:  # fmt: skip
    """Write a SynthSign corpus to `out` and return its metadata (also in synthsign.json).

    The corpus is built in a hidden sibling folder and renamed to `out` only when complete.

    Args:
        cfg: generator config.
        out: output folder; must not exist unless `force` (then it must be a SynthSign corpus).
        text_dir: Phoenix14T text for `full`.
        workers: worker processes (the output does not depend on it); None = one per
            available core.
        force: replace an existing SynthSign corpus at `out`.
        progress: show a progress bar.
    """
    workers = available_cores() if workers is None else workers
    out = Path(out)
    _check_target(out, force)
    splits, vocabulary, source = load_sentences(cfg, text_dir)
    gloss_recipes = recipes.assign_recipes(vocabulary)
    jobs = plan_jobs(cfg, splits)
    partial = out.parent / f".{out.name}.partial"
    if partial.exists():
        shutil.rmtree(partial)  # left behind by an interrupted run; ours by its name
    partial.mkdir(parents=True)

    records: dict[str, list[writer.VideoRecord]] = {split: [] for split in SPLIT_CODES}
    bar = tqdm(total=len(jobs), unit="video", desc="synth", disable=not progress)
    init_args = (cfg, gloss_recipes, partial)
    if workers <= 1:
        _init_worker(*init_args)
        results = map(_render_job, jobs)
        pool = None
    else:
        pool = multiprocessing.get_context("spawn").Pool(workers, _init_worker, init_args)
        results = pool.imap(_render_job, jobs, chunksize=4)
    try:
        for job, record in zip(jobs, results, strict=True):
            records[job.split].append(record)
            bar.update()
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()

    for split, videos in records.items():
        writer.write_split(partial, split, videos, KEYPOINTS)
    meta = _metadata(cfg, splits, vocabulary, source, gloss_recipes, records)
    write_json(partial / "synthsign.json", meta)
    writer.write_readme(partial, meta)
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return meta


def _check_target(out: Path, force: bool) -> None:
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        if out.exists():
            out.rmdir()
        return
    if not force:
        raise DataError(out, "already exists; pass --force to replace a SynthSign corpus")
    if not (out / "synthsign.json").is_file():
        raise DataError(out, "exists and is not a SynthSign corpus (no synthsign.json); "
                             "refusing to delete it")


def _metadata(cfg: SynthConfig, splits: dict[str, list[Sentence]], vocabulary: list[str],
              source: str, gloss_recipes: dict, records: dict) -> dict:
    words = {w for sents in splits.values() for s in sents for w in s.text.split()}
    return {
        "generator": "sign2gpt.synth",
        "version": _VERSION,
        "config": dataclasses.asdict(cfg),
        "motion": dataclasses.asdict(cfg.motion()),
        "fps": writer.FPS,
        "text": {"source": source, "sha256": fingerprint(splits)},
        "vocabulary": {"glosses": len(vocabulary), "words": len(words)},
        "splits": {split: writer.split_summary(videos) for split, videos in records.items()},
        "unseen_signer": {"split": UNSEEN_SPLIT, "signer": SIGNERS[UNSEEN_SIGNER].name},
        "keypoints": list(KEYPOINTS),
        "keypoint_files": {"features_dir": writer.KEYPOINTS_DIR.as_posix(), "layout": "holistic",
                           "noise": dataclasses.asdict(cfg.keypoint_noise)}
        if cfg.keypoints else None,
        "inventories": {
            "hand_shapes": list(recipes.HAND_SHAPES), "locations": list(recipes.LOCATIONS),
            "movements": list(recipes.MOVEMENTS), "hands": list(recipes.HANDS),
            "face_cues": list(recipes.FACE_CUES),
        },
        "signers": [dataclasses.asdict(s) for s in SIGNERS],
        "recipes": {gloss: r.describe() for gloss, r in gloss_recipes.items()},
    }
