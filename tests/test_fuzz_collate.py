"""Property-based test of batch collation: arbitrary clip lengths and skipped (None) samples."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sign2gpt.data import Sample, collate_samples

# Per sample: its length, or None for a sample a skip_bad dataset could not decode.
samples_spec = st.lists(st.one_of(st.none(), st.integers(1, 12)), min_size=1, max_size=6)


def make_sample(index: int, length: int) -> Sample:
    # Frame values 1..255 (never 0) so that padding is distinguishable from content.
    generator = torch.Generator().manual_seed(index * 100 + length)
    frames = torch.randint(1, 256, (length, 2, 3, 3), generator=generator, dtype=torch.uint8)
    return Sample(id=f"v{index}", frames=frames, text=f"text {index}", signer="s", split="train")


@settings(max_examples=80, deadline=None)
@given(spec=samples_spec)
def test_collate_any_lengths(spec):
    samples = [None if n is None else make_sample(i, n) for i, n in enumerate(spec)]
    batch = collate_samples(samples)
    kept = [s for s in samples if s is not None]
    if not kept:
        assert batch is None
        return
    lengths = [len(s.frames) for s in kept]
    assert batch.ids == [s.id for s in kept] and batch.texts == [s.text for s in kept]
    assert batch.frames.dtype == torch.uint8 and batch.mask.dtype == torch.bool
    assert batch.frames.shape == (len(kept), max(lengths), 2, 3, 3)
    assert batch.lengths.tolist() == lengths
    assert batch.mask.sum(1).tolist() == lengths
    for row, sample in enumerate(kept):
        n = len(sample.frames)
        assert batch.mask[row, :n].all() and not batch.mask[row, n:].any()
        assert torch.equal(batch.frames[row, :n], sample.frames)
        assert batch.frames[row, n:].eq(0).all()  # zero padding
