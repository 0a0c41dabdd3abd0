"""Keypoint files: `.pose` (pose-format), `.npz` and OpenPose JSON folders, read into our layout.

Every reader returns `Keypoints` in our layout (`layout.OURS`, 126 joints), whatever
estimator wrote the file, and validates it: a known joint count, no NaN on a detected joint,
finite confidence (clipped to [0, 1]), at least one detected joint. Coordinates are kept as
written (pixels for MediaPipe through pose-format, OpenPose and RTMPose); the pose transform
normalises them per clip.

`.npz` keys: `keypoints` (T, J, 2) or (T, J, 3) with the confidence last; optional
`confidence` or `scores` (T, J) (e.g. rtmlib's), `layout` (a name from `layout.LAYOUTS`,
else it is told by J) and `fps`. `sign2gpt pose extract --format npz` writes `holistic`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sign2gpt.data.keypoints.layout import LAYOUTS, layout_for
from sign2gpt.errors import DataError

KEYPOINT_EXTENSIONS = (".pose", ".npz")
# pose-format components of a MediaPipe Holistic file, in the order HOLISTIC expects them.
HOLISTIC_COMPONENTS = (
    "POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS",
)  # fmt: skip
# OpenPose JSON keys per person, in the order OPENPOSE expects them (with the joint counts).
OPENPOSE_KEYS = (
    ("pose_keypoints_2d", 25), ("face_keypoints_2d", 70),
    ("hand_left_keypoints_2d", 21), ("hand_right_keypoints_2d", 21),
)  # fmt: skip
_DIGITS = re.compile(r"(\d+)")


@dataclass
class Keypoints:
    """One clip's joints in our layout: points (T, 126, 2) and confidence (T, 126), float32."""

    points: np.ndarray
    confidence: np.ndarray
    fps: float | None = None

    def __len__(self) -> int:
        return len(self.points)

    def stacked(self) -> np.ndarray:
        """(T, 126, 3): x, y, confidence (what a batch carries)."""
        return np.concatenate([self.points, self.confidence[..., None]], axis=-1)


def is_keypoint_source(path: Path) -> bool:
    """A `.pose` / `.npz` file, or a folder of OpenPose `.json` frames (and no images)."""
    if path.suffix.lower() in KEYPOINT_EXTENSIONS:
        return True
    if not path.is_dir():
        return False
    names = [p.suffix.lower() for p in path.iterdir()]
    return ".json" in names and not {".png", ".jpg", ".jpeg"} & set(names)


def read_keypoints(path: Path) -> Keypoints:
    """Read and validate a keypoint file or OpenPose folder (raises DataError)."""
    if path.is_dir():
        points, confidence, name, fps = _read_openpose(path)
    elif not path.is_file():
        raise DataError(path, "keypoint file does not exist")
    elif path.suffix.lower() == ".pose":
        points, confidence, name, fps = _read_pose_format(path)
    else:
        points, confidence, name, fps = _read_npz(path)
    layout = layout_for(points.shape[1], name)
    if layout is None:
        known = ", ".join(f"{lay.name} ({lay.num_joints})" for lay in LAYOUTS.values())
        what = f"layout {name!r}" if name else f"{points.shape[1]} joints per frame"
        raise DataError(path, f"unknown keypoint layout: {what} (known: {known})")
    if points.shape[1] != layout.num_joints:
        raise DataError(
            path, f"layout {layout.name} has {layout.num_joints} joints, file has {points.shape[1]}"
        )
    _validate(path, points, confidence)
    points = np.nan_to_num(points, nan=0.0)  # NaN only on undetected joints (checked above)
    # Confidence outside [0, 1] is clipped: tools that interpolate poses overshoot (22 of the
    # 600 spoken-to-signed recordings reach -16.2 .. 8.8 on interpolated frames).
    confidence = np.clip(confidence, 0.0, 1.0)
    ours, conf = layout.to_ours(points, confidence)
    return Keypoints(ours, conf, fps)


