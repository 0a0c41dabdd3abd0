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
    model: nn.Module, weight_decay: float, weight_decay_on: str
) -> list[dict[str, Any]]:
    """AdamW groups of `model`'s trainable parameters: one group ("all"), or the decayed
    weights and the rest with weight decay 0 ("weights"); empty groups are left out."""
    if weight_decay_on == "all":
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]
    decayed: list[nn.Parameter] = []
    plain: list[nn.Parameter] = []
    seen: set[int] = set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))  # a shared parameter joins one group only
            (decayed if decays(module, name) else plain).append(param)
    groups = [
        {"params": decayed, "weight_decay": weight_decay},
        {"params": plain, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]
