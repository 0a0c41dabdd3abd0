"""Teacher-forcing targets of a causal LM: shifted inputs and labels, padding ignored."""

from __future__ import annotations

import torch

IGNORE = -100  # label of padding positions (cross_entropy's ignore_index)


def teacher_forcing_batch(
    encoded: list[list[int]], bos_id: int, eos_id: int, pad_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs `BOS w1..wn` and labels `w1..wn EOS` (IGNORE on padding), right-padded (B, L)."""
    length = max(len(ids) for ids in encoded) + 1
    inputs = torch.full((len(encoded), length), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), length), IGNORE, dtype=torch.long)
    for row, ids in enumerate(encoded):
        inputs[row, : len(ids) + 1] = torch.tensor([bos_id, *ids])
        labels[row, : len(ids) + 1] = torch.tensor([*ids, eos_id])
    return inputs, labels
