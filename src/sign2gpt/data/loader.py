"""The one DataLoader builder over a `VideoDataset`: length-grouped batches, workers,
padding collate. Training epochs (`sign2gpt.train.loaders`) and evaluation passes
(`EvaluationBatches`) both build their loaders here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch.utils.data import DataLoader

from sign2gpt.data.batch import VideoBatch, collate_samples
from sign2gpt.data.dataset import VideoDataset
from sign2gpt.data.sampler import LengthGroupedBatchSampler


def length_grouped_sampler(
    dataset: VideoDataset, *, train: bool, seed: int = 0, rank: int = 0, world_size: int = 1,
    batch_size: int | None = None,
) -> LengthGroupedBatchSampler:
    """Shuffled length-grouped batches (train) or a fixed length-sorted order (not train)."""
    cfg = dataset.cfg
    return LengthGroupedBatchSampler(
        dataset.lengths, batch_size or cfg.batch_size, shuffle=train, seed=seed, rank=rank,
        world_size=world_size, group_batches=cfg.group_batches if cfg.length_grouping else 1,
    )


def build_dataloader(
    dataset: VideoDataset, *, train: bool = False, seed: int = 0, rank: int = 0,
    world_size: int = 1, pin_memory: bool = False, batch_size: int | None = None,
    collate: Callable = collate_samples, batches: Sequence[list[int]] | None = None,
    generator: torch.Generator | None = None, worker_init_fn: Callable | None = None,
) -> DataLoader:
    """DataLoader yielding `VideoBatch`es (None only for an all-bad batch under skip_bad).

    Call `loader.batch_sampler.set_epoch(epoch)` at the start of every training epoch.

    Args:
        dataset: from `build_dataset`.
        train: shuffled batches (True) or a fixed length-sorted order (False).
        seed: base seed of the batch order.
        rank, world_size: distributed position (each rank gets its own batches).
        pin_memory: pin batches for faster copies to the GPU.
        batch_size: videos per batch (default: the data config's).
        collate: samples -> batch (e.g. extracted features' own collate).
        batches: these index batches, once, instead of a sampler (a resumed epoch's rest).
        generator: the loader's own RNG, so building one draws nothing from the global RNG.
        worker_init_fn: run in each worker process as it starts (training: ignore stop signals).
    """
    sampler = batches
    if sampler is None:
        sampler = length_grouped_sampler(
            dataset, train=train, seed=seed, rank=rank, world_size=world_size,
            batch_size=batch_size,
        )
    return DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate, num_workers=dataset.cfg.num_workers,
        pin_memory=pin_memory, generator=generator, worker_init_fn=worker_init_fn,
        # A one-pass loader over given batches gains nothing from keeping its workers.
        persistent_workers=dataset.cfg.num_workers > 0 and batches is None,
    )


class EvaluationBatches:
    """Re-iterable fixed-order batches of a split (length-sorted, so little padding)."""

    def __init__(
        self,
        dataset: VideoDataset,
        batch_size: int | None = None,
        collate: Callable = collate_samples,
    ):
        self.loader = build_dataloader(dataset, batch_size=batch_size, collate=collate)

    def __iter__(self) -> Iterator[VideoBatch]:
        # None: every video of a batch was bad and skipped (already reported by the dataset).
        return (batch for batch in self.loader if batch is not None)

    def __len__(self) -> int:
        return len(self.loader)
