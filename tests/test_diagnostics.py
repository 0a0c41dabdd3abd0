"""Per-step training diagnostics: gate openings and the gradient norm reaching each part."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from sign2gpt.models.config import tiny_config
from sign2gpt.models.parts import OTHER, part_of
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.train.diagnostics import (
    gate_openings,
    gradient_norms,
    step_diagnostics,
    unscaling_factor,
)


def trainable(model: nn.Module) -> dict[str, nn.Parameter]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def test_every_trainable_part_of_stage_2_is_named():
    params = trainable(Sign2GPT(tiny_config("translate")))
    parts = {part_of(name) for name in params}
    assert parts == {"gates", "cross_attention_lora", "decoder_lora", "sign_projection",
                     "sign_encoder", "spatial_lora", "spatial"}  # fmt: skip
    assert part_of("decoder.model.layers.3.self_attn.sign.gate") == "gates"
    assert part_of("model.decoder.model.layers.3.self_attn.sign.lora_k.A") == "cross_attention_lora"
    assert part_of("decoder.model.layers.0.self_attn.q_proj.lora.B") == "decoder_lora"
    assert part_of("spatial.vit.blocks.1.attn.qkv.lora.A") == "spatial_lora"
    assert part_of("spatial.proj.weight") == "spatial"
    assert part_of("prototypes") == OTHER


def test_gradient_norms_are_the_l2_norm_of_each_part():
    model = Sign2GPT(tiny_config("translate"))
    params = trainable(model)
    sizes: dict[str, int] = {}
    for name, p in params.items():
        p.grad = torch.full_like(p, 2.0)
        sizes[part_of(name)] = sizes.get(part_of(name), 0) + p.numel()
    next(iter(params.values())).grad = None  # no gradient: not counted
    first = next(iter(params))
    sizes[part_of(first)] -= params[first].numel()
    norms = gradient_norms(model, scale=0.5)
    assert set(norms) == set(sizes)
    for part, size in sizes.items():
        assert norms[part] == pytest.approx(0.5 * 2.0 * math.sqrt(size), rel=1e-5)


class Layer(nn.Module):
    def __init__(self, gate: list[float]):
        super().__init__()
        self.self_attn = nn.Module()
        self.self_attn.sign = nn.Module()
        self.self_attn.sign.gate = nn.Parameter(torch.tensor(gate))


def test_gate_openings_are_clamped_means_in_layer_order():
    model = nn.Module()
    model.layers = nn.ModuleList(Layer([0.1 * i, -1.0]) for i in range(11))
    model.layers[10].self_attn.sign.gate.data = torch.tensor([3.0, 0.5])
    openings = gate_openings(model.named_parameters())
    # Layer 10 comes last (numeric order, not "layers.10" < "layers.2"); clamped to [0, 1].
    assert openings == pytest.approx([0.05 * i for i in range(10)] + [0.75])
    logs = step_diagnostics(model)
    assert logs["gate_layer10"] == pytest.approx(0.75)
    assert not any(k.startswith("grad_norm_") for k in logs)  # no gradients yet
    assert gate_openings(nn.Linear(2, 2).named_parameters()) == []
    # A checkpoint's tensors give the same (bench/synthsign.py reads them so).
    assert gate_openings(model.state_dict().items()) == openings


def test_loss_scale_is_divided_out_only_while_a_scaler_is_on():
    class Plugin:
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)

    assert unscaling_factor(Plugin()) == pytest.approx(1 / 1024)
    assert unscaling_factor(object()) == 1.0
