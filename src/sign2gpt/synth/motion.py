"""From a gloss sequence to per-frame poses: sign timing, co-articulation, rest pose, camera.

A video is: rest pose, then for each gloss a short transition and the sign itself (4 to 10
frames, drawn per occurrence within the signer's pace), then a transition back and rest again.
Neighbouring signs blend: transitions interpolate between them and a small temporal filter
smooths every trajectory, so a sign's first and last frames carry some of its neighbours.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sign2gpt.synth.recipes import FACE_CUES, HAND_SHAPES, LOCATIONS, MOVEMENTS, Recipe
from sign2gpt.synth.signers import Signer

REST_SHAPE = HAND_SHAPES.index("fist")
_NEUTRAL = FACE_CUES.index("neutral")
_TILT = FACE_CUES.index("tilt")
# Co-articulation: every trajectory is filtered with this kernel (frames t-1, t, t+1).
_BLEND = np.array([0.25, 0.5, 0.25], np.float32)


@dataclasses.dataclass(frozen=True)
class MotionParams:
    """Timing and noise knobs of the motion planner (canonical 64-px units)."""

    rest_frames: tuple[int, int] = (3, 6)
    transition_frames: tuple[int, int] = (1, 2)
    location_jitter: float = 0.6  # std of a sign's place, per occurrence
    amplitude: tuple[float, float] = (0.8, 1.2)  # movement size, per occurrence
    movement_size: float = 4.5
    camera_jitter: float = 0.3  # probability that the camera is off by one pixel, per axis
    drop_prob: float = 0.02  # probability that a frame is dropped
    fixed_sign_frames: int = 0  # > 0: every sign takes exactly this many frames (for tests)

    @classmethod
    def clean(cls, sign_frames: int = 8) -> MotionParams:
        """No randomness at all: for rendering glosses in isolation."""
        return cls(
            rest_frames=(2, 2), transition_frames=(1, 1), location_jitter=0.0,
            amplitude=(1.0, 1.0), camera_jitter=0.0, drop_prob=0.0,
            fixed_sign_frames=sign_frames,
        )


@dataclasses.dataclass
class Timeline:
    """Per-frame pose of one video (after dropped frames are removed).

    Hands are indexed [dominant, non-dominant]; positions are hand centres in canonical pixels.
    """

    hand_xy: np.ndarray  # (T, 2, 2) float32
    hand_rot: np.ndarray  # (T, 2) float32, radians added to the forearm direction
    hand_shape: np.ndarray  # (T, 2) int64
    face: np.ndarray  # (T,) int64
    head_offset: np.ndarray  # (T, 2) float32
    camera: np.ndarray  # (T, 2) int64, whole-frame shift in output pixels
    timings: list[tuple[str, int, int]]  # (gloss, first frame, last frame), inclusive

    @property
    def num_frames(self) -> int:
        return len(self.face)


def location_targets(signer: Signer) -> np.ndarray:
    """Dominant-hand centre of every location, in the order of `LOCATIONS`: (L, 2)."""
    hx, hy = signer.head_center()
    r, w, d = signer.head_radius, signer.shoulder_half_width, signer.dominant_side
    mx, sy = signer.midline_x, signer.shoulder_y
    places = {
        "forehead": (hx + 0.2 * r * d, hy - 0.4 * r),
        "chin": (hx, hy + 1.1 * r),
        "cheek": (hx + 1.0 * r * d, hy + 0.25 * r),
        "temple": (hx + 1.75 * r * d, hy - 0.7 * r),
        "chest": (mx, sy + 7.0),
        "breast": (mx + 0.6 * w * d, sy + 4.0),
        "shoulder": (mx - 0.8 * w * d, sy + 1.5),  # the opposite shoulder
        "belly": (mx + 0.15 * w * d, sy + 19.0),
        "low_side": (mx + 1.4 * w * d, sy + 15.0),
        "high_side": (mx + 1.35 * w * d, sy - 5.0),
    }
    return np.array([places[name] for name in LOCATIONS], np.float32)


def rest_targets(signer: Signer) -> np.ndarray:
    """Hand centres at rest, hanging at the hips: (2, 2) [dominant, non-dominant]."""
    (dx, _), (nx, _) = signer.shoulders()
    y = signer.shoulder_y + 1.75 * signer.arm_length
    out = signer.dominant_side
    return np.array([(dx + 1.5 * out, y), (nx - 1.5 * out, y)], np.float32)


def movement_path(movement: int, s: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Offset (n, 2) and hand rotation (n,) of a movement at phases `s` in (0, 1).

    x is measured towards the dominant side (the caller flips it for left-handers and for the
    mirrored non-dominant hand).
    """
    zero = np.zeros_like(s)
    name = MOVEMENTS[movement]
    if name == "hold":
        dx, dy = zero, zero
    elif name == "down":
        dx, dy = zero, size * (s - 0.5)
    elif name == "sideways":
        dx, dy = size * (s - 0.5), zero
    elif name == "circle":
        dx, dy = 0.5 * size * np.cos(2 * math.pi * s), 0.5 * size * np.sin(2 * math.pi * s)
    elif name == "shake":
        dx, dy = 0.4 * size * np.sin(4 * math.pi * s), zero
    elif name == "arc":
        dx, dy = size * (s - 0.5), -0.6 * size * np.sin(math.pi * s)
    elif name == "tap":
        dx, dy = zero, 0.45 * size * np.abs(np.sin(2 * math.pi * s))
    else:
        dx, dy = zero, zero
    rot = 0.9 * np.sin(2 * math.pi * s) if name == "twist" else zero
    return np.stack([dx, dy], -1).astype(np.float32), rot.astype(np.float32)


