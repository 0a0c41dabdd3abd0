"""The interface every sign-conditioned LM family implements, and what they all share.

A family file (e.g. `xglm.py`) subclasses `SignDecoder`, registers it with
`@register_family("name")` and supplies `forward_tokens` (the LM's layers, using
`SignCrossAttention` inside self-attention), `sign_memory` (per-layer sign keys/values),
`load_pretrained` (its checkpoint layout) and `block_types` (its repeated layer class: the
unit of activation checkpointing and `torch.compile`). This base adds the sign projection,
masks, the training forward and generation.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.models.adapters import is_adapter_name
from sign2gpt.models.config import DecoderConfig
from sign2gpt.models.decoder.generation import beam_search, greedy_search, source_videos
from sign2gpt.models.decoder.kv_cache import KVCache
from sign2gpt.models.decoder.sign_attention import SignMemory
from sign2gpt.models.decoder.static_step import StaticKVCache, StaticStep
from sign2gpt.models.layers.fixed_linear import FixedLinear, packing_fits
from sign2gpt.models.layers.sinusoidal import sinusoidal_encoding

# family name (`decoder.family` in configs) -> class; filled by `register_family`.
DECODER_FAMILIES: dict[str, type[SignDecoder]] = {}


def register_family(name: str) -> Callable[[type[SignDecoder]], type[SignDecoder]]:
    """Class decorator: make a `SignDecoder` subclass buildable as `decoder.family: name`."""

    def register(cls: type[SignDecoder]) -> type[SignDecoder]:
        # Checked here: a family without its blocks would train without checkpointing or
        # compilation and nobody would notice.
        if not cls.block_types:
            raise TypeError(f"decoder family {name!r}: {cls.__name__} declares no block_types")
        DECODER_FAMILIES[name] = cls
        return cls

    return register


class SignProjection(nn.Module):
    """Position encoding (optional) on the sign features, then Linear(sign -> d).

    The encoding is the fixed sinusoidal one (`sign_pe_kind: sinusoidal`) or a learned
    (sign_pe_max_len, sign_dim) table, `position`, started at zero or at N(0, 0.02).
    """

    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.add_position = cfg.sign_pe
        self.linear = nn.Linear(cfg.sign_dim, cfg.d_model)
        self.position: nn.Parameter | None = None
        if cfg.sign_pe and cfg.sign_pe_kind != "sinusoidal":
            table = torch.zeros(cfg.sign_pe_max_len, cfg.sign_dim)
            if cfg.sign_pe_kind == "learned_random":
                nn.init.normal_(table, std=0.02)
            self.position = nn.Parameter(table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, S, sign_dim) -> (B, S, d_model)."""
        if self.position is not None:
            if x.size(1) > self.position.size(0):
                raise ValueError(
                    f"{x.size(1)} sign steps, but decoder.sign_pe_max_len is "
                    f"{self.position.size(0)} (raise it)"
                )
            x = x + self.position[: x.size(1)].to(x.dtype)
        elif self.add_position:
            positions = torch.arange(x.size(1), device=x.device)
            x = x + sinusoidal_encoding(positions, x.size(-1)).to(x.dtype)
        return self.linear(x)


def self_attention_mask(
    attention_mask: torch.Tensor | None, query_len: int, past_len: int, device: torch.device
) -> torch.Tensor:
    """Causal boolean mask (B or 1, 1, L, past + L), also hiding padded keys.

    The diagonal stays visible so rows of padded queries never go empty (no NaN).
    """
    total = past_len + query_len
    query_pos = torch.arange(past_len, total, device=device)[:, None]
    key_pos = torch.arange(total, device=device)[None, :]
    mask = (key_pos <= query_pos)[None, None]  # (1, 1, L, total)
    if attention_mask is not None:
        mask = mask & attention_mask[:, None, None, :].bool()
    return mask | (key_pos == query_pos)


def is_right_padded(attention_mask: torch.Tensor) -> bool:
    """True when every row is ones then zeros (B, L): causal attention alone then hides the
    padding from every real token, and the padded positions' outputs are never used."""
    mask = attention_mask.bool()
    return bool((mask[:, 1:] <= mask[:, :-1]).all())


