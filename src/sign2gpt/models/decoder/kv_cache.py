"""Key/value cache for incremental decoding: one (keys, values) pair per layer."""

from __future__ import annotations

import torch


class KVCache:
    """Grows each layer's keys/values (N, H, L, head_dim) by the new positions of every step."""

    def __init__(self, num_layers: int):
        self.layers: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * num_layers

    @property
    def length(self) -> int:
        """Number of cached positions."""
        first = self.layers[0]
        return 0 if first is None else first[0].size(-2)

    def update(
        self, layer: int, keys: torch.Tensor, values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Append this step's keys/values for `layer`; return all of them."""
        cached = self.layers[layer]
        if cached is not None:
            keys = torch.cat((cached[0], keys), dim=-2)
            values = torch.cat((cached[1], values), dim=-2)
        self.layers[layer] = (keys, values)
        return keys, values

    def reorder(self, index: torch.Tensor) -> None:
        """Keep rows `index` of every layer (beam search picks which hypotheses survive)."""
        self.layers = [
            None if kv is None else (kv[0].index_select(0, index), kv[1].index_select(0, index))
            for kv in self.layers
        ]
