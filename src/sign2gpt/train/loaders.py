"""Training batches: resumable, reproducible epochs (evaluation: `data.EvaluationBatches`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from sign2gpt.data import VideoBatch, VideoDataset, collate_samples
from sign2gpt.data.loader import build_dataloader, length_grouped_sampler
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
    sampler = length_grouped_sampler(
        dataset, train=True, seed=seed, rank=rank, world_size=world_size
    )

    def batches(epoch: int, start: int) -> Iterator[VideoBatch]:
        sampler.set_epoch(epoch)
        dataset.set_epoch(epoch, seed)
        loader = build_dataloader(
            dataset,
            batches=list(sampler)[start:],
            collate=collate,
            pin_memory=torch.cuda.is_available(),
            # Own generator: building a loader must not draw from the global RNG (resume).
            generator=torch.Generator().manual_seed(seed + epoch),
            worker_init_fn=ignore_stop_signals,  # runs only in worker processes
        )
        yield from (batch for batch in loader if batch is not None)

    return EpochData(steps_per_epoch=len(sampler), loader=batches)
