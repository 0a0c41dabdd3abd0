"""Whole-model throughput: training videos/s, model FLOPs utilisation, peak memory, test-set
translation time. Random weights (speed does not depend on them).

On a GPU: the paper's model (`full` preset: ViT-S/14 at 224 px, 4-block sign encoder,
XGLM-1.7B), bf16 autocast, batch 8 x 128 frames, frozen backbone weights stored in bf16 as
training stores them (`train.cast_frozen_weights`; a second row keeps them fp32). On CPU the
full model is far too slow, so it runs the `synth` preset (4-block ViT at 56 px, 4-layer
d=256 decoder) in fp32 and says so.

    python bench/throughput.py [--device cuda] [--compile] [--profile] [--videos 642]
                               [--chunk-size N]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import resource
import time

import torch
import torch.nn.functional as F

from common import (
    machine_info,
    markdown_table,
    peak_memory_gib,
    save_results,
    synchronize,
    time_call,
)  # fmt: skip
from sign2gpt.models.config import PRESETS, ModelConfig
from sign2gpt.models.performance import (
    cast_frozen_weights,
    compile_model,
    enable_activation_checkpointing,
)
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.train.engine import adamw
from sign2gpt.train_config import TrainConfig

# Dense bf16 tensor-core peaks (FLOP/s) from the vendors' data sheets, by device name.
GPU_PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "4090": 165e12}
TEXT_LENGTH = 32  # target tokens per sentence (Phoenix14T sentences: ~15-30 tokens)


def matmul_flops(rows: int, inner: int, cols: int) -> float:
    return 2.0 * rows * inner * cols


def vit_flops_per_frame(cfg: ModelConfig) -> tuple[float, float]:
    """(all blocks, one block) forward FLOPs of the ViT for one frame, plus patch embedding."""
    vit = cfg.spatial.vit
    side = cfg_crop(cfg) // vit.patch_size
    tokens = side * side + 1
    block = (
        matmul_flops(tokens, vit.dim, 4 * vit.dim)  # qkv + output projection
        + matmul_flops(tokens, vit.dim, 2 * vit.mlp_dim)  # fc1 + fc2
        + 2 * matmul_flops(tokens, vit.dim, tokens)  # q k^T and attention x v
    )
    patch = matmul_flops(side * side, 3 * vit.patch_size**2, vit.dim)
    return patch + vit.depth * block, block


def training_flops(cfg: ModelConfig, batch: int, frames: int, text_length: int) -> float:
    """Model FLOPs of one training step, counted analytically (matmuls and attention only).

    Forward: every matmul (2 x rows x inner x cols) and both attention products (full
    score matrices, as the kernels compute them). Backward, only where autograd runs:
    activation gradients (1x the forward) through the decoder, the sign encoder, the
    spatial head and the ViT blocks that carry LoRA (the frozen blocks below them get no
    backward at all); weight gradients (another 1x) only for the fully trained sign encoder
    and projections. LoRA matmuls, norms and elementwise work are left out (< 1%).
    """
    enc, dec, spatial = cfg.sign_encoder, cfg.decoder, cfg.spatial
    vit_all, vit_block = vit_flops_per_frame(cfg)
    n_frames = batch * frames
    vit_fwd = n_frames * vit_all
    vit_bwd = n_frames * spatial.lora_blocks * vit_block
    proj = n_frames * matmul_flops(1, spatial.vit.dim, spatial.out_dim)

    def encoder_block(length: int) -> float:
        return batch * (
            matmul_flops(length, enc.dim, 4 * enc.dim)
            + matmul_flops(length, enc.dim, 2 * enc.ffn_dim)
            + 2 * matmul_flops(length, enc.dim, length)
        )

    pooled = math.ceil(frames / 2)
    encoder = enc.blocks_before * encoder_block(frames) + enc.blocks_after * encoder_block(pooled)

    d, tokens = dec.d_model, batch * text_length
    per_layer = (
        matmul_flops(tokens, d, 5 * d)  # q, k, v, out + the cross-attention query
        + matmul_flops(tokens, d, 2 * dec.ffn_dim)
        + 2 * batch * matmul_flops(text_length, d, text_length)  # self-attention
        + 2 * batch * matmul_flops(text_length, d, pooled)  # cross-attention to the signs
        + matmul_flops(batch * pooled, d, 2 * d)  # sign keys / values
    )
    decoder = (
        dec.num_layers * per_layer
        + matmul_flops(tokens, d, dec.vocab_size)  # output projection
        + matmul_flops(batch * pooled, dec.sign_dim, d)  # sign projection
    )
    forward = vit_fwd + proj + encoder + decoder
    backward = vit_bwd + 2 * proj + 2 * encoder + decoder
    return forward + backward


def cfg_crop(cfg: ModelConfig) -> int:
    """Input size the benchmark feeds: 224 for DINOv2's ViT-S/14, else its native size."""
    return 224 if cfg.spatial.vit.pos_embed_size == 518 else cfg.spatial.vit.pos_embed_size


