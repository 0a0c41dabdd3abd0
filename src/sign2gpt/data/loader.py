"""A DataLoader over a `VideoDataset`: length-grouped batches, workers, padding collate."""

from __future__ import annotations

from torch.utils.data import DataLoader

from sign2gpt.data.batch import collate_samples
from sign2gpt.data.dataset import VideoDataset
from sign2gpt.data.sampler import LengthGroupedBatchSampler


def build_dataloader(
    dataset: VideoDataset, *, train: bool, seed: int = 0, rank: int = 0, world_size: int = 1,
    pin_memory: bool = False,
) -> DataLoader:
    """DataLoader yielding `VideoBatch`es (None only for an all-bad batch under skip_bad).

    Call `loader.batch_sampler.set_epoch(epoch)` at the start of every training epoch.

    Args:
        dataset: from `build_dataset`.
        train: shuffled batches (True) or a fixed length-sorted order (False).
        seed: base seed of the batch order.
        rank, world_size: distributed position (each rank gets its own batches).
        pin_memory: pin batches for faster copies to the GPU.
    """
    cfg = dataset.cfg
    sampler = LengthGroupedBatchSampler(
        dataset.lengths, cfg.batch_size, shuffle=train, seed=seed, rank=rank,
        world_size=world_size, group_batches=cfg.group_batches if cfg.length_grouping else 1,
    )
    return DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate_samples, num_workers=cfg.num_workers,
        pin_memory=pin_memory, persistent_workers=cfg.num_workers > 0,
    )
