"""SynthSign corpora for the demo and the benchmark: generated, or reused when identical."""

from __future__ import annotations

import json
from pathlib import Path


def prepare_corpus(
    folder: Path,
    size: str,
    seed: int,
    *,
    limit: int = 0,
    text_dir: Path | None = None,
    reuse: bool = True,
    workers: int | None = None,
    keypoints: bool = False,
) -> bool:
    """Generate SynthSign `size` into `folder`; returns True when an identical one was reused.

    Args:
        folder: the corpus folder.
        size: "small" (grammar sentences) or "full" (Phoenix14T text).
        seed: generator seed.
        limit: at most this many sentences per split (0 = all).
        text_dir: Phoenix14T text for `full` (default ../shared/data/phoenix14t-text).
        reuse: keep a corpus already there with the same size, seed, limit and
            keypoints (the generator is
            deterministic, so it is byte-identical to a new one); False always regenerates.
        workers: generator processes (None: one per available core).
        keypoints: also write the estimator keypoints (`SynthConfig.keypoints`).
    """
    from sign2gpt.synth.generate import SynthConfig, generate_corpus

    cfg = SynthConfig(size=size, seed=seed, limit=limit, keypoints=keypoints)
    meta = folder / "synthsign.json"
    if reuse and meta.is_file():
        existing = json.loads(meta.read_text(encoding="utf-8")).get("config", {})
        wanted = (("size", size), ("seed", seed), ("limit", limit), ("keypoints", keypoints))
        if all(existing.get(k, False if k == "keypoints" else None) == v for k, v in wanted):
            print(f"reusing {folder}")
            return True
    generate_corpus(cfg, folder, text_dir=text_dir, workers=workers, force=True)
    return False
