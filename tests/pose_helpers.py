"""Keypoint clips and corpora for the pose tests (written inside each test's tmp_path)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sign2gpt.data.keypoints.layout import LEFT_SHOULDER, NUM_JOINTS, RIGHT_SHOULDER


def keypoint_clip(num_frames: int, seed: int = 0, joints: int = NUM_JOINTS) -> np.ndarray:
    """(T, J, 3) float32: a moving random skeleton in pixels, every joint detected (conf 0.9),
    shoulders 100 px apart around (200, 150)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(100, 300, size=(joints, 2))
    if joints == NUM_JOINTS:
        base[LEFT_SHOULDER], base[RIGHT_SHOULDER] = (250, 150), (150, 150)
    motion = np.sin(np.arange(num_frames)[:, None, None] / 3 + rng.uniform(0, 6, (1, joints, 2)))
    points = base[None] + 10 * motion
    confidence = np.full((num_frames, joints, 1), 0.9)
    return np.concatenate([points, confidence], axis=-1).astype(np.float32)


def write_npz(path: Path, clip: np.ndarray, **extra) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, keypoints=clip, **extra)
    return path


def make_keypoint_manifest(root: Path, texts: dict[str, list[str]], frames: int = 12) -> Path:
    """A manifest corpus `manifest.csv` whose rows point at `.npz` keypoint clips."""
    rows = [("id", "video", "text", "split")]
    for split, sentences in texts.items():
        for i, text in enumerate(sentences):
            name = f"{split}_{i}"
            write_npz(root / "poses" / f"{name}.npz", keypoint_clip(frames + i, seed=len(rows)))
            rows.append((name, f"poses/{name}.npz", text, split))
    with (root / "manifest.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return root
