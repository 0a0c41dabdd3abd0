"""MediaPipe Holistic per frame -> joints in the Holistic layout (body 33, face 468, hands 21 x 2).

Coordinates are in pixels (x, y, and MediaPipe's z scaled like x, as pose-format writes
them); confidence is the body joints' visibility and 1 for each detected face / hand point,
0 where a part is not found. One tracker per clip: Holistic uses the previous frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np

from sign2gpt.errors import ConfigError

PART_SIZES = (("pose_landmarks", 33), ("face_landmarks", 468), ("left_hand_landmarks", 21),
              ("right_hand_landmarks", 21))  # fmt: skip
NUM_HOLISTIC = sum(n for _, n in PART_SIZES)
# The only complexity whose model ships inside the mediapipe 0.10.21 wheel; the others are
# downloaded on first use, which cannot work offline.
MODEL_COMPLEXITY = 1


def load_mediapipe():
    """The `mediapipe` module, or a one-line error naming the extra that installs it."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter
    try:
        import mediapipe
    except ImportError:
        raise ConfigError(
            "pose extract needs MediaPipe: pip install 'sign2gpt[pose]' (mediapipe==0.10.21)"
        ) from None
    return mediapipe


class HolisticTracker:
    """MediaPipe Holistic over the frames of one clip (a context manager)."""

    def __init__(self, min_detection_confidence: float = 0.5):
        mediapipe = load_mediapipe()
        self._holistic = mediapipe.solutions.holistic.Holistic(
            static_image_mode=False, model_complexity=MODEL_COMPLEXITY,
            min_detection_confidence=min_detection_confidence, min_tracking_confidence=0.5,
        )  # fmt: skip

    def __enter__(self) -> HolisticTracker:
        return self

    def __exit__(self, *exc) -> None:
        self._holistic.close()

    def frame(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB (H, W, 3) -> points (543, 3) in pixels and confidence (543,)."""
        height, width = rgb.shape[:2]
        results = self._holistic.process(np.ascontiguousarray(rgb))
        points = np.zeros((NUM_HOLISTIC, 3), dtype=np.float32)
        confidence = np.zeros(NUM_HOLISTIC, dtype=np.float32)
        start = 0
        for name, count in PART_SIZES:
            found = getattr(results, name)
            if found is not None:
                marks = found.landmark[:count]
                points[start : start + count] = [(m.x * width, m.y * height, m.z * width)
                                                 for m in marks]  # fmt: skip
                confidence[start : start + count] = (
                    [m.visibility for m in marks] if name == "pose_landmarks" else 1.0
                )
            start += count
        return points, confidence

    def clip(self, frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """`frame` for each frame of a clip, in order."""
        for rgb in frames:
            yield self.frame(rgb)
