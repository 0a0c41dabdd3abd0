"""Key/value cache for incremental decoding: one preallocated buffer pair per layer."""

from __future__ import annotations

import torch


class KVCache:
    """Each layer's keys/values, stored time-major (capacity, N, H, head_dim).

    Why time-major: a step writes one time slice in place (no `torch.cat` of the whole
    history), and a beam reorder copies only the filled prefix `[:length]` with one
    `index_select`. Attention gets (N, H, length, head_dim) views of the buffers.

    Args:
        num_layers: layers of the decoder.
        capacity: positions to allocate up front (e.g. 1 + max_new_tokens); the buffers
            double when a step goes past it.
    """

    def __init__(self, num_layers: int, capacity: int = 0):
        self.capacity = capacity
        self.keys: list[torch.Tensor | None] = [None] * num_layers
        self.values: list[torch.Tensor | None] = [None] * num_layers
        self.lengths = [0] * num_layers

    @property
    def length(self) -> int:
        """Number of cached positions."""
        return self.lengths[0]

    def update(
        self, layer: int, keys: torch.Tensor, values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Append this step's keys/values (N, H, L, head_dim) for `layer`; return all of them."""
        start = self.lengths[layer]
        end = start + keys.size(-2)
        if self.keys[layer] is None or end > self.keys[layer].size(0):
            self.capacity = max(end, self.capacity, 2 * start)
            self.keys[layer] = self._grown(self.keys[layer], keys, start)
            self.values[layer] = self._grown(self.values[layer], values, start)
        self.keys[layer][start:end] = keys.permute(2, 0, 1, 3)
        self.values[layer][start:end] = values.permute(2, 0, 1, 3)
        self.lengths[layer] = end
        return (
            self.keys[layer][:end].permute(1, 2, 0, 3),  # (N, H, end, head_dim)
            self.values[layer][:end].permute(1, 2, 0, 3),
        )

    def _grown(self, old: torch.Tensor | None, like: torch.Tensor, filled: int) -> torch.Tensor:
        batch, heads, _, head_dim = like.shape
        buffer = like.new_empty(self.capacity, batch, heads, head_dim)
        if old is not None:
            buffer[:filled] = old[:filled]
        return buffer

    def reorder(self, index: torch.Tensor) -> None:
        """Keep rows `index` of every layer (beam search picks which hypotheses survive)."""
        for store in (self.keys, self.values):
            for layer, buffer in enumerate(store):
                if buffer is None:
                    continue
                filled = self.lengths[layer]
                new = buffer.new_empty(buffer.size(0), index.numel(), *buffer.shape[2:])
                torch.index_select(buffer[:filled], 1, index, out=new[:filled])
                store[layer] = new
