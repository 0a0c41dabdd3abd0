"""Frame sources of a record: count its frames, verify it decodes, read the frames a clip keeps.

A source is a video file, a frame folder, or a keypoint file / OpenPose folder
(`sign2gpt.data.keypoints`), whose "frames" are (J, 3) joints instead of images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sign2gpt.data.frames import (
    FRAME_FOLDER_FPS,
    count_video_frames,
    is_video_file,
    list_frame_files,
    read_frame_files,
    read_video_file,
    video_frame_rate,
)
from sign2gpt.data.keypoints import is_keypoint_source, read_keypoints
from sign2gpt.data.records import VideoRecord, escaping_link
from sign2gpt.errors import DataError


def confined_frame_files(folder: Path, confine: Path | None) -> list[Path]:
    """`list_frame_files(folder)`, refusing a folder or frame file that a symlink takes out of
    `confine` (the data root; None = no limit). Only links are resolved: a plain file in a
    folder inside the root is inside it."""
    files = list_frame_files(folder)
    if confine is not None:
        for path in (folder, *(f for f in files if f.is_symlink())):
            if reason := escaping_link(confine, path):
                raise DataError(path, reason)
    return files


def count_frames(record: VideoRecord, *, min_frames: int, verify: bool = False) -> int:
    """Frames in the record's source (before the stride).

    Args:
        record: the video.
        min_frames: fewer frames than this is an error (a one-frame clip cannot be a sentence).
        verify: decode every frame (slow; what `data check` does) instead of only listing
            the folder / reading the video header.
    """
    source = record.source
    if is_keypoint_source(source):
        count = len(read_keypoints(source))  # reading validates it; keypoint files are small
    elif is_video_file(source):
        if not source.is_file():
            raise DataError(source, "video file does not exist")
        count = len(read_video_file(source)) if verify else count_video_frames(source)
    else:
        files = confined_frame_files(source, record.confine)
        if verify:
            read_frame_files(files, np.arange(len(files)))
        count = len(files)
    if count < min_frames:
        raise DataError(
            source, f"clip has {count} frame(s); at least {min_frames} are needed (data.min_frames)"
        )
    return count


def frame_rate(source: Path) -> float:
    """Frames per second of a source: a video file's own, a keypoint file's own when it
    stores one, `FRAME_FOLDER_FPS` for a frame folder (or a keypoint source without one)."""
    if is_keypoint_source(source):
        fps = read_keypoints(source).fps
        return float(fps) if fps and fps > 0 else FRAME_FOLDER_FPS
    return video_frame_rate(source) if is_video_file(source) else FRAME_FOLDER_FPS


def read_all_frames(source: Path, confine: Path | None = None) -> np.ndarray:
    """Every frame of a source, (N, H, W, 3) uint8 (keypoints: (N, J, 3) float32); a frame
    folder's files must stay inside `confine` (see `confined_frame_files`)."""
    if is_keypoint_source(source):
        return read_keypoints(source).stacked()
    if is_video_file(source):
        return read_video_file(source)
    files = confined_frame_files(source, confine)
    return read_frame_files(files, np.arange(len(files)))


def read_selected_frames(source: Path, select, confine: Path | None = None) -> np.ndarray:
    """Frames `select(num_frames)` of a source, (T, H, W, 3) uint8.

    `select` maps the true frame count to indices: the count from the folder listing or the
    decoded video wins over any count stored earlier (a header can be wrong).
    Keypoint sources give (T, J, 3) float32. A frame folder's files must stay inside
    `confine` (see `confined_frame_files`).
    """
    if is_keypoint_source(source):
        joints = read_keypoints(source).stacked()
        return joints[select(len(joints))]
    if is_video_file(source):
        frames = read_video_file(source)
        return frames[select(len(frames))]
    files = confined_frame_files(source, confine)
    return read_frame_files(files, select(len(files)))
