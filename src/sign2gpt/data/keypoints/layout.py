"""The keypoint layout the pose model reads, and how other estimators' layouts map onto it.

Our layout (`OURS`, 126 joints) is MediaPipe Holistic's, with its 468-point face mesh cut
to the 51 inner points of the iBUG-68 face (brows, nose, eyes, mouth; the jaw contour is
left out: it says little about signing and estimators place it worst):

    body        33  MediaPipe Pose order (11/12 = left/right shoulder, 15/16 = wrists)
    left hand   21  wrist, thumb 1-4, index 1-4, middle, ring, little (the usual hand order)
    right hand  21
    face        51  iBUG-68 points 17..67

Other layouts map onto it with a table of (our joint, their joint) pairs; a joint they do
not have is missing (confidence 0), so a COCO-WholeBody body gives 17 of the 33 body joints.
"Left" is always the signer's own left hand, as in all three estimators' outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BODY, HAND, FACE = 33, 21, 51
# Our parts, as slices of the joint axis (the per-part encoder encodes each on its own).
PARTS: dict[str, slice] = {
    "body": slice(0, BODY),
    "left_hand": slice(BODY, BODY + HAND),
    "right_hand": slice(BODY + HAND, BODY + 2 * HAND),
    "face": slice(BODY + 2 * HAND, BODY + 2 * HAND + FACE),
}
NUM_JOINTS = BODY + 2 * HAND + FACE
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12

# MediaPipe face-mesh index of each iBUG-68 point 17..67 (brows, nose, eyes, outer and inner
# lips), the points the 68-point layouts of dlib, OpenPose and COCO-WholeBody share.
MESH_OF_IBUG = (
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,  # brows 17-26
    168, 197, 5, 4, 75, 97, 2, 326, 305,  # nose 27-35
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,  # eyes 36-47
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # outer lips 48-59
    78, 82, 13, 312, 308, 317, 14, 87,  # inner lips 60-67
)  # fmt: skip
FIRST_IBUG = 17

# COCO-17 body joint -> MediaPipe Pose joint (nose, eyes, ears, shoulders ... ankles).
_MP_OF_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
# OpenPose BODY_25 joint -> MediaPipe Pose joint (the neck, 1, and mid-hip, 8, have none).
_MP_OF_BODY25 = {
    0: 0, 2: 12, 3: 14, 4: 16, 5: 11, 6: 13, 7: 15, 9: 24, 10: 26, 11: 28, 12: 23, 13: 25,
    14: 27, 15: 5, 16: 2, 17: 8, 18: 7, 19: 31, 21: 29, 22: 32, 24: 30,
}  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """A source layout: its name, joint count and the (ours, theirs) joint pairs."""

    name: str
    num_joints: int
    pairs: tuple[tuple[int, int], ...]

    def to_ours(self, points: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T, their J, 2) points and (T, their J) confidence -> ours, (T, 126, 2) and (T, 126)."""
        ours = np.array([p[0] for p in self.pairs])
        theirs = np.array([p[1] for p in self.pairs])
        out_points = np.zeros((len(points), NUM_JOINTS, 2), dtype=np.float32)
        out_conf = np.zeros((len(points), NUM_JOINTS), dtype=np.float32)
        out_points[:, ours] = points[:, theirs]
        out_conf[:, ours] = confidence[:, theirs]
        return out_points, out_conf


def _hands_and_face(left: int, right: int, face_ibug0: int, face_ibug: bool) -> list:
    """Pairs for both hands (21 each from `left` / `right`) and the face; the face starts at
    `face_ibug0` and is iBUG-68 ordered (`face_ibug`) or a MediaPipe mesh (False)."""
    pairs = [(BODY + j, left + j) for j in range(HAND)]
    pairs += [(BODY + HAND + j, right + j) for j in range(HAND)]
    first_face = PARTS["face"].start
    for k, mesh in enumerate(MESH_OF_IBUG):
        theirs = face_ibug0 + FIRST_IBUG + k if face_ibug else face_ibug0 + mesh
        pairs.append((first_face + k, theirs))
    return pairs


OURS = Layout("sign2gpt", NUM_JOINTS, tuple((j, j) for j in range(NUM_JOINTS)))
# MediaPipe Holistic as pose-format writes it: body 33, face 468 (or 478 with irises),
# left hand 21, right hand 21.
HOLISTIC = Layout(
    "holistic", 33 + 468 + 42,
    tuple([(j, j) for j in range(BODY)] + _hands_and_face(501, 522, 33, face_ibug=False)),
)
HOLISTIC_IRIS = Layout(
    "holistic-iris", 33 + 478 + 42,
    tuple([(j, j) for j in range(BODY)] + _hands_and_face(511, 532, 33, face_ibug=False)),
)
# COCO-WholeBody (RTMPose / rtmlib): body 17, feet 6, face 68, left hand 21, right hand 21.
COCO_WHOLEBODY = Layout(
    "coco-wholebody", 133,
    tuple([(mp, c) for c, mp in enumerate(_MP_OF_COCO17)]
          + [(31, 17), (29, 19), (32, 20), (30, 22)]  # big toes and heels
          + _hands_and_face(91, 112, 23, face_ibug=True)),
)  # fmt: skip
# OpenPose BODY_25 + face 70 + hands, in the order the JSON reader concatenates them.
OPENPOSE = Layout(
    "openpose", 25 + 70 + 42,
    tuple(list((mp, op) for op, mp in _MP_OF_BODY25.items())
          + _hands_and_face(95, 116, 25, face_ibug=True)),
)  # fmt: skip

LAYOUTS = {layout.name: layout for layout in (OURS, HOLISTIC, HOLISTIC_IRIS, COCO_WHOLEBODY,
                                              OPENPOSE)}  # fmt: skip


def layout_for(num_joints: int, name: str | None = None) -> Layout | None:
    """The layout called `name`, else the one with `num_joints` joints; None when unknown."""
    if name:
        return LAYOUTS.get(name)
    return next((lay for lay in LAYOUTS.values() if lay.num_joints == num_joints), None)


# Skeleton edges of each part in part-local joint indices (the graph convolution's graph).
_HAND_EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10),
               (10, 11), (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17),
               (17, 18), (18, 19), (19, 20)]  # fmt: skip
_BODY_EDGES = [(0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
               (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14),
               (14, 16), (16, 18), (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24),
               (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32),
               (27, 31), (28, 32)]  # MediaPipe's POSE_CONNECTIONS  # fmt: skip


def _chain(first: int, last: int, closed: bool = False) -> list[tuple[int, int]]:
    """Edges along iBUG points first..last (a contour), as our face-part indices."""
    edges = [(i - FIRST_IBUG, i + 1 - FIRST_IBUG) for i in range(first, last)]
    return edges + ([(last - FIRST_IBUG, first - FIRST_IBUG)] if closed else [])


_FACE_EDGES = (_chain(17, 21) + _chain(22, 26) + _chain(27, 30) + _chain(31, 35)
               + [(30 - FIRST_IBUG, 33 - FIRST_IBUG)] + _chain(36, 41, True)
               + _chain(42, 47, True) + _chain(48, 59, True) + _chain(60, 67, True))  # fmt: skip


def part_edges(part: str) -> list[tuple[int, int]]:
    """The skeleton edges of `part` (a key of PARTS), in part-local joint indices."""
    if part == "body":
        return list(_BODY_EDGES)
    if part == "face":
        return list(_FACE_EDGES)
    return list(_HAND_EDGES)
