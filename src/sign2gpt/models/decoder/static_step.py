"""Generation steps with fixed shapes, replayed as CUDA graphs on a GPU.

Why: one decoding step of XGLM-1.7B launches about 500 small kernels. On a GPU, launching
them takes longer than running them (about 15 ms per step on an H200 for 32 sentences x 4
beams, for `transformers` and for our eager step alike; 8 ms replayed as a graph,
`bench/decoder.py`), so the search is bound by the host, not the chip.
With every shape fixed (rows padded to the starting batch; keys/values in a buffer of the
final length, hidden beyond the current position by a mask) the step is recorded once per
`generate` call as a CUDA graph and then replayed with one launch per token.

The same fixed-shape code runs eagerly on CPU (no graphs there), which is how tests check it
against the growing-cache path.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from sign2gpt.models.decoder.generation import source_videos
from sign2gpt.models.decoder.sign_attention import SignMemory

# forward(tokens (N, 1), positions (1,), mask (1, 1, 1, capacity), memory, cache) -> logits
ForwardTokens = Callable[..., torch.Tensor]


class StaticKVCache:
    """Per-layer keys/values (N, H, capacity, head_dim), written in place at `position`.

    Same `update` interface as `KVCache`, but it returns the whole buffer: attention reads
    all `capacity` positions, and the caller's mask hides those not written yet. Buffers
    start at zero so hidden positions never hold NaN (0 x NaN would leak through softmax).
    They are allocated up front, not at the first step: a layer under `torch.compile` would
    otherwise guard on "not allocated yet" and recompile at the second step, which is the
    CUDA-graph capture, where compiling fails.

    Args:
        num_layers: decoder layers.
        rows: N.
        capacity: positions to hold.
        position: (1,) long tensor on the device, the slot each step writes.
        like: a tensor (., H, ., head_dim) with the keys' head layout, dtype and device (the
            sign memory's keys: they come from the same k projection as the self-attention
            keys, under the same autocast).
    """

    def __init__(
        self,
        num_layers: int,
        rows: int,
        capacity: int,
        position: torch.Tensor,
        like: torch.Tensor,
    ):
        self.position = position
        shape = (rows, like.size(1), capacity, like.size(3))
        self.keys = [like.new_zeros(shape) for _ in range(num_layers)]
        self.values = [like.new_zeros(shape) for _ in range(num_layers)]

    def update(
        self, layer: int, keys: torch.Tensor, values: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write this step's keys/values (N, H, 1, head_dim); return (N, H, capacity, hd)."""
        self.keys[layer].index_copy_(2, self.position, keys)
        self.values[layer].index_copy_(2, self.position, values)
        return self.keys[layer], self.values[layer]

    def reorder(self, index: torch.Tensor) -> None:
        """Row i continues row `index[i]` (in place; `index` has all N rows)."""
        for buffer in (*self.keys, *self.values):
            buffer.copy_(buffer.index_select(0, index))


class Graphed:
    """Run `fn` eagerly once, then (on CUDA) record it and replay the recording after.

    The first call is the warm-up PyTorch asks for before capture (on a side stream), and
    it counts: its effects are real. Recording runs nothing, and tensors that `fn` creates
    during it are the graph's own, filled only by a replay; `replay_after_capture` replays
    once at once, for an `fn` whose new outputs the caller reads (it must then be safe to
    run twice). `fn` must touch only tensors that live as long as this object.
    """

    def __init__(
        self,
        fn: Callable[[], None],
        device: torch.device,
        use_graph: bool,
        replay_after_capture: bool = False,
    ):
        self.fn = fn
        self.device = device
        self.use_graph = use_graph and device.type == "cuda"
        self.replay_after_capture = replay_after_capture
        self.graph: torch.cuda.CUDAGraph | None = None
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if not self.use_graph:
            self.fn()
        elif self.graph is not None:
            self.graph.replay()
        else:
            # On `self.device`, even when another GPU is current (`--device cuda:1`).
            with torch.cuda.device(self.device):
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    self.fn()
                    torch.cuda.synchronize()
                    # capture_begin/end rather than `torch.cuda.graph`, which also runs
                    # gc.collect() and empty_cache(): a fixed cost on every `generate` call.
                    self.graph = torch.cuda.CUDAGraph()
                    self.graph.capture_begin()
                    try:
                        self.fn()
                    finally:
                        self.graph.capture_end()
                torch.cuda.current_stream().wait_stream(side)
            if self.replay_after_capture:
                self.graph.replay()


class StaticStep:
    """`step` / `reorder` callables for `generation.greedy_search` and `beam_search`.

    Rows stay at the starting count N = videos x group (group = beams per video). When the
    search drops finished rows, the survivors move to the front and the rest are padding:
    computed, never read.

    Args:
        forward_tokens: the decoder family's `forward_tokens`.
        memory: every layer's sign keys/values for the B videos (reordered in place).
        rows: N, the starting number of rows (B x group).
        group: rows per video (the beam count; 1 for greedy search).
        capacity: positions to hold (1 + max_new_tokens).
        num_layers: decoder layers.
        use_graph: record and replay CUDA graphs (ignored off CUDA).
    """

    def __init__(
        self,
        forward_tokens: ForwardTokens,
        memory: list[SignMemory],
        rows: int,
        group: int,
        capacity: int,
        num_layers: int,
        use_graph: bool = True,
    ):
        device = memory[0].keys.device
        self.forward_tokens = forward_tokens
        # Reordered in place below; the mask may be a view of the caller's, so copy it.
        self.memory = [SignMemory(m.keys, m.values, m.mask.clone()) for m in memory]
        self.group = group
        self.alive_rows = rows
        self.tokens = torch.zeros(rows, 1, dtype=torch.long, device=device)
        self.position = torch.zeros(1, dtype=torch.long, device=device)
        self.key_positions = torch.arange(capacity, device=device)
        self.index = torch.zeros(rows, dtype=torch.long, device=device)
        self.cache = StaticKVCache(num_layers, rows, capacity, self.position, memory[0].keys)
        self.log_probs: torch.Tensor | None = None
        # A step may run twice (see `Graphed`): it rewrites the same cache slot identically.
        self._step = Graphed(self._forward, device, use_graph, replay_after_capture=True)
        self._reorder = Graphed(lambda: self.cache.reorder(self.index), device, use_graph)

    def _forward(self) -> None:
        mask = (self.key_positions <= self.position)[None, None, None, :]
        logits = self.forward_tokens(self.tokens, self.position, mask, self.memory, self.cache)
        self.log_probs = logits[:, -1].float().log_softmax(dim=-1)

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Advance the first len(tokens) rows by one token; their log-probabilities (n, V)."""
        if self._step.calls:
            self.position.add_(1)
        count = tokens.size(0)
        self.tokens[:count].copy_(tokens)
        self._step()
        return self.log_probs[:count]

    def reorder(self, index: torch.Tensor) -> None:
        """Row i continues row `index[i]`; rows past len(index) become padding."""
        count = index.numel()
        self.index.zero_()
        self.index[:count].copy_(index)
        if count != self.alive_rows:  # videos finished: move their sign memory along
            videos = torch.zeros_like(self.memory[0].mask[:, 0, 0, 0], dtype=torch.long)
            survivors = source_videos(index, self.group)
            videos[: survivors.numel()] = survivors
            for layer in self.memory:
                for tensor in (layer.keys, layer.values, layer.mask):
                    tensor.copy_(tensor.index_select(0, videos))
            self.alive_rows = count
        self._reorder()
