"""`data.keypoint_augmentation`: training augmentation of keypoint clips (`kind: pose`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class KeypointAugmentation:
    """Strengths of the random changes, one draw per clip (every frame alike) unless said.

    Applied after the clip is normalised (centred on the shoulders, scaled by their width),
    so `shift` is in shoulder widths. `data.spatial_augmentation: false` turns all off.
    """

    rotation_degrees: float = 10.0  # in-plane rotation about the shoulder centre
    scale: float = 0.15  # size factor drawn from [1 - scale, 1 + scale]
    shift: float = 0.1  # translation drawn from [-shift, shift] on each axis
    joint_dropout: float = 0.05  # each joint of each frame is dropped with this probability
    hand_dropout: float = 0.05  # each hand of each frame is dropped (a missed detection)
    # Time warp t -> t + c t (1 - t) on the clip's [0, 1] time, c drawn from [-w, w]: the
    # signing speeds up at one end and slows down at the other; w < 1 keeps time monotone.
    time_warp: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.rotation_degrees <= 45.0:
            raise ValueError("keypoint_augmentation.rotation_degrees: expected 0..45")
        if not 0.0 <= self.scale < 1.0:
            raise ValueError("keypoint_augmentation.scale: expected 0 <= x < 1")
        if self.shift < 0:
            raise ValueError("keypoint_augmentation.shift: expected >= 0")
        for name in ("joint_dropout", "hand_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"keypoint_augmentation.{name}: expected a probability < 1")
        if not 0.0 <= self.time_warp < 1.0:
            raise ValueError("keypoint_augmentation.time_warp: expected 0 <= x < 1")
