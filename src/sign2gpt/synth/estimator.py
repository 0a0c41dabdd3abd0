"""The keypoints a pose estimator would give for a SynthSign video (`SynthConfig.keypoints`).

The avatar's true 2-D joints in MediaPipe Holistic's layout (33 body, 468 face mesh, 21 per
hand; `sign2gpt.data.keypoints.layout.HOLISTIC`), with an estimator's errors:

- the hands' 21 joints follow the drawn hand shape (`hand_joints`), so the shape cue is in
  the finger configuration, not only in the pixels;
- only the 51 mesh points the pose reader keeps (the iBUG-68 inner face) are filled, from the
  drawn head: brows (lifted for the "brows" cue), eyes, nose, and lips shaped by the mouth cue;
  the other mesh points are missing (confidence 0);
- per-joint Gaussian jitter, larger on the hands and on fast motion (motion blur);
- a little temporal jitter: each frame's joints are read at a slightly shifted time, as an
  estimator that lags or leads by part of a frame;
- missed hands: runs of frames where a hand is all zero with confidence 0, at a set rate;
- hand confidence that falls on fast motion.

All randomness comes from the caller's generator, so a seed gives the same keypoints.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from sign2gpt.data.keypoints.layout import MESH_OF_IBUG
from sign2gpt.synth.handshapes import FINGER_BASES, FINGER_SPECS
from sign2gpt.synth.motion import Timeline
from sign2gpt.synth.recipes import FACE_CUES, HAND_SHAPES
from sign2gpt.synth.render import MOUTH_TABLE
from sign2gpt.synth.signers import Signer

BODY, FACE_MESH, HAND = 33, 468, 21
NUM_HOLISTIC = BODY + FACE_MESH + 2 * HAND  # 543, the "holistic" layout
LEFT_HAND0, RIGHT_HAND0 = BODY + FACE_MESH, BODY + FACE_MESH + HAND
FINGERS = ("thumb", "index", "middle", "ring", "pinky")
# A finger's three segments as fractions of its length (proximal, middle, distal).
_SEGMENTS = np.array([0.45, 0.3, 0.25], np.float32)
# Each further joint of a curling finger bends by this much more (curl 1 = fully folded).
_BEND = math.radians(60.0)
# Fingers a shape does not stretch: folded into the palm from these angles and lengths.
_FOLDED = {"thumb": (40.0, 0.55), "index": (8.0, 0.85), "middle": (0.0, 0.9),
           "ring": (-8.0, 0.85), "pinky": (-16.0, 0.7)}  # fmt: skip
_THUMB_CMC = (0.15, 0.2)
_BROWS = FACE_CUES.index("brows")


@dataclasses.dataclass(frozen=True)
class KeypointNoise:
    """How far the written keypoints are from the truth (lengths in shoulder widths)."""

    jitter: float = 0.01  # std of each body and face joint's Gaussian error
    hand_jitter: float = 0.02  # the same for hand joints (estimators place fingers worse)
    temporal_jitter: float = 0.25  # std, in frames, of each frame's reading-time shift
    missed_hand: float = 0.05  # fraction of frames in which each hand is not found
    missed_run: float = 3.0  # mean length in frames of a run of missed frames
    # Hand speed (shoulder widths per frame) at which its confidence falls to 1/e and its
    # jitter doubles: fast hands blur.
    fast_motion: float = 0.3

    def __post_init__(self) -> None:
        if min(self.jitter, self.hand_jitter, self.temporal_jitter) < 0:
            raise ValueError("keypoint noise: jitter values must be >= 0")
        if not 0 <= self.missed_hand < 1 or self.missed_run < 1 or self.fast_motion <= 0:
            raise ValueError("keypoint noise: missed_hand in [0, 1), missed_run >= 1, "
                             "fast_motion > 0")  # fmt: skip

    @classmethod
    def none(cls) -> KeypointNoise:
        """The true joints (confidence 1 on hands at any speed is not promised: see above)."""
        return cls(jitter=0.0, hand_jitter=0.0, temporal_jitter=0.0, missed_hand=0.0)


def _finger_specs(shape: str) -> dict[str, tuple[float, float, float]]:
    """finger -> (angle from the hand axis in degrees, length, curl 0..1) of one hand shape."""
    folded = {f: (*_FOLDED[f], 1.0) for f in FINGERS}
    if shape == "flat":
        return {"thumb": (20.0, 0.5, 0.0), "index": (4.0, 0.85, 0.0),
                "middle": (0.0, 0.9, 0.0), "ring": (-4.0, 0.85, 0.0),
                "pinky": (-8.0, 0.7, 0.0)}  # fmt: skip
    if shape == "c":
        return {f: (angle, length, 0.5) for f, (angle, length) in _FOLDED.items()} | {
            "thumb": (60.0, 0.55, 0.3)}
    if shape == "claw":  # the drawing's short fingers are bent ones: full length, half curled
        return folded | {f: (angle, _FOLDED[f][1], 0.5)
                         for f, (angle, _) in FINGER_SPECS["claw"].items()}  # fmt: skip
    return folded | {f: (angle, length, 0.0) for f, (angle, length) in FINGER_SPECS[shape].items()}


def _finger(base: np.ndarray, angle: float, length: float, curl: float) -> np.ndarray:
    """The 3 joints after a finger's base: (3, 2) hand units. A curled finger bends towards
    the palm, out of the image plane, so its segments are foreshortened and then point back."""
    direction = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))],
                         np.float32)  # fmt: skip
    pitch = curl * _BEND * np.arange(1, 4)
    steps = (length * _SEGMENTS * np.cos(pitch))[:, None] * direction
    return base + np.cumsum(steps, axis=0)


def hand_joints(shape: str) -> np.ndarray:
    """MediaPipe's 21 hand joints of a hand shape in hand-local (along, across) units: wrist,
    thumb CMC MCP IP tip, then MCP PIP DIP tip of the index, middle, ring and little fingers."""
    specs = _finger_specs(shape)
    joints = [np.zeros((1, 2), np.float32)]
    for name in FINGERS:
        base = np.array(FINGER_BASES[name], np.float32)
        if name == "thumb":
            # The thumb's base joint (CMC) sits low on the palm; its MCP is the drawn base.
            joints.append(np.array([_THUMB_CMC], np.float32))
            joints.append(base[None])
            joints.append(_finger(base, *specs[name])[1:])
        else:
            joints.append(base[None])
            joints.append(_finger(base, *specs[name]))
    return np.concatenate(joints).astype(np.float32)


HAND_JOINTS = np.stack([hand_joints(s) for s in HAND_SHAPES])  # (shapes, 21, 2)


def _ellipse(centre: np.ndarray, half: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Points (T, K, 2) on per-frame ellipses: centre (T, 2), half axes (T, 2), angles (K,);
    angle 0 is the image-right end, pi / 2 the top (image y grows downwards)."""
    unit = np.stack([np.cos(angles), -np.sin(angles)], -1)  # (K, 2)
    return centre[:, None, :] + half[:, None, :] * unit


