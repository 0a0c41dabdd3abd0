"""Speed and memory switches for training: activation checkpointing, `torch.compile` and
frozen weights stored in bf16.

None changes a parameter name (checkpoints load the same with and without them); the
training setup calls them when `train.activation_checkpointing` / `train.compile` /
`train.cast_frozen_weights` are on. The first two work block by block (ViT blocks,
sign-encoder blocks, decoder layers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from sign2gpt.models.decoder import decoder_layer_types
from sign2gpt.models.sign_encoder import SignEncoderBlock
from sign2gpt.models.vit import Block as ViTBlock


def block_types() -> tuple[type[nn.Module], ...]:
    """The repeated blocks, the unit of recomputation and of compilation: ViT and sign-encoder
    blocks and every LM family's layer (`SignDecoder.layer_type`)."""
    return (ViTBlock, SignEncoderBlock, *decoder_layer_types())


def transformer_blocks(model: nn.Module) -> Iterator[nn.Module]:
    """Every repeated transformer block inside `model` (depth-first order)."""
    types = block_types()
    return (module for module in model.modules() if isinstance(module, types))


def _checkpointed_forward(block: nn.Module, plain_forward, *args, **kwargs):
    # Recompute only when it saves memory: training with gradients. Generation (no grad,
    # key/value cache mutated in place) runs the block normally.
    if not (block.training and torch.is_grad_enabled()):
        return plain_forward(*args, **kwargs)
    return checkpoint(plain_forward, *args, use_reentrant=False, **kwargs)


def enable_activation_checkpointing(model: nn.Module) -> int:
    """Recompute each block's activations in the backward pass instead of storing them.

    Saves most activation memory (the frames through the ViT, the decoder layers) for about
    one extra forward pass of compute. Dropout masks are reproduced exactly (the RNG state is
    saved). Calling it twice is harmless.

    Args:
        model: a `Sign2GPT` or any module containing the blocks of `block_types()`.
    Returns:
        the number of blocks now checkpointed.
    """
    count = 0
    for block in transformer_blocks(model):
        if not getattr(block, "_activation_checkpointing", False):
            plain = block.forward
            block.forward = functools.partial(_checkpointed_forward, block, plain)
            block._activation_checkpointing = True
        count += 1
    return count


def compile_model(
    model: nn.Module,
    *,
    dynamic: bool | None = True,
    mode: str | None = None,
    backend: str = "inductor",
) -> int:
    """`torch.compile` every transformer block in place (parameter names unchanged).

    Blocks rather than the whole model: the data-dependent parts (real-frame selection,
    masks, generation's shrinking batch) stay eager, and the same compiled block code serves
    every layer of a stack. `dynamic=True` avoids recompiling for every new video or
    sentence length.

    Args:
        model: a `Sign2GPT` or any module containing the blocks of `block_types()`.
        dynamic: passed to `torch.compile` (None = let it decide after a recompile).
        mode: `torch.compile` mode, e.g. "max-autotune" on a GPU; None = default.
        backend: `torch.compile` backend ("eager" traces without generating code: tests).
    Returns:
        the number of blocks compiled.
    """
    blocks = list(transformer_blocks(model))
    for block in blocks:
        block.compile(dynamic=dynamic, mode=mode, backend=backend)
    return len(blocks)


def cast_frozen_weights(
    model: nn.Module, dtype: torch.dtype, select: Callable[[str], bool] = lambda name: True
) -> int:
    """Store the frozen weights and biases of linear and conv layers in `dtype`, in place.

    Why: under bf16 autocast every linear and conv casts its fp32 weight to bf16 on each call
    and keeps that copy for the backward pass. Storing frozen weights in bf16 gives the same
    products (autocast's cast and this one round alike) without the fp32 copy (XGLM-1.7B's
    layers: 4.8 GB) and without a cast per layer per step. Only matmul weights change:
    embeddings and norms stay fp32, as autocast keeps them. Everything that then uses the
    model must run under autocast. Trainable weights (LoRA, heads) are never cast.

    Args:
        model: any module.
        dtype: e.g. torch.bfloat16.
        select: which parameter names (as in `model.named_parameters()`) may be cast.
    Returns:
        the number of tensors cast.
    """
    count = 0
    for module_name, module in model.named_modules():
        if not isinstance(module, (nn.Linear, nn.Conv2d)):
            continue
        for attr in ("weight", "bias"):
            param = getattr(module, attr)
            name = f"{module_name}.{attr}" if module_name else attr
            if param is None or param.requires_grad or param.dtype == dtype or not select(name):
                continue
            param.data = param.data.to(dtype)
            count += 1
    return count
