"""The 9 SynthSign signers: body proportions, colours, background, speed and handedness.

All lengths are in "canonical pixels" of a 64x64 frame; the renderer scales them to the frame
size. Signer 9 (index 8) never appears in train, dev or test; only in `test_unseen_signer`.
"""

from __future__ import annotations

import dataclasses

RGB = tuple[int, int, int]


@dataclasses.dataclass(frozen=True)
class Signer:
    """One signer's look and pace."""

    name: str
    left_handed: bool
    midline_x: float  # where the body's midline is (camera framing differs per signer)
    shoulder_y: float
    head_radius: float
    shoulder_half_width: float
    arm_length: float  # upper arm and forearm each
    hand_size: float
    sign_frames: tuple[int, int]  # a sign lasts between these frame counts (within 4..10)
    skin: RGB
    hair: RGB
    shirt: RGB
    sleeve: RGB
    background_top: RGB
    background_bottom: RGB

    @property
    def dominant_side(self) -> float:
        """Image-x direction of the dominant hand: a right hand appears on the image's left."""
        return 1.0 if self.left_handed else -1.0

    def shoulders(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(dominant, non-dominant) shoulder joints."""
        dx = self.shoulder_half_width * self.dominant_side
        return (self.midline_x + dx, self.shoulder_y), (self.midline_x - dx, self.shoulder_y)

    def head_center(self) -> tuple[float, float]:
        neck = 0.55 * self.head_radius
        return self.midline_x, self.shoulder_y - neck - self.head_radius


SIGNERS: tuple[Signer, ...] = (
    Signer("Signer01", False, 32.0, 28.0, 7.0, 11.5, 12.0, 6.5, (5, 9),
           (233, 190, 160), (60, 40, 25), (25, 30, 60), (45, 55, 100), (150, 160, 170),
           (110, 120, 135)),
    Signer("Signer02", False, 30.5, 27.0, 6.6, 11.0, 11.5, 6.2, (4, 8),
           (200, 150, 115), (20, 20, 20), (70, 20, 30), (110, 40, 55), (175, 175, 160),
           (135, 135, 120)),
    Signer("Signer03", True, 33.5, 29.0, 7.2, 12.5, 12.5, 6.8, (6, 10),
           (240, 205, 180), (180, 140, 60), (20, 50, 40), (40, 90, 70), (120, 140, 165),
           (90, 100, 130)),
    Signer("Signer04", False, 32.5, 27.5, 6.8, 12.0, 12.2, 6.6, (5, 9),
           (150, 100, 70), (30, 25, 20), (40, 40, 40), (75, 75, 75), (185, 170, 150),
           (140, 125, 110)),
    Signer("Signer05", False, 31.0, 28.5, 7.4, 11.8, 11.8, 6.4, (4, 9),
           (225, 180, 145), (110, 60, 30), (30, 35, 90), (60, 70, 140), (160, 175, 160),
           (115, 135, 115)),
    Signer("Signer06", False, 33.0, 26.5, 6.5, 10.8, 11.2, 6.0, (6, 10),
           (245, 215, 195), (200, 200, 195), (60, 30, 70), (100, 55, 115), (140, 150, 155),
           (100, 105, 120)),
    Signer("Signer07", True, 31.5, 28.0, 7.0, 12.2, 12.4, 6.6, (5, 8),
           (180, 130, 95), (40, 30, 25), (15, 60, 75), (30, 105, 120), (170, 160, 175),
           (125, 115, 140)),
    Signer("Signer08", False, 32.0, 29.5, 7.6, 13.0, 12.8, 7.0, (5, 10),
           (235, 195, 165), (80, 50, 30), (75, 55, 25), (125, 95, 50), (155, 165, 185),
           (105, 115, 145)),
    # The unseen signer: proportions inside the training range, a palette no one else wears.
    Signer("Signer09", False, 32.5, 28.0, 7.1, 12.0, 12.1, 6.5, (5, 9),
           (215, 170, 135), (90, 35, 20), (90, 30, 10), (140, 60, 25), (145, 155, 140),
           (95, 110, 100)),
)
TRAIN_SIGNERS = tuple(range(8))
UNSEEN_SIGNER = 8
