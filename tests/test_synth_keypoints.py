"""SynthSign's estimator keypoints (`SynthConfig.keypoints`): written where the Phoenix14T
reader finds them, read by the pose reader and `data check`, hand shapes in the finger joints,
missed hands at the configured rate, the same files for the same seed."""

from __future__ import annotations

import hashlib
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import yaml

from sign2gpt.cli import main
from sign2gpt.data.keypoints import PARTS, read_keypoints
from sign2gpt.synth.estimator import (
    HAND_JOINTS,
    LEFT_HAND0,
    RIGHT_HAND0,
    KeypointNoise,
    estimate_keypoints,
    true_keypoints,
)
from sign2gpt.synth.generate import SynthConfig, generate_corpus
from sign2gpt.synth.motion import Timeline
from sign2gpt.synth.recipes import HAND_SHAPES
from sign2gpt.synth.render import renderer_for
from sign2gpt.synth.signers import SIGNERS
from sign2gpt.synth.writer import KEYPOINTS_DIR

SPLITS = ("train", "dev", "test", "test_unseen_signer")


def _generate(out: Path, seed: int = 4, keypoints: bool = True) -> Path:
    generate_corpus(SynthConfig(size="small", limit=2, seed=seed, keypoints=keypoints), out,
                    workers=1, progress=False)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("synth-kp") / "corpus")


def _hashes(folder: Path, pattern: str) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob(pattern))}  # fmt: skip


def _timeline(shapes: np.ndarray) -> Timeline:
    """A still pose of `len(shapes)` frames, the dominant hand at the chest in shape s[t]."""
    n = len(shapes)
    return Timeline(
        hand_xy=np.tile(np.array([[[30.0, 36.0], [44.0, 50.0]]], np.float32), (n, 1, 1)),
        hand_rot=np.zeros((n, 2), np.float32),
        hand_shape=np.stack([shapes, np.zeros(n, np.int64)], 1),
        face=np.zeros(n, np.int64), head_offset=np.zeros((n, 2), np.float32),
        camera=np.zeros((n, 2), np.int64), timings=[],
    )  # fmt: skip


def _estimate(timeline: Timeline, noise: KeypointNoise, seed: int = 0):
    renderer = renderer_for(0, 64)
    _, joints = renderer.render(timeline)
    return estimate_keypoints(timeline, joints, SIGNERS[0], renderer.scale,
                              np.random.default_rng(seed), noise)  # fmt: skip


def test_keypoints_read_through_the_pose_reader_and_data_check(corpus, tmp_path, capsys):
    for split in SPLITS:
        for npz in sorted((corpus / KEYPOINTS_DIR / split).glob("*.npz")):
            frames = corpus / "features" / "fullFrame-210x260px" / split / npz.stem
            kp = read_keypoints(npz)
            assert len(kp) == len(list(frames.glob("*.png"))) and kp.fps == 25
            assert (kp.confidence[:, [11, 12]] == 1).all(), "shoulders in every frame"
            assert (kp.confidence[:, PARTS["face"]] == 1).all(), "the iBUG face, every frame"
            hands = kp.confidence[:, PARTS["right_hand"]]
            assert ((hands > 0).all(1) | (hands == 0).all(1)).all(), "a hand is found or not"
    config = tmp_path / "pose.yaml"
    config.write_text(yaml.safe_dump({"data": {
        "format": "phoenix14t", "root": str(corpus), "features_dir": KEYPOINTS_DIR.as_posix(),
        "extra_splits": ["test_unseen_signer"], "num_workers": 0,
    }}))  # fmt: skip
    assert main(["data", "check", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    for split in SPLITS:
        assert f"split {split}: 2 rows, 2 good, 0 bad" in out


def test_hand_shapes_differ_in_their_finger_joints():
    for a, b in combinations(range(len(HAND_SHAPES)), 2):
        gap = np.linalg.norm(HAND_JOINTS[a] - HAND_JOINTS[b], axis=-1).max()
        assert gap > 0.15, f"{HAND_SHAPES[a]} vs {HAND_SHAPES[b]}: {gap:.3f} hand units"
    # The same hand at the same place in two shapes: the wrist stays, the fingers move.
    timeline = _timeline(np.array([HAND_SHAPES.index("fist"), HAND_SHAPES.index("five")]))
    renderer = renderer_for(0, 64)
    _, joints = renderer.render(timeline)
    points, _ = true_keypoints(timeline, joints, SIGNERS[0], renderer.scale)
    dominant = points[:, RIGHT_HAND0:RIGHT_HAND0 + 21]  # Signer01 is right-handed
    np.testing.assert_allclose(dominant[0, 0], dominant[1, 0], atol=1e-4)
    assert np.linalg.norm(dominant[0] - dominant[1], axis=-1).max() > 2.0  # pixels


@pytest.mark.parametrize("rate", [0.0, 0.2])
def test_missed_hands_occur_at_the_configured_rate(rate):
    timeline = _timeline(np.zeros(3000, np.int64))
    points, confidence = _estimate(timeline, KeypointNoise(missed_hand=rate, missed_run=3.0))
    for first in (LEFT_HAND0, RIGHT_HAND0):
        hand = confidence[:, first:first + 21]
        missed = (hand == 0).all(1)
        assert ((hand > 0).all(1) | missed).all()
        assert abs(missed.mean() - rate) < 0.03, missed.mean()
        assert (points[missed, first:first + 21] == 0).all()
        if rate:
            runs = np.diff(np.flatnonzero(np.diff(np.r_[0, missed.astype(int), 0])))[::2]
            assert 2.0 < runs.mean() < 4.0, "missed in runs, as trackers lose a hand"


def test_fast_hands_have_lower_confidence_and_noise_moves_joints():
    shapes = np.zeros(12, np.int64)
    timeline = _timeline(shapes)
    timeline.hand_xy[6:, 0] += np.array([12.0, -12.0], np.float32)  # a jump at frame 6
    clean, confidence = _estimate(timeline, KeypointNoise.none())
    right = confidence[:, RIGHT_HAND0]
    assert right[6] < 0.5 < right[0] and right[0] == right[11] == 1.0
    noisy, _ = _estimate(timeline, KeypointNoise(missed_hand=0.0))
    error = np.linalg.norm(noisy - clean, axis=-1)[:, :33].mean()
    assert 0.05 < error < 1.0, "pixels of jitter on a 64-px frame (shoulders ~23 px apart)"


def test_same_seed_same_files_and_the_videos_do_not_change(corpus, tmp_path):
    again = _generate(tmp_path / "again")
    assert _hashes(again, "*.npz") == _hashes(corpus, "*.npz")
    plain = _generate(tmp_path / "plain", keypoints=False)
    assert not (plain / KEYPOINTS_DIR).exists()
    assert _hashes(plain, "*.png") == _hashes(corpus, "*.png")
    other = _generate(tmp_path / "other", seed=5)
    name = "train/train_00000.npz"
    assert (other / KEYPOINTS_DIR / name).read_bytes() != (corpus / KEYPOINTS_DIR / name
                                                           ).read_bytes()  # fmt: skip
