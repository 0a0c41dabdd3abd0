"""Which tensors of a Sign2GPT model a checkpoint holds."""

from __future__ import annotations

import torch
from torch import nn

from sign2gpt.checkpoint import load_model_tensors
from sign2gpt.models.sign2gpt import checkpoint_tensors, is_pretrained_weight

__all__ = ["StageCheckpoints", "checkpoint_tensors", "is_pretrained_weight"]


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
