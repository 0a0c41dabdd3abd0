"""`VideoDataset`: records of one split -> decoded `Sample`s; `build_dataset` makes one.

Decoding happens in `__getitem__`, i.e. in DataLoader workers. Frames are resized to
`resize x resize` there (so every sample of a batch has the same size and GPU transfers are
small); cropping, colour and the other augmentations run later on whole batches
(`VideoTransform`). The random temporal shifts (start, end) and the random subset of a long
clip (`data.long_clip_sampling: random`) are drawn here, where frames are picked, from a
generator seeded by (seed, epoch, index) in training and by the index alone in evaluation.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from sign2gpt.data.batch import Sample
from sign2gpt.data.cache import FrameCache
from sign2gpt.data.config import DataConfig
from sign2gpt.data.frames import num_kept_frames, resize_frames, select_frame_indices
from sign2gpt.data.readers import read_split
from sign2gpt.data.records import Problem, VideoRecord
from sign2gpt.data.sources import count_frames, read_selected_frames
from sign2gpt.errors import DataError

log = logging.getLogger(__name__)


class VideoDataset(Dataset):
    """Decoded videos of one split.

    Args:
        cfg: data config (stride, caps, sizes, temporal shift).
        records: the split's usable rows.
        frame_counts: frames of each record's source (before the stride).
        augment: apply the random temporal shift (training).
        skip_bad: a video that fails to decode is logged and returned as None (dropped by
            `collate_samples`) instead of raising.
        cache: decoded-frame cache of the split, if any.
    """

    def __init__(
        self, cfg: DataConfig, records: list[VideoRecord], frame_counts: list[int], *,
        augment: bool, skip_bad: bool = False, cache: FrameCache | None = None,
    ):
        self.cfg = cfg
        self.records = records
        self.frame_counts = frame_counts
        self.augment = augment
        self.skip_bad = skip_bad
        self.cache = cache
        self._warned_long: set[str] = set()
        self.seed = 0
        self.epoch = 0

    def set_epoch(self, epoch: int, seed: int = 0) -> None:
        """Fix the random temporal shifts of an epoch: they depend on (seed, epoch, index) only.

        So a run resumed mid-epoch, or one with another number of workers, picks the same
        frames as an uninterrupted one.
        """
        self.seed, self.epoch = seed, epoch

    def __len__(self) -> int:
        return len(self.records)

    @property
    def lengths(self) -> list[int]:
        """Frames per sample after the stride and the cap (for length grouping)."""
        cfg = self.cfg
        return [num_kept_frames(n, cfg.frame_stride, cfg.max_frames) for n in self.frame_counts]

    def __getitem__(self, index: int) -> Sample | None:
        record = self.records[index]
        cfg = self.cfg
        generator = self._generator(index)
        shift, end_trim = self._shifts(generator) if self.augment else (0, 0)
        random_subset = generator if self.cfg.long_clip_sampling == "random" else None
        select = partial(
            self._select, record, shift=shift, end_trim=end_trim, generator=random_subset
        )
        try:
            if self.cache is not None and record.id in self.cache:
                frames = torch.from_numpy(
                    self.cache.read(record.id, select(self.cache.num_frames(record.id)))
                )
            else:
                frames = read_selected_frames(record.source, select, record.confine)
                # Keypoints (T, J, 3) float32 are not images: no resize.
                frames = resize_frames(frames, cfg.resize) if frames.dtype == np.uint8 else (
                    torch.from_numpy(frames))
        except DataError as exc:
            if not self.skip_bad:
                raise
            log.warning("skipping bad video %s (%s): %s", record.id, record.where, exc)
            return None
        return Sample(
            id=record.id, frames=frames, text=record.text, signer=record.signer,
            split=record.split,
        )

    def _generator(self, index: int) -> torch.Generator:
        """The sample's random source: (seed, epoch, index) in training, the index alone
        (one fixed draw) in evaluation."""
        epoch = self.epoch if self.augment else -1
        key = (self.seed * 1_000_003 + epoch) * 10_000_019 + index
        return torch.Generator().manual_seed(key % (2**63))

    def _shifts(self, generator: torch.Generator) -> tuple[int, int]:
        """Training's random first frame and frames trimmed off the end (no draw for an end
        shift of 0, so older configs pick the frames they always picked)."""
        shift = int(torch.randint(0, self.cfg.temporal_shift + 1, (), generator=generator))
        if self.cfg.end_shift == 0:
            return shift, 0
        return shift, int(torch.randint(0, self.cfg.end_shift + 1, (), generator=generator))

    def _select(
        self, record: VideoRecord, num_frames: int, *, shift: int, end_trim: int,
        generator: torch.Generator | None,
    ) -> np.ndarray:
        cfg = self.cfg
        kept = -(-num_frames // cfg.frame_stride)
        if kept > cfg.max_frames and record.id not in self._warned_long:
            self._warned_long.add(record.id)
            log.warning(
                "%s has %d frames after stride %d; sampled down %s to %d (data.max_frames)",
                record.id, kept, cfg.frame_stride,
                "uniformly" if cfg.long_clip_sampling == "even" else "at random", cfg.max_frames,
            )
        return select_frame_indices(
            num_frames, cfg.frame_stride, cfg.max_frames, shift, end_trim, generator
        )


def build_dataset(
    cfg: DataConfig, split: str, *, skip_bad: bool = False, augment: bool | None = None,
    progress: bool = True,
) -> VideoDataset:
    """Read `split`, check every row's source, and return its dataset.

    Args:
        cfg: data config.
        split: split name (e.g. cfg.train_split).
        skip_bad: leave out bad rows, logging each one; by default a bad row is an error.
        augment: random temporal shift; default: only for the training split.
        progress: progress bar while indexing large splits.

    Raises:
        DataError: a bad row (without skip_bad), or no usable row at all.
    """
    from tqdm import tqdm

    table = read_split(cfg, split)
    cache = None
    if cfg.cache_dir and cfg.use_cache:
        cache = FrameCache.open(cfg, split, table.records)
    problems = list(table.problems)
    records: list[VideoRecord] = []
    counts: list[int] = []
    show = progress and len(table.records) >= 1000
    for record in tqdm(table.records, desc=f"indexing {split}", disable=not show, unit="video"):
        try:
            if cache is not None and record.id in cache:
                count = cache.num_frames(record.id)
            else:
                count = count_frames(record, min_frames=cfg.min_frames)
        except DataError as exc:
            problems.append(Problem(record.where, str(exc), record.id))
            continue
        records.append(record)
        counts.append(count)
    if problems and not skip_bad:
        raise DataError(
            problems[0].where,
            f"{len(problems)} bad row(s) in split {split!r}, the first: {problems[0].reason}. "
            "`sign2gpt data check` lists them all; --skip-bad leaves them out",
        )
    for problem in problems:
        log.warning("skipping bad row %s", problem)
    if not records:
        raise DataError(Path(cfg.root), f"split {split!r} has no usable rows")
    if augment is None:
        augment = split == cfg.train_split
    return VideoDataset(cfg, records, counts, augment=augment, skip_bad=skip_bad, cache=cache)