def face_points(head: np.ndarray, face: np.ndarray, radius: float) -> np.ndarray:
    """The iBUG-68 points 17..67 of the drawn head: (T, 51, 2) pixels.

    Args:
        head: (T, 2) head centre per frame (pixels); face: (T,) face cue; radius: head radius.
    """
    n = len(head)

    def at(offset) -> np.ndarray:  # head radii around the head centre -> (T, 2) pixels
        return head + np.asarray(offset, np.float32) * radius

    lift = np.where(face == _BROWS, -0.22, 0.0)[:, None, None] * radius  # (T, 1, 1)
    lift = np.concatenate([np.zeros_like(lift), lift], -1)
    s = np.linspace(0.0, 1.0, 5, dtype=np.float32)[None, :, None]
    brows = [at(a)[:, None] + (at(b) - at(a))[:, None] * s + lift
             for a, b in (((-0.58, -0.3), (-0.18, -0.36)), ((0.18, -0.36), (0.58, -0.3)))]
    bridge = at((0.0, -0.05))[:, None] + np.linspace(0, 0.35, 4)[None, :, None] * np.array(
        [0.0, radius], np.float32)
    nostrils = np.stack([at((x, 0.35 + 0.03 * (x == 0))) for x in (-0.15, -0.08, 0.0, 0.08,
                                                                   0.15)], 1)  # fmt: skip
    # Eyes: corner, two upper, corner, two lower, left to right in the image (iBUG order).
    eye_angles = np.array([math.pi, 2 * math.pi / 3, math.pi / 3, 0.0, -math.pi / 3,
                           -2 * math.pi / 3])  # fmt: skip
    half_eye = np.broadcast_to(np.array([0.13, 0.07], np.float32) * radius, (n, 2))
    eyes = [_ellipse(at((x, 0.05)), half_eye, eye_angles) for x in (-0.36, 0.36)]
    x0, y0, x1, y1, r = (MOUTH_TABLE[face][:, i] for i in range(5))
    mouth = at((0.0, 0.55)) + np.stack([(x0 + x1) / 2, (y0 + y1) / 2], -1) * radius
    half = np.stack([np.abs(x1 - x0) / 2 + r, np.abs(y1 - y0) / 2 + r], -1) * radius
    inner = np.maximum(half - np.array([0.05, 0.06], np.float32) * radius, 0.01 * radius)
    outer_lips = _ellipse(mouth, half, math.pi - np.arange(12) * math.pi / 6)
    inner_lips = _ellipse(mouth, inner, math.pi - np.arange(8) * math.pi / 4)
    points = np.concatenate([*brows, bridge, nostrils, *eyes, outer_lips, inner_lips], 1)
    assert points.shape[1] == len(MESH_OF_IBUG)
    return points.astype(np.float32)


