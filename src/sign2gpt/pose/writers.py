"""Write extracted Holistic joints as `.pose` (pose-format) or `.npz` files, atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sign2gpt.errors import ConfigError
from sign2gpt.io import atomic_path

FORMATS = ("pose", "npz")


def write_keypoints(
    path: Path, points: np.ndarray, confidence: np.ndarray, fps: float, width: int, height: int
) -> None:
    """points (T, 543, 3) and confidence (T, 543) -> `path` (.pose or .npz by its suffix)."""
    with atomic_path(path) as tmp:
        if path.suffix == ".pose":
            _write_pose(tmp, points, confidence, fps, width, height)
        else:
            with tmp.open("wb") as f:  # np.savez would add ".npz" to a bare temporary name
                np.savez_compressed(
                    f, keypoints=points[..., :2].astype(np.float32),
                    confidence=confidence.astype(np.float32), layout="holistic",
                    fps=np.float32(fps), width=width, height=height,
                )  # fmt: skip


def _write_pose(tmp: Path, points, confidence, fps, width, height) -> None:
    try:
        from pose_format import Pose
        from pose_format.numpy import NumPyPoseBody
        from pose_format.pose_header import PoseHeader, PoseHeaderDimensions
        from pose_format.utils.holistic import holistic_components
    except ImportError:
        raise ConfigError("writing .pose files needs pose-format: pip install "
                          "'sign2gpt[pose]' (or use --format npz)") from None  # fmt: skip
    # Body, face, left hand, right hand: the components pose-format's own Holistic reader
    # writes (without its world landmarks), so the community's tools read our files.
    header = PoseHeader(0.1, PoseHeaderDimensions(width, height, 0), holistic_components()[:4])
    body = NumPyPoseBody(
        fps=fps, data=points[:, None].astype(np.float32), confidence=confidence[:, None]
    )
    with tmp.open("wb") as f:
        Pose(header, body).write(f)
