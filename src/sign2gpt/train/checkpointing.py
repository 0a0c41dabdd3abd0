"""Which tensors of a Sign2GPT model a checkpoint holds."""

from __future__ import annotations

import torch
from torch import nn

from sign2gpt.checkpoint import load_model_tensors
from sign2gpt.models.sign2gpt import Sign2GPT


def checkpoint_tensors(model: Sign2GPT) -> dict[str, torch.Tensor]:
    """Our weights and buffers (adapters, heads, sign encoder: also when frozen, as the stage-1
    parts of Sign(Z)2GPT), plus frozen parts that no pretrained file provides.

    Frozen weights loaded from a pretrained path (DINOv2, XGLM) are referenced by that path in
    the stored config instead of being copied; randomly initialised frozen parts (tests,
    ablations) must be stored or the checkpoint could not be rebuilt.
    """
    return {
        name: tensor
        for name, tensor in model.state_dict().items()
        if not is_pretrained_weight(model, name)
    }


def is_pretrained_weight(model: Sign2GPT, name: str) -> bool:
    """Whether `name` is a frozen backbone weight that a configured pretrained file provides
    (so a checkpoint does not copy it)."""
    cfg = model.cfg
    external = []
    if cfg.spatial.pretrained is not None:
        external.append("spatial.")
    if model.decoder is not None and cfg.decoder.pretrained is not None:
        external.append("decoder.")
    return name.startswith(tuple(external)) and not model.is_own(name)


class StageCheckpoints:
    """Checkpoint part of the engine's `Task`, for stage modules that hold a `Sign2GPT` as
    `.model`: checkpoint keys are those of the `Sign2GPT` itself, so any command can load them.
    """

    model: nn.Module

    def checkpoint_tensors(self, model: nn.Module) -> dict[str, torch.Tensor]:
        return checkpoint_tensors(model.model)

    def load_tensors(self, tensors: dict[str, torch.Tensor], path: str) -> None:
        model = self.model.model
        load_model_tensors(model, tensors, path, expected=checkpoint_tensors(model))