def true_keypoints(timeline: Timeline, joints: np.ndarray, signer: Signer, scale: float
                   ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The avatar's joints in the Holistic layout: points (T, 543, 2) pixels, confidence
    (T, 543) (1 where the joint is drawn, low for the legs below the frame, 0 for the face
    mesh points that are not written).

    Args:
        timeline: the video's plan; joints: the renderer's (T, 7, 2) `KEYPOINTS` in output
            pixels; signer: who signs; scale: output pixels per canonical pixel.
    """
    n = timeline.num_frames
    points = np.zeros((n, NUM_HOLISTIC, 2), np.float32)
    confidence = np.zeros((n, NUM_HOLISTIC), np.float32)
    head, r = joints[:, 0], signer.head_radius * scale
    right_handed = not signer.left_handed
    # Renderer hands are [dominant, non-dominant]; Holistic's are the signer's own left/right.
    arms = {"dominant": joints[:, 1:4], "nondominant": joints[:, 4:7]}
    left, right = ((arms["nondominant"], arms["dominant"]) if right_handed
                   else (arms["dominant"], arms["nondominant"]))  # fmt: skip
    hands = {}
    for hand, arm in enumerate((arms["dominant"], arms["nondominant"])):
        chirality = -signer.dominant_side if hand == 0 else signer.dominant_side
        hands[hand] = _place_hand(arm[:, 1], arm[:, 2], timeline.hand_rot[:, hand],
                                  timeline.hand_shape[:, hand], chirality,
                                  signer.hand_size * scale)  # fmt: skip
    left_hand, right_hand = (hands[1], hands[0]) if right_handed else (hands[0], hands[1])
    points[:, LEFT_HAND0:LEFT_HAND0 + HAND] = left_hand
    points[:, RIGHT_HAND0:RIGHT_HAND0 + HAND] = right_hand
    confidence[:, LEFT_HAND0:] = 1.0

    def head_at(x: float, y: float) -> np.ndarray:
        return head + np.array([x, y], np.float32) * r

    # The signer's left is the image's right (+x): they face the camera.
    body = {0: head_at(0.0, 0.3), 1: head_at(0.22, 0.05), 2: head_at(0.36, 0.05),
            3: head_at(0.5, 0.05), 4: head_at(-0.22, 0.05), 5: head_at(-0.36, 0.05),
            6: head_at(-0.5, 0.05), 7: head_at(0.95, 0.15), 8: head_at(-0.95, 0.15),
            9: head_at(0.3, 0.55), 10: head_at(-0.3, 0.55)}  # fmt: skip
    for side, (arm, hand) in enumerate(((left, left_hand), (right, right_hand))):
        # shoulder 11/12, elbow 13/14, wrist 15/16; pinky, index, thumb 17..22 from the hand
        for k, joint in enumerate((arm[:, 0], arm[:, 1], arm[:, 2], hand[:, 17], hand[:, 5],
                                   hand[:, 2])):  # fmt: skip
            body[11 + 2 * k + side] = joint
    mid = (left[:, 0] + right[:, 0]) / 2
    width = left[:, 0] - right[:, 0]  # (T, 2), the shoulders' image offset
    drop = np.array([0.0, signer.arm_length * scale], np.float32)
    for k, (out, down) in enumerate(((0.35, 2.0), (0.35, 3.6), (0.35, 5.2), (0.35, 5.5),
                                     (0.45, 5.6))):  # hips, knees, ankles, heels, toes
        for side, sign in enumerate((1.0, -1.0)):
            body[23 + 2 * k + side] = mid + sign * out * width + down * drop
    for index, joint in body.items():
        points[:, index] = joint
    confidence[:, :23] = 1.0
    confidence[:, 23:25] = 0.7  # the hips are at the frame's lower edge
    confidence[:, 25:BODY] = 0.05  # legs below the frame: guessed, as MediaPipe does
    mesh = BODY + np.asarray(MESH_OF_IBUG)
    points[:, mesh] = face_points(head, timeline.face, r)
    confidence[:, mesh] = 1.0
    return points, confidence


def _place_hand(elbow: np.ndarray, wrist: np.ndarray, rotation: np.ndarray, shape: np.ndarray,
                chirality: float, size: float) -> np.ndarray:  # fmt: skip
    """The 21 hand joints in pixels (T, 21, 2), placed as the renderer places the drawn hand."""
    angle = np.arctan2(*(wrist - elbow).T[::-1]) + rotation  # (T,)
    along = np.stack([np.cos(angle), np.sin(angle)], -1)[:, None, :]  # (T, 1, 2)
    across = np.stack([-np.sin(angle), np.cos(angle)], -1)[:, None, :] * chirality
    local = HAND_JOINTS[shape]  # (T, 21, 2)
    return wrist[:, None, :] + (local[..., :1] * along + local[..., 1:] * across) * size


def _read_at_jittered_times(points: np.ndarray, rng: np.random.Generator, std: float
                            ) -> np.ndarray:  # fmt: skip
    """Each frame's joints read at t + d, d ~ N(0, std) within half a frame (linear)."""
    n = len(points)
    if std <= 0 or n < 2:
        return points
    t = np.clip(np.arange(n) + np.clip(rng.normal(0.0, std, n), -0.5, 0.5), 0, n - 1)
    low = np.floor(t).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    w = (t - low).astype(np.float32)[:, None, None]
    return points[low] * (1 - w) + points[high] * w


def _missed_frames(rng: np.random.Generator, n: int, rate: float, run: float) -> np.ndarray:
    """(n,) bool: a two-state chain whose missed runs last `run` frames on average and whose
    long-run missed fraction is `rate`; it starts in its stationary state."""
    if rate <= 0:
        return np.zeros(n, bool)
    leave = 1.0 / run  # missed -> found
    enter = rate * leave / (1.0 - rate)  # found -> missed, so that the fraction is `rate`
    u = rng.random(n)
    missed = np.empty(n, bool)
    state = u[0] < rate
    for t in range(n):
        if t:
            state = u[t] >= leave if state else u[t] < enter
        missed[t] = state
    return missed


def estimate_keypoints(timeline: Timeline, joints: np.ndarray, signer: Signer, scale: float,
                       rng: np.random.Generator, noise: KeypointNoise
                       ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """What an estimator gives for one video: `true_keypoints` with `noise` applied.

    Returns: points (T, 543, 2) float32 pixels, confidence (T, 543) float32; a missed hand is
    all zero with confidence 0, as pose-format writes it.
    """
    points, confidence = true_keypoints(timeline, joints, signer, scale)
    width = 2 * signer.shoulder_half_width * scale  # pixels per shoulder width
    points = _read_at_jittered_times(points, rng, noise.temporal_jitter)
    blur = np.ones((len(points), NUM_HOLISTIC), np.float32)
    for first in (LEFT_HAND0, RIGHT_HAND0):
        wrist = points[:, first]
        speed = np.linalg.norm(np.gradient(wrist, axis=0), axis=-1) / width if len(
            points) > 1 else np.zeros(len(points))  # fmt: skip
        fast = (speed / noise.fast_motion).astype(np.float32)
        blur[:, first:first + HAND] = 1.0 + fast[:, None]
        confidence[:, first:first + HAND] = np.maximum(np.exp(-fast), 0.05)[:, None]
    std = np.full(NUM_HOLISTIC, noise.jitter, np.float32)
    std[LEFT_HAND0:] = noise.hand_jitter
    points = points + rng.normal(size=points.shape).astype(np.float32) * (
        std * blur * width)[..., None]
    for first in (LEFT_HAND0, RIGHT_HAND0):
        missed = _missed_frames(rng, len(points), noise.missed_hand, noise.missed_run)
        points[missed, first:first + HAND] = 0.0
        confidence[missed, first:first + HAND] = 0.0
    points[confidence == 0] = 0.0
    return points.astype(np.float32), confidence.astype(np.float32)
