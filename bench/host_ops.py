"""Operators the host dispatches per training step of the paper's model, counted on CPU.

Why count: on a GPU our paper-shape training step is bound by the host launching kernels
(an H200 profile: 457 ms of CPU time against 189 ms of GPU time per step), and nearly every
dispatched operator is one kernel launch there. The count does not depend on layer widths,
so this runs the `full` preset's structure (12 ViT blocks, 4 sign-encoder blocks, 24 decoder
layers, batch 8 x 128 frames, 32 target tokens) at tiny widths on CPU, under bf16 autocast
and counts the top-level operators of each part of one step with a `TorchDispatchMode`.
Rows: training's settings before 2026-11-26 (ViT chunks of 64 frames, frozen backbone kept
fp32, multi-tensor AdamW), then its settings now (frozen backbone stored in bf16, fused AdamW
as `sign2gpt.train.engine.adamw` picks on CUDA) at each chunk size.

    python bench/host_ops.py [--chunk-sizes 64 256 1024]
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from common import machine_info, markdown_table, save_results
from sign2gpt.models.config import ModelConfig, full_config
from sign2gpt.models.performance import cast_frozen_weights
from sign2gpt.models.sign2gpt import Sign2GPT

BATCH, FRAMES, TEXT_LENGTH, IMAGE = 8, 128, 32, 28
PARTS = ("visual forward", "decoder forward", "backward", "optimizer")


class OperatorCounter(TorchDispatchMode):
    """Counts every operator that reaches the dispatcher (casts counted apart)."""

    def __init__(self):
        super().__init__()
        self.total = 0
        self.casts = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.total += 1
        self.casts += func is torch.ops.aten._to_copy.default
        return func(*args, **(kwargs or {}))


def tiny_widths(chunk_size: int) -> ModelConfig:
    """The `full` preset's depths and shapes of data flow, with every width tiny."""
    cfg = full_config("translate")
    vit = dataclasses.replace(cfg.spatial.vit, pos_embed_size=IMAGE, dim=24, num_heads=6)
    spatial = dataclasses.replace(cfg.spatial, vit=vit, out_dim=32, chunk_size=chunk_size)
    encoder = dataclasses.replace(cfg.sign_encoder, dim=32, num_heads=4, ffn_dim=64)
    decoder = dataclasses.replace(
        cfg.decoder, vocab_size=64, d_model=32, num_heads=16, ffn_dim=64, sign_dim=32
    )
    return dataclasses.replace(cfg, spatial=spatial, sign_encoder=encoder, decoder=decoder)


def count_step(chunk_size: int, bf16_frozen: bool, fused: bool) -> dict[str, dict[str, int]]:
    """{part: {"operators": n, "casts": n}} for the second of two identical steps."""
    torch.manual_seed(0)
    model = Sign2GPT(tiny_widths(chunk_size)).train()
    if bf16_frozen:
        cast_frozen_weights(model, torch.bfloat16)  # random weights: all frozen ones
    video = torch.randn(BATCH, FRAMES, 3, IMAGE, IMAGE)
    mask = torch.ones(BATCH, FRAMES, dtype=torch.bool)
    ids = torch.randint(3, 64, (BATCH, TEXT_LENGTH))
    params = [p for p in model.parameters() if p.requires_grad]
    # Not fused: the multi-tensor AdamW a CUDA run picks by default (CPU would loop per tensor).
    kind = {"fused": True} if fused else {"foreach": True}
    optimizer = torch.optim.AdamW(params, lr=1e-4, **kind)
    counts: dict[str, dict[str, int]] = {}

    def part(name: str, fn):
        with OperatorCounter() as counter:
            result = fn()
        counts[name] = {"operators": counter.total, "casts": counter.casts}
        return result

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            signs, sign_mask = part("visual forward", lambda: model.encode(video, mask))
            logits = part("decoder forward", lambda: model.decoder(ids, None, signs, sign_mask))
            loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten())
        part("backward", loss.backward)
        part("optimizer", lambda: (optimizer.step(), optimizer.zero_grad(set_to_none=True)))

    step()  # the first step also creates the optimizer state
    step()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-sizes", type=int, nargs="+", default=[64, 256, 1024])
    args = parser.parse_args()
    results, rows = {}, []
    variants = [(64, False, False)] + [(chunk, True, True) for chunk in args.chunk_sizes]
    for chunk, bf16_frozen, fused in variants:
        counts = count_step(chunk, bf16_frozen, fused)
        total = Counter()
        for values in counts.values():
            total.update(values)
        frozen = "bf16" if bf16_frozen else "fp32"
        adam = "fused" if fused else "multi-tensor"
        key = f"chunk {chunk}, frozen {frozen}, AdamW {adam}"
        results[key] = {"parts": counts, "total": dict(total)}
        rows.append({
            "ViT chunk (frames)": chunk, "frozen weights": frozen, "AdamW": adam,
            **{part: counts[part]["operators"] for part in PARTS},
            "total": total["operators"], "of which casts": total["casts"],
        })  # fmt: skip
    settings = {
        "preset": "full (tiny widths)", "batch": BATCH, "frames": FRAMES,
        "text_tokens": TEXT_LENGTH, "autocast": "bf16",
    }  # fmt: skip
    record = {"machine": machine_info("cpu"), "settings": settings, "results": results}
    columns = ["ViT chunk (frames)", "frozen weights", "AdamW", *PARTS, "total",
               "of which casts"]  # fmt: skip
    save_results("host_ops", record, markdown_table(rows, columns),
                 title="Operators dispatched per training step (paper structure)")  # fmt: skip


if __name__ == "__main__":
    main()
