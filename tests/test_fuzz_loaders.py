"""Fuzzing the loaders: truncated and byte-flipped MP4, PNG and safetensors files always end
in the project's own error type (a one-line message), never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import clip_frames, write_png_frames, write_video
from sign2gpt.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from sign2gpt.data.frames import count_video_frames, read_image, read_video_file, video_frame_rate
from sign2gpt.errors import Sign2GPTError
from sign2gpt.models.weights import read_weights


def _mp4(folder: Path) -> Path:
    path = folder / "clip.mp4"
    write_video(path, clip_frames(6, 16, 16))
    return path


def _png(folder: Path) -> Path:
    write_png_frames(folder / "frames", clip_frames(1, 8, 8))
    return folder / "frames" / "images0001.png"


def _safetensors(folder: Path) -> Path:
    path = folder / "ckpt.safetensors"
    tensors = {"a.weight": torch.randn(3, 4), "b.bias": torch.arange(5.0)}
    save_checkpoint(path, Checkpoint(model=tensors, meta={"stage": "pretrain"}))
    return path


def _read_video(path: Path) -> None:
    video_frame_rate(path)
    count_video_frames(path)
    read_video_file(path)


def _read_weights(path: Path) -> None:
    load_checkpoint(path)
    read_weights(path)


FILES = {
    "mp4": (_mp4, _read_video),
    "png": (_png, read_image),
    "safetensors": (_safetensors, _read_weights),
}

# A damage: keep the first `keep` share of the bytes, then xor a few positions (share, mask).
damage = st.tuples(
    st.floats(0.0, 1.0),
    st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)


def _damaged(original: bytes, keep: float, flips: list[tuple[float, int]]) -> bytes:
    data = bytearray(original[: round(len(original) * keep)])
    for where, mask in flips:
        if data:
            data[min(int(where * len(data)), len(data) - 1)] ^= mask
    return bytes(data)


@pytest.mark.parametrize("kind", sorted(FILES))
def test_damaged_files_give_the_projects_error_or_load(kind, tmp_path_factory):
    make, read = FILES[kind]
    folder = tmp_path_factory.mktemp(f"fuzz-{kind}")
    original = make(folder).read_bytes()
    target = folder / f"damaged.{kind}"

    @settings(
        max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(damage=damage)
    def check(damage):
        target.write_bytes(_damaged(original, *damage))
        try:
            read(target)
        except Sign2GPTError as exc:
            assert str(exc) and "\n" not in str(exc), "one line"

    check()
