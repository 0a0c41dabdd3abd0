"""`sign2gpt pose extract` on a clip of a real photograph (scikit-image's astronaut): MediaPipe
Holistic finds her body and face; both file formats read back through the pose reader."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import write_png_frames, write_video
from sign2gpt.cli import main
from sign2gpt.data.keypoints import PARTS, read_keypoints

pytest.importorskip("mediapipe")
skimage_data = pytest.importorskip("skimage.data")

FRAMES = 4


@pytest.fixture(scope="module")
def astronaut_clip(tmp_path_factory):
    """A 4-frame 256 x 256 clip of the astronaut photograph, shifted by 3 px per frame."""
    photo = skimage_data.astronaut()[::2, ::2]  # (256, 256, 3) uint8, a real person
    frames = np.stack([np.roll(photo, (2 * t, 3 * t), axis=(0, 1)) for t in range(FRAMES)])
    folder = tmp_path_factory.mktemp("astronaut")
    write_video(folder / "astronaut.mp4", frames)
    write_png_frames(folder / "astronaut_frames", frames)
    return folder


@pytest.mark.parametrize("fmt", ["pose", "npz"])
def test_real_photo_gives_body_and_face_with_high_visibility(astronaut_clip, tmp_path, fmt):
    out = tmp_path / "poses"
    code = main(["pose", "extract", str(astronaut_clip / "astronaut.mp4"), "--out", str(out),
                 "--format", fmt, "--no-progress"])  # fmt: skip
    assert code == 0
    kp = read_keypoints(out / f"astronaut.{fmt}")
    assert len(kp) == FRAMES and kp.fps == 25
    body = kp.confidence[:, PARTS["body"]]
    # Head and shoulders (MediaPipe body 0..12) are in the picture and seen clearly.
    assert body[:, :13].min() > 0.8, body[:, :13].min()
    face = kp.confidence[:, PARTS["face"]]
    assert (face == 1).all(), "the face mesh is found in every frame"
    # The face follows the 3 px per frame shift to the right.
    nose = kp.points[:, PARTS["face"].start + 13, 0]
    assert 1 < np.diff(nose).mean() < 5
    assert 0 < kp.points[0, 0, 0] < 256 and 0 < kp.points[0, 0, 1] < 256


def test_folders_and_bad_inputs(astronaut_clip, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    out = tmp_path / "poses"
    code = main(["pose", "extract", str(astronaut_clip / "astronaut_frames"), str(broken),
                 str(tmp_path / "notes.txt"), "--out", str(out), "--format", "npz",
                 "--no-progress"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["astronaut_frames.npz"]
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(errors) == 2 and "broken.mp4: cannot" in captured.err
    assert "notes.txt: not a video file" in captured.err
    assert "wrote 1 keypoint file(s)" in captured.out and "2 failed" in captured.out
    (tmp_path / "file").write_text("")
    code = main(["pose", "extract", str(broken), "--out", str(tmp_path / "file")])
    assert code == 2 and "is not a folder" in capsys.readouterr().err
