"""Keypoint files: every reader maps its estimator's layout onto ours, `data check` finds every
defect of a keypoint corpus, and keypoint batches come out of the same dataset and collate."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import yaml

from conftest import make_phoenix_corpus
from pose_helpers import keypoint_clip, make_keypoint_manifest, write_npz
from sign2gpt.cli import main
from sign2gpt.data import DataConfig, build_dataset, collate_samples
from sign2gpt.data.keypoints import PARTS, is_keypoint_source, read_keypoints
from sign2gpt.data.keypoints.layout import MESH_OF_IBUG
from sign2gpt.errors import DataError

FACE0 = PARTS["face"].start
NOSE_TIP_IBUG = 30  # iBUG-68 nose tip; our face joint FACE0 + 30 - 17


def _marked(num_joints: int, frames: int = 3) -> np.ndarray:
    """(T, J, 3): joint j sits at x = j, y = t, confidence 0.5."""
    clip = np.zeros((frames, num_joints, 3), dtype=np.float32)
    clip[..., 0] = np.arange(num_joints)
    clip[..., 1] = np.arange(frames)[:, None]
    clip[..., 2] = 0.5
    return clip


def test_npz_in_our_layout_round_trips(tmp_path):
    clip = keypoint_clip(7)
    kp = read_keypoints(write_npz(tmp_path / "a.npz", clip, fps=25.0))
    assert kp.points.shape == (7, 126, 2) and kp.fps == 25.0
    np.testing.assert_allclose(kp.stacked(), clip)


def test_coco_wholebody_133_maps_body_hands_and_face(tmp_path):
    clip = _marked(133)
    kp = read_keypoints(write_npz(tmp_path / "rtm.npz", clip[..., :2], scores=clip[..., 2]))
    x = kp.points[0, :, 0]
    assert x[11] == 5 and x[16] == 10  # COCO left shoulder -> 11, right wrist -> 16
    assert x[33] == 91 and x[54] == 112  # first joint of each hand (left, then right)
    assert x[FACE0 + NOSE_TIP_IBUG - 17] == 23 + NOSE_TIP_IBUG
    assert kp.confidence[0, 1] == 0  # MediaPipe's left-eye-inner: COCO has none
    assert (kp.confidence[0, 33:] == 0.5).all()


def test_openpose_json_folder_maps_body25_hands_and_face(tmp_path):
    folder = tmp_path / "op"
    folder.mkdir()
    for t in range(4):
        person = {}
        start = 0
        for key, count in [("pose_keypoints_2d", 25), ("face_keypoints_2d", 70),
                           ("hand_left_keypoints_2d", 21), ("hand_right_keypoints_2d", 21)]:
            person[key] = [v for j in range(start, start + count) for v in (j, t, 0.8)]
            start += count
        people = [person] if t != 2 else []  # frame 2: nobody detected
        (folder / f"clip_{t:012d}_keypoints.json").write_text(json.dumps({"people": people}))
    assert is_keypoint_source(folder)
    kp = read_keypoints(folder)
    assert len(kp) == 4
    x = kp.points[0, :, 0]
    assert x[16] == 4 and x[11] == 5  # BODY_25 RWrist 4 -> 16, LShoulder 5 -> 11
    assert x[54] == 116 and x[FACE0] == 25 + 17  # right hand, first inner face point
    assert (kp.confidence[2] == 0).all() and kp.points[3, 0, 1] == 3


def test_pose_format_holistic_file_maps_the_face_mesh(tmp_path):
    pytest.importorskip("pose_format")  # the [pose] extra (in [dev])
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions
    from pose_format.utils.holistic import holistic_components

    components = holistic_components()[:4]  # body, face (468), left hand, right hand
    joints = sum(len(c.points) for c in components)
    clip = _marked(joints, frames=5)
    data = np.concatenate([clip[..., :2], np.zeros((5, joints, 1))], -1)[:, None]
    body = NumPyPoseBody(fps=30, data=data.astype(np.float32), confidence=clip[:, None, :, 2])
    header = PoseHeader(0.1, PoseHeaderDimensions(640, 480, 0), components)
    path = tmp_path / "a.pose"
    with path.open("wb") as f:
        Pose(header, body).write(f)
    kp = read_keypoints(path)
    assert len(kp) == 5 and kp.fps == 30
    x = kp.points[0, :, 0]
    assert x[11] == 11 and x[33] == 33 + 468  # body kept, left hand after the face
    # iBUG nose tip = mesh point 4, the 5th point of the face component (which starts at 33).
    assert MESH_OF_IBUG[NOSE_TIP_IBUG - 17] == 4
    assert x[FACE0 + NOSE_TIP_IBUG - 17] == 33 + 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c[:, :50], "unknown keypoint layout: 50 joints per frame"),
        (lambda c: np.where(np.arange(126)[None, :, None] == 7, np.nan, c),
         "confidence has NaN"),
        (lambda c: np.concatenate([c[..., :2] * np.where(np.arange(126)[:, None] == 3,
                                                         np.nan, 1), c[..., 2:]], -1),
         "detected joint(s) have NaN or infinite coordinates (first: frame 0, joint 3)"),
        (lambda c: np.concatenate([c[..., :2], c[..., 2:] * 0], -1), "no joint is detected"),
    ],
)
def test_bad_keypoint_files_are_one_line_errors(tmp_path, change, message):
    path = write_npz(tmp_path / "bad.npz", change(keypoint_clip(4)))
    with pytest.raises(DataError, match=re.escape(message)):
        read_keypoints(path)


def test_nan_on_undetected_joints_reads_as_missing_and_confidence_is_clipped(tmp_path):
    clip = keypoint_clip(4)
    clip[:, 40, :2], clip[:, 40, 2] = np.nan, 0.0
    clip[1, 3, 2], clip[2, 3, 2] = 8.8, -0.5  # an interpolating tool's overshoot
    kp = read_keypoints(write_npz(tmp_path / "a.npz", clip))
    assert (kp.points[:, 40] == 0).all() and kp.confidence[1:3, 3].tolist() == [1, 0]


def test_data_check_lists_every_bad_keypoint_file(tmp_path, capsys):
    root = make_keypoint_manifest(tmp_path / "c", {"train": ["a b", "c d", "e f", "g h"],
                                                   "dev": ["a"], "test": ["b"]})
    poses = root / "poses"
    write_npz(poses / "train_1.npz", keypoint_clip(5)[:, :40])
    clip = keypoint_clip(5)
    clip[2, 9, 0] = np.nan
    write_npz(poses / "train_2.npz", clip)
    write_npz(poses / "train_3.npz", keypoint_clip(1))
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": {
        "format": "manifest", "root": str(root), "manifest": "manifest.csv", "num_workers": 0,
    }}))  # fmt: skip
    code = main(["data", "check", "-c", str(config)])
    out = capsys.readouterr().out
    assert code == 1
    assert "split train: 4 rows, 1 good, 3 bad" in out
    assert "[train_1]: " in out and "40 joints per frame" in out
    assert "[train_2]: " in out and "(first: frame 2, joint 9)" in out
    assert "[train_3]: " in out and "clip has 1 frame(s)" in out
    assert "split dev: 1 rows, 1 good, 0 bad" in out


def test_keypoint_samples_batch_as_float_joints(tmp_path):
    root = make_keypoint_manifest(tmp_path / "c", {"train": ["a b", "c d"], "dev": ["a"],
                                                   "test": ["b"]})
    cfg = DataConfig(format="manifest", root=str(root), manifest="manifest.csv",
                     num_workers=0, frame_stride=2)  # fmt: skip
    dataset = build_dataset(cfg, "train", progress=False, augment=False)
    assert dataset.frame_counts == [12, 13]
    batch = collate_samples([dataset[0], dataset[1]])
    assert str(batch.frames.dtype) == "torch.float32"
    assert batch.frames.shape == (2, 7, 126, 3)
    assert batch.mask.sum(1).tolist() == [6, 7] and (batch.frames[0, 6] == 0).all()


def test_data_cache_refuses_a_keypoint_corpus_in_one_line(tmp_path, capsys):
    root = make_keypoint_manifest(tmp_path / "c", {"train": ["a"], "dev": ["b"], "test": ["c"]})
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": {
        "format": "manifest", "root": str(root), "manifest": "manifest.csv", "num_workers": 0,
        "cache_dir": str(tmp_path / "cache"),
    }}))  # fmt: skip
    assert main(["data", "cache", "-c", str(config), "--split", "train"]) == 2
    assert "train_0.npz: is a keypoint file" in capsys.readouterr().err


def test_phoenix_layout_reads_keypoint_files_beside_the_names(tmp_path):
    root = make_phoenix_corpus(tmp_path / "ph", {"train": 2, "dev": 1, "test": 1})
    poses = root / "poses" / "train"
    write_npz(poses / "train_video_0.npz", keypoint_clip(5))
    write_npz(poses / "train_video_1.npz", keypoint_clip(7))
    cfg = DataConfig(root=str(root), features_dir="poses", num_workers=0)
    dataset = build_dataset(cfg, "train", progress=False, augment=False)
    assert [r.source.name for r in dataset.records] == ["train_video_0.npz", "train_video_1.npz"]
    assert dataset.frame_counts == [5, 7] and dataset[1].frames.shape == (4, 126, 3)
