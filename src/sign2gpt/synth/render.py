"""Draw the avatar with numpy: all frames of a video at once, one body part at a time.

Every part is a union of capsules (line segments with a radius). A part is drawn in a small
window that follows it from frame to frame, with its signed distance turned into anti-aliased
coverage, so a whole video costs a few dozen array operations per part instead of per pixel.
The background, torso and neck never move relative to the body and are drawn once per signer.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from sign2gpt.synth.handshapes import (
    HAND_CENTRE,
    HAND_REACH,
    SHAPE_ENDS,
    SHAPE_RADII,
    SHAPE_STARTS,
)
from sign2gpt.synth.motion import Timeline
from sign2gpt.synth.recipes import FACE_CUES
from sign2gpt.synth.signers import SIGNERS, Signer

CANONICAL_SIZE = 64
ARM_RADIUS = 2.3
KEYPOINTS = (
    "head", "dominant_shoulder", "dominant_elbow", "dominant_wrist", "nondominant_shoulder",
    "nondominant_elbow", "nondominant_wrist",
)
_MOUTH_COLOUR = np.array((95, 25, 35), np.float32)
_INK = np.array((25, 20, 20), np.float32)

# Mouth per face cue: capsule (x0, y0, x1, y1, radius) in head radii around the mouth centre.
_MOUTHS = {
    "neutral": (-0.25, 0.0, 0.25, 0.0, 0.08),
    "open": (0.0, -0.12, 0.0, 0.18, 0.22),
    "round": (0.0, 0.0, 0.0, 0.0, 0.14),
    "wide": (-0.45, 0.0, 0.45, 0.0, 0.11),
    "brows": (-0.25, 0.0, 0.25, 0.0, 0.08),
    "tilt": (-0.25, 0.0, 0.25, 0.0, 0.08),
}
MOUTH_TABLE = np.array([_MOUTHS[name] for name in FACE_CUES], np.float32)
_BROWS_UP = FACE_CUES.index("brows")


def _paint(region: np.ndarray, dist: np.ndarray, colour: np.ndarray,
           outline: float = 0.0, outline_colour: np.ndarray | None = None) -> None:
    """Composite `colour` where `dist` < 0 (1-pixel soft edge), with an optional dark rim.

    Args:
        region: float32 pixels, changed in place; `dist` and `colour` broadcast against it.
        dist: signed distance to the shape in pixels.
    """
    layers = [(colour, 0.0)]
    if outline > 0 and outline_colour is not None:
        layers.insert(0, (outline_colour, outline))
    for fill, grow in layers:
        cover = np.clip(0.5 + grow - dist, 0.0, 1.0)
        change = fill - region  # in-place from here on: this is the renderer's hottest loop
        change *= cover
        region += change


def _capsule_distance(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray,
                      radius: np.ndarray) -> np.ndarray:
    """Signed distance from pixel centres to a union of capsules.

    Args:
        xs, ys: (T, W) and (T, H) pixel-centre coordinates of each frame's window.
        a, b: (T, K, 2) segment end points; radius: (T, K).
    Returns: (T, H, W).
    """
    ax, ay = a[..., 0, None, None], a[..., 1, None, None]  # (T, K, 1, 1)
    bax, bay = b[..., 0, None, None] - ax, b[..., 1, None, None] - ay
    px = xs[:, None, None, :] - ax  # (T, K, 1, W)
    py = ys[:, None, :, None] - ay  # (T, K, H, 1)
    along = np.clip((px * bax + py * bay) / (bax * bax + bay * bay + 1e-6), 0.0, 1.0)
    dist = np.sqrt((px - along * bax) ** 2 + (py - along * bay) ** 2) - radius[..., None, None]
    return dist.min(axis=1)


def draw_capsules(canvas: np.ndarray, a: np.ndarray, b: np.ndarray, radius: np.ndarray,
                  colour: np.ndarray, center: np.ndarray, window: int, outline: float = 0.0,
                  outline_colour: np.ndarray | None = None) -> None:
    """Draw a union of capsules on every frame, inside a per-frame window around `center`.

    Args:
        canvas: (T, H, W, C) float32, changed in place.
        a, b: (T, K, 2) capsule end points (x, y) in canvas pixels; radius: (T, K) or (K,).
        colour: (C,) fill colour.
        center: (T, 2) window centre per frame; window: its side in pixels.
    """
    frames, height, width = canvas.shape[:3]
    window = min(window, height, width)
    origin = np.round(center - window / 2).astype(np.int64)
    origin[:, 0] = np.clip(origin[:, 0], 0, width - window)
    origin[:, 1] = np.clip(origin[:, 1], 0, height - window)
    # A view of every window position; indexing it with one (x, y) per frame gathers the
    # frames' windows in one call, and assigning to it scatters them back.
    views = np.lib.stride_tricks.sliding_window_view(canvas, (window, window), axis=(1, 2),
                                                     writeable=True)
    index = (np.arange(frames), origin[:, 1], origin[:, 0])
    region = views[index]  # (T, C, window, window)
    steps = np.arange(window, dtype=np.float32) + 0.5
    radius = np.broadcast_to(radius, a.shape[:2]).astype(np.float32)
    corner = origin.astype(np.float32)
    dist = _capsule_distance(corner[:, :1] + steps, corner[:, 1:] + steps, a, b, radius)
    _paint(region, dist[:, None], colour[:, None, None], outline,
           None if outline_colour is None else outline_colour[:, None, None])
    views[index] = region


def _colour(rgb: tuple[int, int, int], factor: float = 1.0) -> np.ndarray:
    return np.array(rgb, np.float32) * factor


def _opaque(colour: np.ndarray) -> np.ndarray:
    """RGB -> premultiplied RGBA with alpha 1 (for drawing onto a transparent layer)."""
    return np.append(colour, np.float32(1.0)).astype(np.float32)


class Renderer:
    """Renders timelines of one signer at one frame size.

    Args:
        signer: who signs.
        size: output frame side in pixels (square frames).
        margin: extra canvas border in pixels, so that camera shifts never show an empty edge.
    """

    def __init__(self, signer: Signer, size: int = 64, margin: int | None = None):
        self.signer = signer
        self.size = size
        self.scale = size / CANONICAL_SIZE
        self.margin = margin if margin is not None else max(1, round(self.scale)) + 1
        self.base = self._static_base()
        self.head_origin, self.head_sprites = self._head_sprites()

    def to_canvas(self, points: np.ndarray) -> np.ndarray:
        """Canonical coordinates -> canvas pixel coordinates."""
        return points * self.scale + self.margin

    def _static_base(self) -> np.ndarray:
        """Background, neck and torso: (H, W, 3) float32 canvas."""
        s, k = self.signer, self.scale
        side = self.size + 2 * self.margin
        top, bottom = _colour(s.background_top), _colour(s.background_bottom)
        ramp = np.linspace(0.0, 1.0, side, dtype=np.float32)[:, None, None]
        base = np.ascontiguousarray(np.broadcast_to(top + (bottom - top) * ramp, (side, side, 3)))
        centres = np.arange(side, dtype=np.float32) + 0.5
        xs, ys = np.meshgrid(centres, centres)  # (H, W)
        hx, hy = self.to_canvas(np.array(s.head_center(), np.float32))
        sy = self.to_canvas(np.array(s.shoulder_y, np.float32))
        # Neck: a thick vertical capsule from the chin to the shoulders.
        neck_x = np.clip(ys, hy, sy)
        neck = np.hypot(xs - hx, ys - neck_x) - 0.38 * s.head_radius * k
        _paint(base, neck[..., None], _colour(s.skin, 0.85))
        # Torso: a box with rounded shoulders that runs off the bottom of the frame.
        half_w, radius = (s.shoulder_half_width + 2.0) * k, 5.0 * k
        cx, cy = hx, sy + side
        qx = np.abs(xs - cx) - half_w + radius
        qy = np.abs(ys - cy) - (side - 1.5 * k) + radius
        torso = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(
            np.maximum(qx, qy), 0) - radius
        _paint(base, torso[..., None], _colour(s.shirt), 0.7 * k, _colour(s.shirt, 0.6))
        return base

    def render(self, timeline: Timeline, rng: np.random.Generator | None = None,
               noise: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Draw all frames of a timeline.

        Args:
            timeline: per-frame poses from `motion.plan_video`.
            rng: source of pixel noise (needed when noise > 0).
            noise: pixel noise amplitude: every value moves by a uniform integer in
                [-noise, noise] grey levels (3 gives a standard deviation of 2).
        Returns:
            frames: (T, size, size, 3) uint8; keypoints: (T, len(KEYPOINTS), 2) float32 in
            output pixels (x, y) of the joints the renderer used.
        """
        s = self.signer
        n = timeline.num_frames
        canvas = np.repeat(self.base[None], n, axis=0)  # (T, H, W, 3)
        # The head moves by whole pixels only (see `_head_sprites`).
        head_shift = np.rint(timeline.head_offset * self.scale).astype(np.int64)  # (T, 2)
        self._paste_head(canvas, head_shift, timeline.face)
        head = self.to_canvas(np.array(s.head_center(), np.float32)) + head_shift
        shoulders = self.to_canvas(np.array(s.shoulders(), np.float32))  # (2, 2)
        targets = self.to_canvas(timeline.hand_xy)  # (T, 2, 2)
        arms = {}
        # Non-dominant first, so that the dominant arm passes in front of it.
        for hand in (1, 0):
            chirality = -s.dominant_side if hand == 0 else s.dominant_side
            elbow, wrist = self._draw_arm(canvas, shoulders[hand], targets[:, hand],
                                          timeline.hand_rot[:, hand],
                                          timeline.hand_shape[:, hand], chirality)
            arms[hand] = (np.broadcast_to(shoulders[hand], (n, 2)), elbow, wrist)
        joints = [head, *arms[0], *arms[1]]  # the order of KEYPOINTS
        frames = self._camera(canvas, timeline.camera)
        if noise > 0:
            if rng is None:
                raise ValueError("pixel noise needs an rng")
            # Integer noise is 3x cheaper to draw than Gaussian noise and looks the same.
            frames += rng.integers(-noise, noise + 1, frames.shape, dtype=np.int8)
        frames = np.clip(frames + 0.5, 0, 255).astype(np.uint8)
        keypoints = np.stack(joints, 1) - self.margin - timeline.camera[:, None, :]
        return frames, keypoints.astype(np.float32)

    def _camera(self, canvas: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """Crop each frame's view out of the padded canvas, moved by the camera shake."""
        m, size = self.margin, self.size
        out = np.empty((len(canvas), size, size, 3), np.float32)
        for t, (dx, dy) in enumerate(shift):
            out[t] = canvas[t, m + dy:m + dy + size, m + dx:m + dx + size]
        return out

    def _head_sprites(self) -> tuple[np.ndarray, np.ndarray]:
        """The head with each face cue, drawn once: canvas origin (2,) and (F, 4, w, w) RGBA.

        The head only ever moves by whole pixels (the "tilt" cue), so pasting these
        premultiplied sprites replaces four capsule drawings per frame.
        """
        s, k = self.signer, self.scale
        r = s.head_radius * k
        window = math.ceil(2.4 * r) + 4
        rest = self.to_canvas(np.array(s.head_center(), np.float32))
        origin = np.round(rest - window / 2).astype(np.int64)
        faces = np.arange(len(FACE_CUES))
        layer = np.zeros((len(faces), window, window, 4), np.float32)  # transparent
        centre = np.broadcast_to(rest - origin, (len(faces), 2)).astype(np.float32)

        def at(offsets: np.ndarray) -> np.ndarray:  # (K, 2) head radii -> (F, K, 2) pixels
            return centre[:, None, :] + offsets[None] * r

        def draw(a, b, radius, colour, outline=0.0, outline_colour=None):
            draw_capsules(layer, a, b, radius, _opaque(colour), centre, window, outline,
                          None if outline_colour is None else _opaque(outline_colour))

        hair = at(np.array([[0.0, -0.12]], np.float32))
        draw(hair, hair, np.array([1.03 * r]), _colour(s.hair))
        skin = at(np.array([[0.0, 0.1]], np.float32))
        draw(skin, skin, np.array([0.9 * r]), _colour(s.skin), 0.5 * k, _colour(s.skin, 0.55))
        # Eyes (dots) and brows (short strokes); brows lift for the "brows" face cue.
        lift = np.where(faces == _BROWS_UP, 0.22, 0.0).astype(np.float32)[:, None, None]
        start = np.array([[-0.36, 0.05], [0.36, 0.05], [-0.58, -0.3], [0.18, -0.36]], np.float32)
        end = np.array([[-0.36, 0.05], [0.36, 0.05], [-0.18, -0.36], [0.58, -0.3]], np.float32)
        brow = np.array([0, 0, 1, 1], np.float32)[None, :, None]
        shift = np.concatenate([np.zeros_like(lift), -lift], -1) * brow  # (F, 4, 2)
        draw(at(start) + shift * r, at(end) + shift * r,
             np.array([0.13, 0.13, 0.08, 0.08], np.float32) * r, _INK)
        mouth = MOUTH_TABLE[faces]  # (F, 5)
        mouth_centre = centre + np.array([0.0, 0.55], np.float32) * r
        lips = [(mouth_centre + mouth[:, i:i + 2] * r)[:, None] for i in (0, 2)]
        draw(*lips, mouth[:, 4:5] * r, _MOUTH_COLOUR)
        return origin, np.ascontiguousarray(layer.transpose(0, 3, 1, 2))

    def _paste_head(self, canvas: np.ndarray, shift: np.ndarray, face: np.ndarray) -> None:
        """Composite each frame's head sprite, moved by `shift` (T, 2) whole pixels."""
        sprites = self.head_sprites[face]  # (T, 4, w, w) premultiplied colour + alpha
        window = sprites.shape[-1]
        views = np.lib.stride_tricks.sliding_window_view(canvas, (window, window), axis=(1, 2),
                                                         writeable=True)
        origin = self.head_origin + shift
        index = (np.arange(len(canvas)), origin[:, 1], origin[:, 0])
        region = views[index]  # (T, 3, w, w)
        region *= 1.0 - sprites[:, 3:]
        region += sprites[:, :3]
        views[index] = region

    def _draw_arm(self, canvas: np.ndarray, shoulder: np.ndarray, target: np.ndarray,
                  rotation: np.ndarray, shape: np.ndarray, chirality: float
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Draw one arm and hand reaching its hand centre towards `target` (T, 2)."""
        s, k = self.signer, self.scale
        length, hand = s.arm_length * k, s.hand_size * k
        # Two passes of two-link IK: aim the wrist so that the palm, not the wrist, is on target.
        outward = np.sign(shoulder[0] - self.to_canvas(np.float32(s.midline_x)))
        elbow, wrist = _reach(shoulder, target, length, outward)
        axis = _unit(wrist - elbow)
        elbow, wrist = _reach(shoulder, target - axis * 0.45 * hand, length, outward)
        radius = ARM_RADIUS * k
        window = math.ceil(length + 2 * radius) + 3
        upper = np.broadcast_to(shoulder, elbow.shape)
        for start, end in ((upper, elbow), (elbow, wrist)):
            draw_capsules(canvas, start[:, None], end[:, None], np.array([radius]),
                          _colour(s.sleeve), (start + end) / 2, window, 0.6 * k,
                          _colour(s.shirt, 0.5))
        # The hand: shape capsules in (along, across) hand units, rotated onto the forearm.
        angle = np.arctan2(*(wrist - elbow).T[::-1]) + rotation  # (T,)
        along = np.stack([np.cos(angle), np.sin(angle)], -1)[:, None, :]  # (T, 1, 2)
        across = np.stack([-np.sin(angle), np.cos(angle)], -1)[:, None, :] * chirality

        def place(local: np.ndarray) -> np.ndarray:  # (T, K, 2) hand units -> pixels
            return wrist[:, None, :] + (local[..., :1] * along + local[..., 1:] * across) * hand

        centre = place(np.array([[HAND_CENTRE]], np.float32))[:, 0]
        draw_capsules(canvas, place(SHAPE_STARTS[shape]), place(SHAPE_ENDS[shape]),
                      SHAPE_RADII[shape] * hand, _colour(s.skin), centre,
                      2 * math.ceil(HAND_REACH * hand) + 3, 0.6 * k, _colour(s.skin, 0.4))
        return elbow, wrist


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-6)


def _reach(shoulder: np.ndarray, target: np.ndarray, length: float, outward: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """Two-link inverse kinematics with equal links; the elbow bends down and outwards.

    Args:
        shoulder: (2,); target: (T, 2) wanted wrist positions (clamped to the arm's reach).
        length: upper arm = forearm length; outward: +1 or -1, image-x away from the body.
    Returns: elbow, wrist, each (T, 2).
    """
    offset = target - shoulder
    dist = np.linalg.norm(offset, axis=-1, keepdims=True)
    direction = offset / np.maximum(dist, 1e-6)
    dist = np.clip(dist, 0.3 * length, 1.98 * length)
    wrist = shoulder + direction * dist
    normal = np.stack([-direction[:, 1], direction[:, 0]], -1)
    # Of the two possible elbows take the one below and outside: arms raised to the head
    # open sideways instead of crossing in front of the face.
    normal *= np.where(normal[:, :1] * outward + normal[:, 1:] < 0, -1.0, 1.0)
    bend = np.sqrt(np.maximum(length**2 - (dist / 2) ** 2, 0.0))
    elbow = shoulder + direction * dist / 2 + normal * bend
    return elbow.astype(np.float32), wrist.astype(np.float32)


@functools.lru_cache(maxsize=32)
def renderer_for(signer_index: int, size: int) -> Renderer:
    """A cached renderer per (signer, size): the static base is drawn only once."""
    return Renderer(SIGNERS[signer_index], size)