def cpu_matmul_peak(seconds: float = 3.0) -> float:
    """Measured fp32 FLOP/s of a large matmul on this CPU (the practical peak)."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return count * matmul_flops(2048, 2048, 2048) / (time.perf_counter() - start)


def peak_flops(device: str) -> tuple[float, str]:
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
        for key, flops in GPU_PEAK_FLOPS.items():
            if key in name:
                return flops, f"{name} bf16 data sheet"
        raise SystemExit(f"no peak FLOP/s known for {name}; add it to GPU_PEAK_FLOPS")
    return cpu_matmul_peak(), "measured fp32 2048^3 matmul on this CPU"


def mixed_precision(device: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on a GPU (the paper trains in bf16); plain fp32 on CPU."""
    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def make_batch(cfg: ModelConfig, batch: int, frames: int, device: str):
    crop = cfg_crop(cfg)
    video = torch.randn(batch, frames, 3, crop, crop, device=device)
    mask = torch.ones(batch, frames, dtype=torch.bool, device=device)
    ids = torch.randint(3, cfg.decoder.vocab_size, (batch, TEXT_LENGTH), device=device)
    return video, mask, ids


def train_step_fn(model: Sign2GPT, cfg: ModelConfig, batch: int, frames: int, device: str):
    video, mask, ids = make_batch(cfg, batch, frames, device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = adamw(params, TrainConfig(), torch.device(device))  # training's optimizer
    autocast = mixed_precision(device)

    def step():
        with autocast:
            logits = model(video, mask, ids)
            loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def profile_table(step, device: str, rows: int = 25) -> str:
    """torch.profiler's operator table for two training steps, most device time first."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.startswith("cuda"):
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as profiler:
        for _ in range(2):
            step()
        synchronize(device)
    sort = "cuda_time_total" if device.startswith("cuda") else "cpu_time_total"
    return profiler.key_averages().table(sort_by=sort, row_limit=rows)


def translate_seconds(model: Sign2GPT, cfg: ModelConfig, videos: int, batch: int,
                      frames: int, device: str) -> float:  # fmt: skip
    """Seconds to translate `videos` videos (beam 4, up to 64 tokens), batch by batch."""
    model.eval()
    autocast = mixed_precision(device)
    video, mask, _ = make_batch(cfg, batch, frames, device)
    synchronize(device)
    start = time.perf_counter()
    with autocast:
        for first in range(0, videos, batch):
            size = min(batch, videos - first)
            model.translate(video[:size], mask[:size], num_beams=4, max_new_tokens=64)
    synchronize(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=128)
    parser.add_argument("--videos", type=int, default=642, help="videos to translate")
    parser.add_argument("--translate-batch", type=int, default=None)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--chunk-size", type=int, help="frames per ViT call (default: the preset's)"
    )  # fmt: skip
    parser.add_argument(
        "--profile", action="store_true", help="print the operators that take the most time"
    )
    args = parser.parse_args()
    on_gpu = args.device.startswith("cuda")
    preset = "full" if on_gpu else "synth"
    cfg = PRESETS[preset]("translate")
    if args.chunk_size:
        cfg.spatial.chunk_size = args.chunk_size
    translate_batch = args.translate_batch or (64 if on_gpu else 32)
    flops = training_flops(cfg, args.batch, args.frames, TEXT_LENGTH)
    peak, peak_source = peak_flops(args.device)

    rows, results = [], {}
    # (name, switch, frozen weights in bf16): bf16 storage only where autocast runs (GPU).
    variants = [("eager", None, on_gpu)]
    if on_gpu:
        variants.append(("eager, frozen weights kept fp32", None, False))
    variants.append(("activation checkpointing", enable_activation_checkpointing, on_gpu))
    if args.compile:
        variants.append(("torch.compile", compile_model, on_gpu))
    for name, switch, bf16_frozen in variants:
        torch.manual_seed(0)
        with torch.device(args.device):  # built in place: the full LM is slow to init on a host
            model = Sign2GPT(cfg)
        if bf16_frozen:  # the pretrained ViT and LM, as `train.cast_frozen_weights` does
            cast_frozen_weights(model, torch.bfloat16)  # random weights: all frozen ones
        if switch is not None:
            switch(model)
        if on_gpu:
            torch.cuda.reset_peak_memory_stats()
        step = train_step_fn(model.train(), cfg, args.batch, args.frames, args.device)
        first = time.perf_counter()
        step()  # warm-up (and compilation)
        first = time.perf_counter() - first
        seconds = time_call(step, args.device, warmup=0, repeat=args.repeat)
        results[name] = {
            "step_seconds": seconds,
            "first_step_seconds": first,
            "videos_per_s": args.batch / seconds,
            "mfu": flops / seconds / peak,
            "peak_memory_gib": peak_memory_gib(args.device),
        }
        rows.append({"variant": name, "videos/s": args.batch / seconds, "step s": seconds,
                     "first step s": first, "MFU %": 100 * flops / seconds / peak,
                     "peak GiB": results[name]["peak_memory_gib"] or "n/a (CPU)"})  # fmt: skip
        if name == "eager":
            if args.profile:
                print(profile_table(step, args.device))
            translate = translate_seconds(
                model, cfg, args.videos, translate_batch, args.frames, args.device
            )
        del model
    record = {
        "machine": machine_info(args.device),
        "preset": preset,
        "reduced_size_on_cpu": not on_gpu,
        "settings": {"batch": args.batch, "frames": args.frames, "text_tokens": TEXT_LENGTH,
                     "precision": "bf16 autocast" if on_gpu else "fp32",
                     "frozen_weights": "bf16 (fp32 where a row says so)" if on_gpu else "fp32",
                     "vit_chunk_size": cfg.spatial.chunk_size,
                     "translate_videos": args.videos, "translate_batch": translate_batch,
                     "num_beams": 4, "max_new_tokens": 64, "repeat": args.repeat},
        "train_step_flops": flops,
        "peak_flops": peak,
        "peak_flops_source": peak_source,
        "train": results,
        "translate_seconds": translate,
        "translate_note": "random weights rarely emit EOS, so most sentences run to 64 "
                          "tokens (worst case); frames are random tensors (decoding: dataload)",
        "process_max_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }  # fmt: skip
    table = markdown_table(
        rows, ["variant", "videos/s", "step s", "first step s", "MFU %", "peak GiB"]
    )
    table += (
        f"\n\nTranslate {args.videos} videos ({args.frames} frames, beam 4, <= 64 tokens, "
        f"batch {translate_batch}): {translate:.1f} s.\n"
        f"Model: `{preset}` preset{' (reduced size: CPU run)' if not on_gpu else ''}; "
        f"step FLOPs {flops:.3g}; peak {peak:.3g} FLOP/s ({peak_source})."
    )
    name = f"throughput_{'gpu' if on_gpu else 'cpu'}"
    save_results(name, record, table, title=f"Sign2GPT throughput ({preset} preset)")


if __name__ == "__main__":
    main()
