"""Hand-shape geometry: each shape is a few capsules (palm and fingers) in hand-local units.

Hand-local coordinates: `along` runs from the wrist (0) towards the fingertips, `across` is
positive towards the thumb; 1 unit = the signer's hand size. The renderer mirrors `across` for
the left hand, so a shape's thumb is always on the thumb side.
"""

from __future__ import annotations

import math

import numpy as np

from sign2gpt.synth.recipes import HAND_SHAPES

# (along, across) of finger bases on the palm's top edge, and the thumb's base on its side.
_BASES = {
    "thumb": (0.35, 0.38),
    "index": (0.78, 0.24),
    "middle": (0.82, 0.06),
    "ring": (0.80, -0.12),
    "pinky": (0.72, -0.28),
}
FINGER_RADIUS = 0.13
PALM = ((0.22, 0.0), (0.58, 0.0), 0.40)

# shape -> {finger: (angle from the hand axis in degrees, towards the thumb > 0; length)}
_FINGERS: dict[str, dict[str, tuple[float, float]]] = {
    "fist": {},
    "flat": {},  # drawn as one paddle below
    "five": {
        "thumb": (75, 0.55), "index": (24, 0.85), "middle": (6, 0.9), "ring": (-12, 0.85),
        "pinky": (-30, 0.7),
    },
    "index": {"index": (0, 1.0)},
    "v": {"index": (20, 0.95), "middle": (-14, 0.95)},
    "w": {"index": (30, 0.85), "middle": (2, 0.9), "ring": (-26, 0.85)},
    "y": {"thumb": (80, 0.6), "pinky": (-45, 0.75)},
    "l": {"thumb": (95, 0.65), "index": (0, 1.0)},
    "thumb": {"thumb": (35, 0.75)},
    "claw": {
        "thumb": (70, 0.4), "index": (40, 0.45), "middle": (12, 0.45), "ring": (-16, 0.45),
        "pinky": (-44, 0.4),
    },
    "pinky": {"pinky": (-35, 0.8)},
    "c": {},  # an arc, drawn below
}
assert set(_FINGERS) == set(HAND_SHAPES)
# Public views for the keypoint estimator (`estimator.py`), which places the same fingers.
FINGER_BASES, FINGER_SPECS = _BASES, _FINGERS


def _finger(name: str, angle_deg: float, length: float) -> tuple:
    along, across = _BASES[name]
    angle = math.radians(angle_deg)
    tip = (along + length * math.cos(angle), across + length * math.sin(angle))
    return ((along, across), tip, FINGER_RADIUS)


def _capsules(shape: str) -> list[tuple]:
    if shape == "fist":
        return [((0.25, 0.0), (0.62, 0.0), 0.46)]
    if shape == "flat":
        return [PALM, ((0.55, -0.02), (1.35, -0.02), 0.3)]
    if shape == "c":
        # Fingers curl over to the thumb side, the thumb comes up: an open "C" seen from the side.
        return [
            PALM,
            ((0.8, -0.1), (1.2, 0.1), FINGER_RADIUS + 0.04),
            ((1.2, 0.1), (1.15, 0.5), FINGER_RADIUS + 0.04),
            ((0.4, 0.35), (0.75, 0.6), FINGER_RADIUS + 0.02),
        ]
    return [PALM] + [_finger(name, *spec) for name, spec in _FINGERS[shape].items()]


def _table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pack all shapes into padded arrays: starts and ends (S, K, 2), radii (S, K)."""
    shapes = [_capsules(name) for name in HAND_SHAPES]
    k = max(len(caps) for caps in shapes)
    starts = np.zeros((len(shapes), k, 2), np.float32)
    ends = np.zeros((len(shapes), k, 2), np.float32)
    radii = np.zeros((len(shapes), k), np.float32)
    for s, caps in enumerate(shapes):
        # Pad by repeating the first capsule: a duplicate changes nothing in a union.
        caps = caps + [caps[0]] * (k - len(caps))
        for j, (a, b, r) in enumerate(caps):
            starts[s, j], ends[s, j], radii[s, j] = a, b, r
    return starts, ends, radii


SHAPE_STARTS, SHAPE_ENDS, SHAPE_RADII = _table()
# The centre of the box around every shape, and how far any shape reaches from it (hand units):
# the renderer draws a hand in a window of that size around that point.
_POINTS = np.concatenate([SHAPE_STARTS, SHAPE_ENDS], 1).reshape(-1, 2)
_RADII = np.concatenate([SHAPE_RADII, SHAPE_RADII], 1).reshape(-1)
HAND_CENTRE = tuple(float(v) for v in (_POINTS.min(0) + _POINTS.max(0)) / 2)
HAND_REACH = float(np.max(np.linalg.norm(_POINTS - HAND_CENTRE, axis=-1) + _RADII))
