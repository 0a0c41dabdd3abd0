"""DataLoaders for training (resumable epochs) and evaluation (fixed order)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader

from sign2gpt.data import LengthGroupedBatchSampler, VideoBatch, VideoDataset, collate_samples
from sign2gpt.train.stop_signals import ignore_stop_signals


@dataclass
class EpochData:
    """Training batches: `loader(epoch, start)` yields the epoch's batches from `start` on."""

    steps_per_epoch: int
    loader: Callable[[int, int], Iterable[Any]]


def training_epochs(
    dataset: VideoDataset,
    seed: int,
    rank: int = 0,
    world_size: int = 1,
    collate: Callable = collate_samples,
) -> EpochData:
    """Batches of each epoch, reproducible from (seed, epoch), startable at any batch."""
    cfg = dataset.cfg
    sampler = LengthGroupedBatchSampler(
        dataset.lengths,
        cfg.batch_size,
        shuffle=True,
        seed=seed,
        rank=rank,
        world_size=world_size,
        group_batches=cfg.group_batches if cfg.length_grouping else 1,
    )

    def batches(epoch: int, start: int) -> Iterator[VideoBatch]:
        sampler.set_epoch(epoch)
        dataset.set_epoch(epoch, seed)
        loader = DataLoader(
            dataset,
            batch_sampler=list(sampler)[start:],
            collate_fn=collate,
            num_workers=cfg.num_workers,
            pin_memory=torch.cuda.is_available(),
            # Own generator: building a loader must not draw from the global RNG (resume).
            generator=torch.Generator().manual_seed(seed + epoch),
            worker_init_fn=ignore_stop_signals if cfg.num_workers > 0 else None,
        )
        yield from (batch for batch in loader if batch is not None)

    return EpochData(steps_per_epoch=len(sampler), loader=batches)


class EvaluationBatches:
    """Re-iterable fixed-order batches of a split (length-sorted, so little padding)."""

    def __init__(
        self,
        dataset: VideoDataset,
        batch_size: int | None = None,
        collate: Callable = collate_samples,
    ):
        cfg = dataset.cfg
        sampler = LengthGroupedBatchSampler(
            dataset.lengths, batch_size or cfg.batch_size, shuffle=False
        )
        self.loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=collate,
            num_workers=cfg.num_workers,
            persistent_workers=cfg.num_workers > 0,
        )

    def __iter__(self) -> Iterator[VideoBatch]:
        # None: every video of a batch was bad and skipped (already reported by the dataset).
        return (batch for batch in self.loader if batch is not None)

    def __len__(self) -> int:
        return len(self.loader)
