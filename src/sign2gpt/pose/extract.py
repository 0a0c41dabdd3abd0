"""Run MediaPipe Holistic over clips and write one keypoint file per clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sign2gpt.data.frames import FRAME_EXTENSIONS, is_video_file
from sign2gpt.data.sources import read_all_frames
from sign2gpt.errors import DataError
from sign2gpt.pose.holistic import HolisticTracker
from sign2gpt.pose.writers import write_keypoints


def _has_frames(folder: Path) -> bool:
    return any(p.suffix.lower() in FRAME_EXTENSIONS for p in folder.iterdir())


def clips_of(inputs: list[Path]) -> tuple[list[Path], list[str]]:
    """Inputs -> clips (video files, frame folders) and one message per input that is none."""
    clips, errors = [], []
    for path in inputs:
        if path.is_file() and is_video_file(path):
            clips.append(path)
        elif path.is_file():
            errors.append(f"{path}: not a video file")
        elif path.is_dir():
            if _has_frames(path):
                clips.append(path)
                continue
            found = sorted(p for p in path.iterdir()
                           if is_video_file(p) or (p.is_dir() and _has_frames(p)))  # fmt: skip
            clips += found
            if not found:
                errors.append(f"{path}: no video file or frame folder in it")
        else:
            errors.append(f"{path}: does not exist")
    return clips, errors


def video_fps(path: Path, default: float) -> float:
    """The frame rate of a video file from its header; `default` for frame folders."""
    if not is_video_file(path):
        return default
    import av

    try:
        with av.open(str(path)) as container:
            rate = container.streams.video[0].average_rate if container.streams.video else None
    except (av.FFmpegError, OSError, ValueError):
        return default  # reading the frames reports the problem
    return float(rate) if rate else default


def extract_clips(
    clips: list[Path], out: Path, fmt: str, *, fps: float = 25.0,
    min_detection_confidence: float = 0.5, progress: bool = True,
) -> tuple[list[Path], list[str]]:
    """Extract every clip into `out`/<name>.<fmt>; return the files written and the failures."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    written, failed = [], []
    names: set[str] = set()
    bar = tqdm(total=0, desc="pose extract", unit="frame", disable=not progress,
               dynamic_ncols=True)  # fmt: skip
    for clip in clips:
        name = clip.stem if clip.is_file() else clip.name
        target = out / f"{name}.{fmt}"
        if name in names:
            failed.append(f"{clip}: another input also writes {target}; rename one")
            continue
        names.add(name)
        try:
            frames = read_all_frames(clip)
        except DataError as exc:
            failed.append(str(exc))
            continue
        bar.total += len(frames)
        bar.set_postfix_str(name)
        points, confidence = [], []
        try:
            with HolisticTracker(min_detection_confidence) as tracker:
                for p, c in tracker.clip(frames):
                    points.append(p)
                    confidence.append(c)
                    bar.update()
        except Exception as exc:  # MediaPipe raises RuntimeError / ValueError on odd frames
            failed.append(f"{clip}: MediaPipe failed ({type(exc).__name__}: {exc})")
            continue
        height, width = frames.shape[1:3]
        write_keypoints(target, np.stack(points), np.stack(confidence),
                        video_fps(clip, fps), width, height)  # fmt: skip
        written.append(target)
    bar.close()
    return written, failed