class _Frames:
    """Accumulates per-frame rows of a video while it is being planned."""

    def __init__(self) -> None:
        self.xy: list[np.ndarray] = []
        self.rot: list[np.ndarray] = []
        self.shape: list[np.ndarray] = []
        self.face: list[np.ndarray] = []
        self.head: list[np.ndarray] = []

    def add(self, xy, rot, shape, face, head) -> None:  # each has a leading frame axis
        self.xy.append(xy)
        self.rot.append(rot)
        self.shape.append(shape)
        self.face.append(face)
        self.head.append(head)

    def __len__(self) -> int:
        return sum(len(f) for f in self.face)

    def transition(self, n: int, xy1, rot1, shape1, head1, face: int) -> None:
        """`n` frames moving from the last frame so far to the given next pose.

        The face already shows the next sign's cue: facial expressions and mouthings start
        before the hands arrive (and stay visible while the hands may cover the face later).
        """
        xy0, rot0, shape0, head0 = self.xy[-1][-1], self.rot[-1][-1], self.shape[-1][-1], \
            self.head[-1][-1]
        w = (np.arange(1, n + 1, dtype=np.float32) / (n + 1))[:, None]  # (n, 1)
        shape = np.where(w < 0.5, shape0, shape1)  # the hand shape changes half-way
        self.add(
            xy0 + (xy1 - xy0) * w[:, :, None], rot0 + (rot1 - rot0) * w, shape,
            np.full(n, face), head0 + (head1 - head0) * w,
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate(parts) for parts in (
            self.xy, self.rot, self.shape, self.face, self.head))


def _smooth(x: np.ndarray) -> np.ndarray:
    """Filter a (T, ...) trajectory along time with `_BLEND`, repeating the edge frames."""
    padded = np.concatenate([x[:1], x, x[-1:]])
    return (_BLEND[0] * padded[:-2] + _BLEND[1] * padded[1:-1] + _BLEND[2] * padded[2:]).astype(
        np.float32)


