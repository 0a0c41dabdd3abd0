"""Adapters: LoRA and gate initialisation, what trains, what stays frozen, adapter checkpoints."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from sign2gpt.errors import CheckpointError
from sign2gpt.models import Sign2GPT
from sign2gpt.models.config import LoRAConfig, tiny_config
from sign2gpt.models.layers.gate import clamp_straight_through
from sign2gpt.models.layers.lora import LoRA, LoRALinear


def tiny_model(stage: str = "translate", seed: int = 0, **changes) -> Sign2GPT:
    torch.manual_seed(seed)
    cfg = dataclasses.replace(tiny_config(stage), **changes)
    return Sign2GPT(cfg, num_glosses=5)


def video_batch(seed: int = 0):
    torch.manual_seed(seed)
    video = torch.randn(2, 5, 3, 28, 28)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    return video, mask


def test_lora_defaults_match_the_paper():
    cfg = LoRAConfig()
    assert (cfg.r, cfg.alpha, cfg.dropout, cfg.scale) == (4, 4.0, 0.1, 1.0)
    torch.manual_seed(0)
    lora = LoRA(512, 256, cfg)
    assert lora.A.shape == (4, 512) and lora.B.shape == (256, 4)
    assert lora.A.std().item() == pytest.approx(0.2, rel=0.05)
    assert lora.A.mean().item() == pytest.approx(0.0, abs=0.02)
    assert torch.count_nonzero(lora.B) == 0
    assert lora.dropout.p == 0.1


def test_lora_linear_starts_as_the_plain_layer_and_scales_by_alpha_over_r():
    layer = LoRALinear(8, 6, LoRAConfig(r=2, alpha=6.0, dropout=0.0)).eval()
    x = torch.randn(3, 8)
    torch.testing.assert_close(layer(x), layer.base(x))
    with torch.no_grad():
        layer.lora.B.fill_(0.5)
    delta = x @ layer.lora.A.t() @ layer.lora.B.t() * 3.0
    torch.testing.assert_close(layer(x), layer.base(x) + delta)


def test_gate_clamps_to_unit_interval_with_straight_through_gradient():
    gate = torch.tensor([-0.5, 0.0, 0.3, 1.7], requires_grad=True)
    out = clamp_straight_through(gate)
    assert out.tolist() == pytest.approx([0.0, 0.0, 0.3, 1.0])
    (out * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert gate.grad.tolist() == [1.0, 2.0, 3.0, 4.0]  # identity, even where clamped


def test_gates_start_closed_and_an_open_gate_changes_the_output():
    model = tiny_model().eval()
    gates = [p for n, p in model.named_parameters() if n.endswith(".gate")]
    assert len(gates) == 2 and all(torch.count_nonzero(g) == 0 for g in gates)
    assert gates[0].shape == (4,)  # one per head
    video, mask = video_batch()
    tokens = torch.randint(3, 64, (2, 6))
    with torch.no_grad():
        closed = model(video, mask, tokens)
        gates[0][1] = 0.5
        opened = model(video, mask, tokens)
    assert not torch.allclose(closed, opened)


def test_gradients_reach_exactly_the_trainable_parameters():
    model = tiny_model().train()
    video, mask = video_batch()
    tokens = torch.randint(3, 64, (2, 6))
    model(video, mask, tokens).logsumexp(-1).mean().backward()
    for name, param in model.named_parameters():
        if model.is_trainable(name):
            assert param.requires_grad and param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
        else:
            assert not param.requires_grad and param.grad is None, name
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(n.startswith("spatial.vit.blocks.1.attn.qkv.lora") for n in trainable)
    assert not any(n.startswith("spatial.vit.blocks.0.") for n in trainable)
    decoder_params = {n for n, _ in model.named_parameters() if n.startswith("decoder.")}
    assert trainable & decoder_params == {
        n for n in decoder_params
        if n.startswith("decoder.sign_proj.") or ".lora" in n or n.endswith(".gate")
    }  # fmt: skip
    # Gates at 0 still learn thanks to the straight-through clamp.
    assert all(p.grad.abs().sum() > 0 for n, p in model.named_parameters() if n.endswith("gate"))


def test_frozen_weights_stay_bit_identical_after_an_optimizer_step():
    model = tiny_model().train()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    video, mask = video_batch()
    model(video, mask, torch.randint(3, 64, (2, 6))).logsumexp(-1).mean().backward()
    optimizer.step()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    frozen = {n for n, _ in model.named_parameters() if not model.is_trainable(n)}
    assert frozen and not changed & frozen
    assert "decoder.sign_proj.linear.weight" in changed
    assert any(n.endswith(".gate") for n in changed)


def test_trainable_state_dict_round_trips_and_holds_only_adapters():
    model = tiny_model(seed=0)
    state = model.trainable_state_dict()
    assert "spatial.norm.running_mean" in state  # BatchNorm statistics travel with it
    assert not any(k.startswith("spatial.vit.") and ".lora." not in k for k in state)
    assert not any(k.startswith("decoder.model.embed_tokens") for k in state)
    other = tiny_model(seed=1)
    assert other.load_trainable_state_dict(state) == []
    for key, value in other.trainable_state_dict().items():
        assert torch.equal(value, state[key]), key
    with pytest.raises(CheckpointError, match="missing key"):
        other.load_trainable_state_dict({k: v for k, v in state.items() if "gate" not in k})


def test_stage_two_starts_from_the_stage_one_checkpoint():
    stage1 = tiny_model("pretrain", seed=0)
    state = stage1.trainable_state_dict()
    assert any(k.startswith("prototype_head.") for k in state)
    stage2 = tiny_model("translate", seed=1)
    missing = stage2.load_trainable_state_dict(state, strict=False)
    assert missing and all(k.startswith("decoder.") for k in missing)
    for key, value in stage2.state_dict().items():
        if key.startswith(("spatial.", "sign_encoder.")) and key in state:
            assert torch.equal(value, state[key]), key


def test_freeze_visual_trains_only_the_decoder_adapters():
    model = tiny_model(freeze_visual=True)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith("decoder.") for n in trainable)
