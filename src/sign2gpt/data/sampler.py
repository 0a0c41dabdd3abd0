"""Length-grouped batches: clips of similar length share a batch, so little is padding.

Each epoch: shuffle all indices (seeded by seed + epoch), cut them into mega-batches of
`group_batches * batch_size * world_size` samples, sort each mega-batch by length, cut it into
batches, and shuffle the batch order. Every rank computes the same list and takes every
`world_size`-th batch; the list is padded by repeating batches so all ranks get the same
number (DDP collectives would hang otherwise). Without shuffling (evaluation) batches are
formed from the length-sorted order and not repeated unless world_size > 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """Batches of indices grouped by length.

    Args:
        lengths: length of every sample (e.g. `VideoDataset.lengths`).
        batch_size: samples per batch on each rank.
        shuffle: random order each epoch (training); False: deterministic sorted order.
        seed: base seed; the order of epoch e depends only on (seed, e).
        rank, world_size: this process's place in distributed training.
        group_batches: batches per mega-batch (more = less padding, less randomness).
        drop_last: drop the last incomplete batch of each mega-batch when shuffling.
    """

    def __init__(
        self, lengths: Sequence[int], batch_size: int, *, shuffle: bool = True, seed: int = 0,
        rank: int = 0, world_size: int = 1, group_batches: int = 50, drop_last: bool = False,
    ):
        if batch_size < 1 or world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"bad batch_size={batch_size}, rank={rank}, world_size={world_size}")
        self.lengths = torch.as_tensor(list(lengths), dtype=torch.long)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.group_batches = group_batches
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Call at the start of every epoch for a new (reproducible) order."""
        self.epoch = epoch

    def _all_batches(self) -> list[list[int]]:
        n = len(self.lengths)
        if not self.shuffle:
            order = torch.argsort(self.lengths, descending=True, stable=True)
            return [order[i : i + self.batch_size].tolist() for i in range(0, n, self.batch_size)]
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(n, generator=generator)
        group = self.group_batches * self.batch_size * self.world_size
        batches: list[list[int]] = []
        for start in range(0, n, group):
            chunk = order[start : start + group]
            chunk = chunk[torch.argsort(self.lengths[chunk], descending=True, stable=True)]
            for i in range(0, len(chunk), self.batch_size):
                batch = chunk[i : i + self.batch_size].tolist()
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch)
        permutation = torch.randperm(len(batches), generator=generator).tolist()
        return [batches[i] for i in permutation]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._all_batches()
        if self.world_size > 1 and batches:
            padding = (-len(batches)) % self.world_size
            batches = batches + [batches[i % len(batches)] for i in range(padding)]
        yield from batches[self.rank :: self.world_size]

    def __len__(self) -> int:
        total = len(self._all_batches())
        return -(-total // self.world_size)