def plan_video(
    glosses: list[str],
    recipes: dict[str, Recipe],
    signer: Signer,
    rng: np.random.Generator,
    params: MotionParams,
    frame_scale: float = 1.0,
) -> Timeline:
    """Plan the per-frame poses and gloss timings of one signed sentence.

    Args:
        glosses: the gloss sequence in sign order.
        recipes: gloss -> recipe (every gloss must have one).
        signer: who signs.
        rng: the video's own random generator (all randomness comes from it).
        params: timing and noise knobs.
        frame_scale: output pixels per canonical pixel (camera shifts are whole output pixels).
    """
    targets = location_targets(signer)
    rest = rest_targets(signer)
    side = signer.dominant_side
    mirror = np.array([-1.0, 1.0], np.float32)  # the non-dominant hand mirrors x
    rest_shape = np.array([REST_SHAPE, REST_SHAPE])
    no_head = np.zeros(2, np.float32)
    frames = _Frames()

    def hold_rest(n: int) -> None:
        frames.add(np.repeat(rest[None], n, 0), np.zeros((n, 2), np.float32),
                   np.repeat(rest_shape[None], n, 0), np.full(n, _NEUTRAL),
                   np.zeros((n, 2), np.float32))

    def count(bounds: tuple[int, int]) -> int:
        return int(rng.integers(bounds[0], bounds[1] + 1))

    hold_rest(count(params.rest_frames))
    timings: list[tuple[str, int, int]] = []
    for gloss in glosses:
        recipe = recipes[gloss]
        n = params.fixed_sign_frames or count(signer.sign_frames)
        place = targets[recipe.location]
        if params.location_jitter:
            place = place + rng.normal(0.0, params.location_jitter, 2).astype(np.float32)
        size = params.movement_size * rng.uniform(*params.amplitude)
        offset, rot = movement_path(recipe.movement, (np.arange(n) + 0.5) / n, size)
        offset[:, 0] *= side
        dominant = place + offset  # (n, 2)
        if recipe.two_handed:
            # Mirror the dominant hand across the body's midline.
            nondominant = dominant * mirror + np.array([2 * signer.midline_x, 0], np.float32)
            second_rot, second_shape = -rot, recipe.hand_shape
        else:
            nondominant = np.repeat(rest[1:], n, 0)
            second_rot, second_shape = np.zeros(n, np.float32), REST_SHAPE
        xy = np.stack([dominant, nondominant], 1)  # (n, 2, 2)
        hand_rot = np.stack([rot * side, second_rot * side], 1)
        shape = np.repeat(np.array([[recipe.hand_shape, second_shape]]), n, 0)
        head = np.zeros((n, 2), np.float32)
        if recipe.face == _TILT:
            head[:] = (1.3 * side, 1.0)
        frames.transition(count(params.transition_frames), xy[0], hand_rot[0], shape[0], head[0],
                          recipe.face)
        start = len(frames)
        frames.add(xy, hand_rot, shape, np.full(n, recipe.face), head)
        timings.append((gloss, start, start + n - 1))
    frames.transition(count(params.transition_frames) + 1, rest, np.zeros(2, np.float32),
                      rest_shape, no_head, _NEUTRAL)
    hold_rest(count(params.rest_frames))

    xy, rot, shape, face, head = frames.arrays()
    total = len(face)
    camera = _camera_shake(rng, total, params.camera_jitter, max(1, round(frame_scale)))
    keep = _kept_frames(rng, total, timings, params.drop_prob)
    timings = _reindex(timings, keep)
    return Timeline(
        hand_xy=_smooth(xy)[keep], hand_rot=_smooth(rot)[keep], hand_shape=shape[keep],
        face=face[keep], head_offset=_smooth(head)[keep], camera=camera[keep], timings=timings,
    )


def _camera_shake(rng: np.random.Generator, n: int, prob: float, step: int) -> np.ndarray:
    """Per-frame whole-image shift: each axis is off by one step with probability `prob`."""
    if prob <= 0:
        return np.zeros((n, 2), np.int64)
    moved = rng.random((n, 2)) < prob
    sign = np.where(rng.random((n, 2)) < 0.5, -1, 1)
    return (moved * sign * step).astype(np.int64)


def _kept_frames(
    rng: np.random.Generator, n: int, timings: list[tuple[str, int, int]], prob: float
) -> np.ndarray:
    """Indices of the frames that survive random dropping (never a sign's middle frame)."""
    if prob <= 0:
        return np.arange(n)
    drop = rng.random(n) < prob
    drop[[0, n - 1]] = False
    for _, start, end in timings:
        drop[(start + end) // 2] = False
    return np.flatnonzero(~drop)


def _reindex(timings: list[tuple[str, int, int]], keep: np.ndarray) -> list[tuple[str, int, int]]:
    """Map sign frame ranges onto the frames that were kept."""
    out = []
    for gloss, start, end in timings:
        first = int(np.searchsorted(keep, start, side="left"))
        last = int(np.searchsorted(keep, end, side="right")) - 1
        out.append((gloss, first, last))
    return out
