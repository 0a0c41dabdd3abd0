"""Decoding frames: PNG/JPG frame folders (Pillow) and video files (PyAV).

Why Pillow for frame folders: on a 210x260 PNG it decodes a frame in about 1.2 ms against
2.1 ms for opening each PNG with PyAV (measured here), and it lets us decode only the frames
that the temporal stride keeps (half of them), which a PyAV image-sequence demuxer cannot.
Pillow comes with matplotlib, a dependency. Video files need a demuxer, so they go through
PyAV. Grayscale, palette and RGBA frames are converted to RGB (alpha is dropped).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sign2gpt.errors import DataError

FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg")
VIDEO_EXTENSIONS = (".mp4", ".webm", ".avi", ".mkv", ".mov", ".m4v")
# Frame folders carry no frame rate; Phoenix14T's (and CSL-Daily's) is 25 fps.
FRAME_FOLDER_FPS = 25.0
_DIGITS = re.compile(r"(\d+)")
_SUPPORTED_MODES = {"RGB", "RGBA", "RGBX", "L", "LA", "P", "PA", "1", "CMYK", "YCbCr"}


def is_video_file(path: Path) -> bool:
    """True when `path` names a video file (by extension) rather than a frame folder."""
    return path.suffix.lower() in VIDEO_EXTENSIONS


def list_frame_files(folder: Path) -> list[Path]:
    """The frame images of a folder in natural order (frame2 before frame10)."""
    if not folder.is_dir():
        raise DataError(folder, "frame folder does not exist")
    files = [p for p in folder.iterdir() if p.suffix.lower() in FRAME_EXTENSIONS]
    if not files:
        raise DataError(folder, f"frame folder has no {'/'.join(FRAME_EXTENSIONS)} files")
    return sorted(files, key=_natural_key)


def read_image(path: Path) -> np.ndarray:
    """Decode one frame image to uint8 RGB (H, W, 3)."""
    from PIL import Image  # imported here: only frame-folder corpora need it

    try:
        with Image.open(path) as image:
            if image.mode not in _SUPPORTED_MODES:
                raise DataError(path, f"unsupported image mode {image.mode} (use 8-bit RGB)")
            image.load()
            rgb = image if image.mode == "RGB" else image.convert("RGB")
            return np.asarray(rgb, dtype=np.uint8)
    except DataError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's ways of saying "corrupt"
        raise DataError(path, f"cannot decode image ({exc})") from None


def read_frame_files(files: list[Path], indices: np.ndarray) -> np.ndarray:
    """Decode the frames `files[i]` for i in `indices` into one (T, H, W, 3) uint8 array."""
    frames = [read_image(files[i]) for i in indices]
    _check_same_size(frames, [files[i] for i in indices])
    return np.stack(frames)


def read_video_file(path: Path) -> np.ndarray:
    """Decode every frame of a video file into (N, H, W, 3) uint8 RGB."""
    import av  # imported here: heavy, and only video-file corpora need it

    if not path.is_file():
        raise DataError(path, "video file does not exist")
    frames: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(path, "file has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            frames.extend(frame.to_ndarray(format="rgb24") for frame in container.decode(stream))
    except DataError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DataError(path, f"cannot decode video ({exc})") from None
    if not frames:
        raise DataError(path, "video has no frames")
    _check_same_size(frames, [path] * len(frames))
    return np.stack(frames)


def count_video_frames(path: Path) -> int:
    """Number of frames of a video file, from its header when known, else by decoding."""
    import av

    try:
        with av.open(str(path)) as container:
            if container.streams.video and container.streams.video[0].frames > 0:
                return int(container.streams.video[0].frames)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DataError(path, f"cannot open video ({exc})") from None
    return len(read_video_file(path))


def video_frame_rate(path: Path) -> float:
    """Frames per second of a video file from its container (`FRAME_FOLDER_FPS` if unknown)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(path, "file has no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
    except DataError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DataError(path, f"cannot open video ({exc})") from None
    return float(rate) if rate and float(rate) > 0 else FRAME_FOLDER_FPS


def select_frame_indices(
    num_frames: int,
    stride: int,
    max_frames: int,
    shift: int = 0,
    end_trim: int = 0,
    generator: torch.Generator | None = None,
) -> np.ndarray:
    """Indices of the frames a clip keeps: every `stride`-th from `shift`, at most `max_frames`.

    Longer clips are sampled down over the whole clip (the caller warns): evenly spaced, or,
    given a `generator`, a random sorted subset (the authors' code: `np.random.choice`
    without replacement).

    Args:
        num_frames: frames in the source.
        stride: temporal stride (2 in the paper).
        max_frames: cap after the stride (256 in the paper).
        shift: start offset (the random temporal shift of training); clamped so that at
            least half of the clip stays.
        end_trim: frames left out at the end (training's random end); clamped so that at
            least one frame stays.
        generator: random subset instead of evenly spaced frames for long clips.
    """
    shift = min(shift, max(0, (num_frames - 1) // 2))
    end = max(num_frames - end_trim, shift + 1)
    indices = np.arange(shift, end, stride)
    if len(indices) > max_frames:
        if generator is not None:
            picks = torch.randperm(len(indices), generator=generator)[:max_frames]
            picks = picks.sort().values.numpy()
        else:
            picks = np.linspace(0, len(indices) - 1, max_frames).round().astype(np.int64)
        indices = indices[picks]
    return indices


def num_kept_frames(num_frames: int, stride: int, max_frames: int) -> int:
    """Length of a clip after the stride and the cap (no shift)."""
    return min(-(-num_frames // stride), max_frames)


def resize_frames(frames: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 frames (T, H, W, 3) to (T, size, size, 3) with antialiased bilinear."""
    video = torch.as_tensor(frames)
    if video.shape[1:3] == (size, size):
        return video.contiguous()
    # channels-last uint8 has a fast CPU kernel; permute is a view, no copy.
    x = video.permute(0, 3, 1, 2)  # (T, 3, H, W)
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.permute(0, 2, 3, 1).contiguous()  # (T, size, size, 3)


def _check_same_size(frames: list[np.ndarray], paths: list[Path]) -> None:
    first = frames[0].shape
    for frame, path in zip(frames, paths, strict=True):
        if frame.shape != first:
            raise DataError(
                path,
                f"frame size {frame.shape[1]}x{frame.shape[0]} differs from the clip's first "
                f"frame ({first[1]}x{first[0]})",
            )


def _natural_key(path: Path) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(path.name)]