def _validate(path: Path, points: np.ndarray, confidence: np.ndarray) -> None:
    if not len(points):
        raise DataError(path, "keypoint file has no frames")
    if not np.isfinite(confidence).all():
        raise DataError(path, "confidence has NaN or infinite values")
    bad = ~np.isfinite(points).all(-1) & (confidence > 0)
    if bad.any():
        frame, joint = np.argwhere(bad)[0]
        raise DataError(
            path, f"{int(bad.sum())} detected joint(s) have NaN or infinite coordinates "
                  f"(first: frame {frame}, joint {joint})",
        )  # fmt: skip
    if not (confidence > 0).any():
        raise DataError(path, "no joint is detected in any frame (all confidences are 0)")


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, str | None, float | None]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(path, f"cannot read .npz file ({exc})") from None
    if "keypoints" not in arrays:
        raise DataError(path, f"has no 'keypoints' array (has: {', '.join(arrays) or 'none'})")
    points = arrays["keypoints"].astype(np.float32)
    if points.ndim != 3 or points.shape[-1] not in (2, 3):
        raise DataError(path, f"keypoints: expected (frames, joints, 2 or 3), got {points.shape}")
    confidence = arrays.get("confidence", arrays.get("scores"))
    if confidence is None:
        if points.shape[-1] != 3:
            raise DataError(path, "keypoints have no confidence: give a third column or a "
                                  "'confidence' array")  # fmt: skip
        confidence = points[..., 2]
    confidence = np.asarray(confidence, dtype=np.float32)
    if confidence.shape != points.shape[:2]:
        raise DataError(
            path, f"confidence has shape {confidence.shape}, keypoints {points.shape[:2]}"
        )
    name = str(arrays["layout"]) if "layout" in arrays else None
    fps = float(arrays["fps"]) if "fps" in arrays else None
    return points[..., :2], confidence, name, fps


def _read_pose_format(path: Path) -> tuple[np.ndarray, np.ndarray, str | None, float | None]:
    try:
        from pose_format import Pose
    except ImportError:
        raise DataError(
            path, "reading .pose files needs the pose-format package: pip install 'sign2gpt[pose]'"
        ) from None
    try:
        pose = Pose.read(path.read_bytes())
    except Exception as exc:  # pose-format raises struct / value / index errors on bad bytes
        raise DataError(path, f"cannot read .pose file ({type(exc).__name__}: {exc})") from None
    names = [c.name for c in pose.header.components]
    if all(n in names for n in HOLISTIC_COMPONENTS):
        pose = pose.get_components(list(HOLISTIC_COMPONENTS))
    data = np.ma.getdata(pose.body.data)  # (T, people, J, dims)
    confidence = np.asarray(pose.body.confidence, dtype=np.float32)  # (T, people, J)
    if data.ndim != 4 or data.shape[1] < 1:
        raise DataError(path, f"unexpected .pose body shape {data.shape}")
    # The first person; pose-format writes undetected joints as zeros with confidence 0.
    return data[:, 0, :, :2].astype(np.float32), confidence[:, 0], None, float(pose.body.fps)


def _read_openpose(folder: Path) -> tuple[np.ndarray, np.ndarray, str | None, float | None]:
    files = sorted(folder.glob("*.json"), key=lambda p: [
        int(s) if s.isdigit() else s for s in _DIGITS.split(p.name)
    ])  # fmt: skip
    if not files:
        raise DataError(folder, "folder has no OpenPose .json files")
    frames = []
    for file in files:
        try:
            people = json.loads(file.read_text(encoding="utf-8")).get("people", [])
        except (OSError, ValueError, AttributeError) as exc:
            raise DataError(file, f"cannot read OpenPose JSON ({exc})") from None
        parts = []
        for key, count in OPENPOSE_KEYS:
            values = people[0].get(key, []) if people else []
            flat = np.asarray(values or np.zeros(3 * count), dtype=np.float32)
            if flat.shape != (3 * count,):
                raise DataError(file, f"{key}: expected {3 * count} numbers, got {flat.size}")
            parts.append(flat.reshape(count, 3))
        frames.append(np.concatenate(parts))
    stacked = np.stack(frames)  # (T, 137, 3)
    return stacked[..., :2], stacked[..., 2], "openpose", None