class SignDecoder(nn.Module, ABC):
    """A frozen decoder-only LM conditioned on sign features through adapters."""

    # The family's repeated layer classes (`sign2gpt.models.performance` wraps them).
    block_types: tuple[type[nn.Module], ...] = ()

    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.cfg = cfg
        self.sign_proj = SignProjection(cfg)
        self.weights_fixed = False  # inside `fixed_weights`
        self.fixed_head: FixedLinear | None = None  # while `fix_weights` is active

    # --- what a family implements -----------------------------------------------------------

    @abstractmethod
    def forward_tokens(
        self,
        input_ids: torch.Tensor,
        positions: torch.Tensor,
        mask: torch.Tensor | None,
        memory: list[SignMemory] | None,
        cache: KVCache | StaticKVCache | None = None,
    ) -> torch.Tensor:
        """Logits (B, L, V) for tokens (B, L) at `positions` (L,).

        Args:
            input_ids: token ids.
            positions: absolute positions of these tokens.
            mask: boolean self-attention mask (B or 1, 1, L, past + L), or None: causal, no
                padding (with a cache: the new tokens see all cached ones). With a
                `StaticKVCache` it spans the cache's whole capacity.
            memory: per-layer sign keys/values, or None for the plain LM.
            cache: `KVCache` or `StaticKVCache` (same `update`) to read and extend, or None.
        """

    @abstractmethod
    def sign_memory(self, signs: torch.Tensor, sign_mask: torch.Tensor) -> list[SignMemory]:
        """Per-layer keys/values of projected sign features (B, S, d_model)."""

    @abstractmethod
    def load_pretrained(self, path: str | Path) -> None:
        """Load the frozen LM weights from a local checkpoint folder."""

    def head_weight(self) -> torch.Tensor:
        """The output projection's (V, d) weight (the token embedding when tied)."""
        raise NotImplementedError

    def hf_config(self) -> dict[str, Any]:
        """config.json of this LM as `transformers` writes it (optional: the stand-in LM
        trainer, `train/language_model.py`, saves its folders with it)."""
        raise NotImplementedError(f"decoder.family {self.cfg.family!r} writes no HF config")

    # --- shared -----------------------------------------------------------------------------

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Final hidden states (B, L, d) -> logits (B, L, V) through `head_weight`."""
        if self.fixed_head is not None:
            return self.fixed_head(hidden)
        return F.linear(hidden, self.head_weight())

    def fix_weights(self, rows: int, pack: bool) -> None:
        """Fix the output projection in the device's fastest layout (inference; the layers'
        modules fix their own, see `fixed_weights`)."""
        self.fixed_head = FixedLinear(self.head_weight(), rows=rows, pack=pack)

    def unfix_weights(self) -> None:
        self.fixed_head = None

    def is_trainable(self, name: str) -> bool:
        """Only the sign projection and the adapters (LoRA, gates) train; the LM is frozen."""
        return name.startswith("sign_proj.") or is_adapter_name(name)

    def encode_signs(
        self, sign_features: torch.Tensor, sign_mask: torch.Tensor
    ) -> list[SignMemory]:
        """Project sign features (B, S, sign_dim) and compute every layer's keys/values once."""
        return self.sign_memory(self.sign_proj(sign_features), sign_mask)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        sign_features: torch.Tensor | None = None,
        sign_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher-forced logits (B, L, V).

        Args:
            input_ids: (B, L) token ids (BOS first, right-padded).
            attention_mask: (B, L), 1 on real tokens; None = all real.
            sign_features: (B, S, sign_dim), or None to run the plain LM.
            sign_mask: (B, S), True on real sign positions; None = all real.
        """
        memory = None
        if sign_features is not None:
            if sign_mask is None:
                sign_mask = torch.ones(
                    sign_features.shape[:2], dtype=torch.bool, device=sign_features.device
                )
            memory = self.encode_signs(sign_features, sign_mask)
        length = input_ids.size(1)
        positions = torch.arange(length, device=input_ids.device)
        mask = None  # plain causal attention: right padding needs no mask for real tokens
        if attention_mask is not None and not is_right_padded(attention_mask):
            mask = self_attention_mask(attention_mask, length, 0, input_ids.device)
        return self.forward_tokens(input_ids, positions, mask, memory)

    @contextlib.contextmanager
    def fixed_weights(self, rows: int = 32) -> Iterator[None]:
        """Inference with weights that do not change inside the block: modules with
        `fix_weights(rows, pack)` fold their LoRAs into the frozen weights (fewer, larger
        matmuls per step) and keep their matmul weights in the device's fastest layout for
        `rows` rows (`FixedLinear`; `pack` is False when those copies would not fit in
        memory); they drop the copies on exit.

        An outer block (a whole evaluation loop) makes the inner ones (each `generate`) no-ops,
        so the weights are prepared once, not once per batch. Nothing may change the weights
        inside it."""
        if self.weights_fixed:
            yield
            return
        modules = [m for m in self.modules() if hasattr(m, "fix_weights")]
        pack = packing_fits(self.parameters())
        try:  # a failure part-way (out of memory) must not leave some modules fixed
            for module in modules:
                module.fix_weights(rows, pack)
            self.weights_fixed = True
            yield
        finally:
            self.weights_fixed = False
            for module in modules:
                module.unfix_weights()

    @torch.no_grad()
    def generate(
        self,
        sign_features: torch.Tensor,
        sign_mask: torch.Tensor,
        num_beams: int = 4,
        max_new_tokens: int = 64,
        length_penalty: float = 1.0,
        min_new_tokens: int = 0,
        fixed_shapes: bool | None = None,
        return_beams: bool = False,
    ) -> list[list[int]] | list[list[tuple[list[int], float]]]:
        """Translate a batch of sign features; token ids per sample without BOS/EOS.

        The sign keys/values are computed once per video and shared by its beams; each step
        runs only the new token over the key/value cache. `min_new_tokens` forbids EOS before
        that many tokens (benchmarks use it to force a fixed length).

        `fixed_shapes` (default: on for CUDA, off elsewhere) keeps every step's shapes fixed
        and replays it as a CUDA graph (`static_step`); otherwise finished videos leave the
        batch and the cache grows (fewer operations: faster on a CPU). Both give the same
        translations. `return_beams`: per sample, every finished beam, best first, as (ids,
        length-normalised sum of log-probabilities); it always runs beam search (also for
        `num_beams=1`, which then scores its one hypothesis).
        """
        cfg = self.cfg
        batch, device = sign_features.size(0), sign_features.device
        # One copy of the sign keys/values per video: the beams share it (see SignCrossAttention).
        memory = self.encode_signs(sign_features, sign_mask)
        if fixed_shapes is None:
            fixed_shapes = device.type == "cuda"
        if fixed_shapes:
            static = StaticStep(
                self.forward_tokens, memory, batch * num_beams, num_beams,
                1 + max_new_tokens, cfg.num_layers,
            )  # fmt: skip
            step, reorder = static.step, static.reorder
        else:
            step, reorder = self._growing_step(memory, num_beams, max_new_tokens)
        with self.fixed_weights(rows=batch * num_beams):
            if num_beams == 1 and not return_beams:
                return greedy_search(
                    step, reorder, batch, cfg.bos_id, cfg.eos_id, max_new_tokens, device,
                    min_new_tokens,
                )  # fmt: skip
            return beam_search(
                step, reorder, batch, num_beams, cfg.bos_id, cfg.eos_id, max_new_tokens,
                device, length_penalty, min_new_tokens, return_beams,
            )  # fmt: skip

    def _growing_step(
        self, memory: list[SignMemory], num_beams: int, max_new_tokens: int
    ) -> tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], None]]:
        """`step` / `reorder` over a growing key/value cache; finished videos leave the batch."""
        cache = KVCache(self.cfg.num_layers, capacity=1 + max_new_tokens)

        def step(tokens: torch.Tensor) -> torch.Tensor:
            start = cache.length
            positions = torch.arange(start, start + tokens.size(1), device=tokens.device)
            logits = self.forward_tokens(tokens, positions, None, memory, cache)
            return logits[:, -1].float().log_softmax(dim=-1)

        def reorder(index: torch.Tensor) -> None:
            nonlocal memory
            if index.numel() != memory[0].keys.size(0) * num_beams:  # finished videos left
                videos = source_videos(index, num_beams)
                memory = [layer.select(videos) for layer in memory]
            cache.reorder(index)

        return step, reorder
