"""LengthGroupedBatchSampler: complete, reproducible, grouped by length, DDP-aware."""

from __future__ import annotations

import pytest
import torch

from sign2gpt.data import LengthGroupedBatchSampler

LENGTHS = torch.randint(5, 200, (103,), generator=torch.Generator().manual_seed(0)).tolist()


def padding_fraction(batches: list[list[int]]) -> float:
    padded = sum(len(b) * max(LENGTHS[i] for i in b) for b in batches)
    return 1 - sum(LENGTHS) / padded


def test_each_epoch_covers_every_index_once_and_depends_only_on_seed_and_epoch():
    sampler = LengthGroupedBatchSampler(LENGTHS, 8, seed=5, group_batches=4)
    epoch0 = list(sampler)
    assert sorted(i for b in epoch0 for i in b) == list(range(len(LENGTHS)))
    assert len(epoch0) == len(sampler) == 13
    assert list(LengthGroupedBatchSampler(LENGTHS, 8, seed=5, group_batches=4)) == epoch0
    sampler.set_epoch(1)
    assert list(sampler) != epoch0


def test_grouping_by_length_cuts_padding():
    grouped = list(LengthGroupedBatchSampler(LENGTHS, 8, seed=1, group_batches=50))
    ungrouped = list(LengthGroupedBatchSampler(LENGTHS, 8, seed=1, group_batches=1))
    assert padding_fraction(grouped) < 0.1 < padding_fraction(ungrouped)


@pytest.mark.parametrize("shuffle", [True, False])
def test_ranks_get_disjoint_batches_of_equal_count(shuffle):
    world = 3
    per_rank = [
        list(LengthGroupedBatchSampler(LENGTHS, 4, shuffle=shuffle, seed=2, rank=r,
                                       world_size=world))
        for r in range(world)
    ]
    assert len({len(batches) for batches in per_rank}) == 1
    assert len(per_rank[0]) == len(LengthGroupedBatchSampler(LENGTHS, 4, world_size=world))
    seen = [i for batches in per_rank for b in batches for i in b]
    assert set(seen) == set(range(len(LENGTHS)))  # 26 batches + 1 repeated to make 27


def test_eval_order_is_sorted_by_length_and_fixed():
    batches = list(LengthGroupedBatchSampler(LENGTHS, 10, shuffle=False))
    flat = [LENGTHS[i] for b in batches for i in b]
    assert flat == sorted(LENGTHS, reverse=True)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="rank=2, world_size=2"):
        LengthGroupedBatchSampler(LENGTHS, 4, rank=2, world_size=2)
