"""Optimizer parameter groups: which parameters get weight decay (`train.weight_decay_on`).

"all": every trainable parameter (one group). "weights": the authors' rule (their
`get_grouped_params`): decay only the weight matrices of modules that are not norms or
embeddings; biases, norm and embedding weights and every standalone parameter (gates, layer
scales, temperatures, prototypes, position embeddings) get weight decay 0. Their LoRA factors
are `nn.Linear` weights, so ours (plain parameters `A`, `B` of a `LoRA` module) are decayed too.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from sign2gpt.models.layers.lora import LoRA
from sign2gpt.models.parts import part_of

_NO_DECAY_MODULES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._BatchNorm,  # BatchNorm1d/2d/3d and SyncBatchNorm
    nn.LayerNorm,
    nn.GroupNorm,
    nn.Embedding,
)


def decays(module: nn.Module, name: str) -> bool:
    """Whether parameter `name` (its own name, not the dotted path) of `module` is decayed."""
    if isinstance(module, LoRA):
        return True
    return name == "weight" and not isinstance(module, _NO_DECAY_MODULES)


def parameter_groups(
    model: nn.Module,
    weight_decay: float,
    weight_decay_on: str,
    lr: float | None = None,
    lr_scale: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """AdamW groups of `model`'s trainable parameters: one group ("all"), or the decayed
    weights and the rest with weight decay 0 ("weights"); each split further by the parts of
    `lr_scale` (`train.lr_scale`: part -> factor on `lr`), whose groups carry their own "lr".
    Empty groups are left out; without `lr_scale` the groups are as they always were, so
    optimizer states of older checkpoints still fit."""
    lr_scale = lr_scale or {}
    if lr_scale and lr is None:
        raise ValueError("lr_scale needs the base lr")
    groups: dict[tuple[bool, float], list[nn.Parameter]] = {}
    seen: set[int] = set()
    for prefix, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))  # a shared parameter joins one group only
            decayed = weight_decay_on == "all" or decays(module, name)
            factor = float(lr_scale.get(part_of(f"{prefix}.{name}" if prefix else name), 1.0))
            groups.setdefault((decayed, factor), []).append(param)
    ordered = sorted(groups.items(), key=lambda item: (not item[0][0], item[0][1] != 1.0))
    def group(decayed: bool, factor: float, params: list[nn.Parameter]) -> dict[str, Any]:
        settings: dict[str, Any] = {"params": params}
        if weight_decay_on != "all":  # "all": AdamW's own weight decay (train.weight_decay)
            settings["weight_decay"] = weight_decay if decayed else 0.0
        if factor != 1.0:
            settings["lr"] = lr * factor
        return settings

    return [group(decayed, factor, params) for (decayed, factor), params in ordered]
