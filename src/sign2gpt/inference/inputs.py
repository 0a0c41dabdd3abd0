"""The Python API's inputs as one dataset: video files, frame folders and in-memory frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Union

import numpy as np
import torch

from sign2gpt.data import DataConfig, Sample, VideoDataset
from sign2gpt.data.frames import resize_frames
from sign2gpt.data.records import VideoRecord
from sign2gpt.data.sources import count_frames
from sign2gpt.errors import DataError

# A video file or frame folder (str or Path), or uint8 frames (T, H, W, 3).
VideoInput = Union[str, Path, np.ndarray, torch.Tensor]  # noqa: UP007 (a runtime alias)


class InputVideos(VideoDataset):
    """Videos given by path or as frames; video `i` has id `str(i)` (paths may share names).

    Frames in memory go through the same frame selection and resize as decoded ones, so a
    video and its decoded frames translate the same.
    """

    def __init__(self, cfg: DataConfig, inputs: Sequence[VideoInput]):
        records, counts, self.arrays = [], [], {}
        for index, item in enumerate(inputs):
            if isinstance(item, (str, Path)):
                source = Path(item)
                record = VideoRecord(str(index), source, "", "", "", str(source))
                counts.append(count_frames(record, min_frames=cfg.min_frames))
            else:
                frames = checked_frames(item, index, cfg.min_frames)
                record = VideoRecord(str(index), Path(f"<frames {index}>"), "", "", "", "")
                self.arrays[index] = frames
                counts.append(len(frames))
            records.append(record)
        super().__init__(cfg, records, counts, augment=False)

    def __getitem__(self, index: int) -> Sample | None:
        if index not in self.arrays:
            return super().__getitem__(index)
        frames = self.arrays[index]
        # The selection of a decoded video at evaluation: no shift, no trim, the same seeded
        # random subset of a long clip under `data.long_clip_sampling: random`.
        random_subset = self._generator(index) if self.cfg.long_clip_sampling == "random" else None
        picked = frames[self._select(
            self.records[index], len(frames), shift=0, end_trim=0, generator=random_subset
        )]  # fmt: skip
        return Sample(str(index), resize_frames(picked, self.cfg.resize), "", "", "")


def checked_frames(item: object, index: int, min_frames: int) -> np.ndarray:
    """`item` as uint8 (T, H, W, 3) frames, or a DataError saying what is wrong with it."""
    where = f"input {index}"
    if isinstance(item, torch.Tensor):
        item = item.cpu().numpy()
    if not isinstance(item, np.ndarray):
        raise DataError(where, f"expected a path or uint8 frames, got {type(item).__name__}")
    if item.dtype != np.uint8 or item.ndim != 4 or item.shape[-1] != 3:
        raise DataError(
            where, f"frames must be uint8 (T, H, W, 3), got {item.dtype} {tuple(item.shape)}"
        )
    if len(item) < min_frames:
        raise DataError(where, f"{len(item)} frame(s); at least {min_frames} are needed")
    return item
