"""The authors' training conventions as keys: lr schedule ends, weight-decay groups,
clipping by value then norm, SyncBatchNorm under DDP (issue 18, items 14 and 16)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
import torch
from lightning.fabric import Fabric

from sign2gpt.errors import ConfigError
from sign2gpt.models import Sign2GPT
from sign2gpt.models.config import tiny_config
from sign2gpt.models.layers.lora import LoRA
from sign2gpt.run_config import load_run_config
from sign2gpt.train.engine import adamw, clip_gradients, sync_batchnorm
from sign2gpt.train.param_groups import parameter_groups
from sign2gpt.train.schedule import one_cycle_cosine
from sign2gpt.train_config import TrainConfig

PAPER = "configs/phoenix14t/translate.yaml"


def tiny_model(stage: str = "translate") -> Sign2GPT:
    torch.manual_seed(0)
    return Sign2GPT(tiny_config(stage), num_glosses=5)


def lrs_of(cfg: TrainConfig, steps_per_epoch: int) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    total, warmup = cfg.epochs * steps_per_epoch, round(cfg.warmup_epochs * steps_per_epoch)
    sched = one_cycle_cosine(opt, total, warmup, start_lr=cfg.warmup_start_lr,
                             final_lr=cfg.final_lr)  # fmt: skip
    lrs = []
    for _ in range(total + 1):  # one past the end: where the cosine lands
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_paper_schedule_warms_up_from_3e6_to_3e4_then_cosine_to_3e6():
    cfg = load_run_config(PAPER).train
    assert (cfg.lr, cfg.warmup_start_lr, cfg.final_lr, cfg.warmup_epochs) == (3e-4, 3e-6, 3e-6, 5)
    lrs = lrs_of(cfg, steps_per_epoch=10)
    assert lrs[0] == pytest.approx(3e-6)
    assert lrs[25] == pytest.approx((3e-6 + 3e-4) / 2)  # linear: half-way at half the warm-up
    assert lrs[50] == pytest.approx(3e-4)  # the end of warm-up (5 epochs x 10 steps)
    assert all(a < b for a, b in itertools.pairwise(lrs[:51]))
    assert all(a >= b for a, b in itertools.pairwise(lrs[50:]))
    assert lrs[-1] == pytest.approx(3e-6)
    assert min(lrs) == pytest.approx(3e-6)


def test_default_schedule_is_unchanged_ramp_from_zero_to_zero():
    cfg = TrainConfig(epochs=10, lr=1.0, warmup_epochs=0.5)
    lrs = lrs_of(cfg, steps_per_epoch=10)
    assert lrs[0] == pytest.approx(1 / 6) and lrs[5] == pytest.approx(1.0)
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ConfigError, match="final_lr"):
        TrainConfig(lr=1e-4, final_lr=1e-3)


def test_weight_decay_only_on_weights_of_non_norm_non_embedding_modules():
    model = tiny_model()
    cfg = load_run_config(PAPER).train
    assert cfg.weight_decay_on == "weights"
    groups = parameter_groups(model, cfg.weight_decay, cfg.weight_decay_on)
    decay = {id(p) for g in groups if g["weight_decay"] > 0 for p in g["params"]}
    plain = {id(p) for g in groups if g["weight_decay"] == 0 for p in g["params"]}
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert decay | plain == trainable and not decay & plain
    names = {id(p): n for n, p in model.named_parameters()}
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad:
                continue
            where = f"{module_name}.{name}"
            norm = (torch.nn.LayerNorm, torch.nn.BatchNorm1d, torch.nn.Embedding)
            if isinstance(module, norm) or name == "bias":
                assert id(param) in plain, where
            elif isinstance(module, LoRA) or name == "weight":
                assert id(param) in decay, where
            else:  # gates, layer scales, temperatures, ...
                assert id(param) in plain, where
    # Every kind is there: the spatial BatchNorm, biases, gates, LoRA factors, Linear weights.
    plain_names = [names[i] for i in plain]
    assert any("norm" in n for n in plain_names) and any(n.endswith("bias") for n in plain_names)
    assert any("gate" in n for n in plain_names)
    assert any(n.endswith(".A") for n in (names[i] for i in decay))
    optimizer = adamw(groups, cfg, torch.device("cpu"))
    assert sorted(g["weight_decay"] for g in optimizer.param_groups) == [0.0, cfg.weight_decay]

    everything = parameter_groups(model, 0.001, "all")
    assert len(everything) == 1 and "weight_decay" not in everything[0]  # = AdamW's default
    assert len(everything[0]["params"]) == len(trainable)


def test_gradients_are_clipped_by_value_then_by_norm():
    cfg = load_run_config(PAPER).train
    assert (cfg.grad_clip_value, cfg.grad_clip) == (1.0, 1.0)
    cfg = dataclasses.replace(cfg, precision="32-true", strategy="auto", devices=1,
                              accelerator="cpu")  # fmt: skip
    fabric = Fabric(accelerator="cpu", devices=1, precision="32-true")
    grad = torch.tensor([3.0, -0.5, 0.25, -2.0])
    param = torch.nn.Parameter(torch.zeros(4))
    optimizer = torch.optim.SGD([param], lr=1.0)

    def clipped(config: TrainConfig) -> torch.Tensor:
        param.grad = grad.clone()
        clip_gradients(fabric, torch.nn.Module(), optimizer, config)
        return param.grad.clone()

    by_value = grad.clamp(-1.0, 1.0)  # [1, -0.5, 0.25, -1]: norm 1.5 > 1
    expected = by_value / by_value.norm()
    torch.testing.assert_close(clipped(cfg), expected)
    norm_only = clipped(dataclasses.replace(cfg, grad_clip_value=0.0))
    torch.testing.assert_close(norm_only, grad / grad.norm())
    assert not torch.allclose(norm_only, expected)  # the order (and the value clip) matter
    assert TrainConfig().grad_clip_value == 0.0  # ours: norm only
    with pytest.raises(ConfigError, match="16-mixed"):
        TrainConfig(grad_clip_value=1.0, precision="16-mixed")


def test_sync_batchnorm_converts_the_spatial_batchnorm_only_under_ddp():
    cfg = load_run_config(PAPER).train
    assert cfg.sync_batchnorm and cfg.strategy == "ddp"
    model = tiny_model()
    norm = model.spatial.norm
    weight = norm.weight
    converted = sync_batchnorm(model, cfg)
    assert isinstance(converted.spatial.norm, torch.nn.SyncBatchNorm)
    assert converted.spatial.norm.weight is weight  # the same parameter: optimizer, checkpoint
    assert not any(type(m) is torch.nn.BatchNorm1d for m in converted.modules())

    for off in (dataclasses.replace(cfg, sync_batchnorm=False),
                dataclasses.replace(cfg, strategy="auto")):  # fmt: skip
        kept = sync_batchnorm(tiny_model(), off)
        assert type(kept.spatial.norm) is torch.nn.BatchNorm1d
    # Outside a process group the converted layer normalises like the BatchNorm it replaced.
    reference = tiny_model()
    x = torch.randn(6, reference.spatial.norm.num_features)
    torch.testing.assert_close(converted.spatial.norm(x), reference.spatial.norm(x))


def test_lr_scale_gives_a_part_its_own_learning_rate_and_keeps_the_decay_groups():
    from sign2gpt.models.parts import part_of

    model = tiny_model()
    names = {id(p): n for n, p in model.named_parameters()}
    plain = parameter_groups(model, 0.001, "weights")
    scaled = parameter_groups(model, 0.001, "weights", 2e-3, {"gates": 10, "sign_encoder": 0.5})
    decay_of = {id(p): g["weight_decay"] for g in plain for p in g["params"]}
    seen = []
    for group in scaled:
        for p in group["params"]:
            seen.append(id(p))
            assert group["weight_decay"] == decay_of[id(p)], names[id(p)]  # decay unchanged
            expected = {"gates": 2e-2, "sign_encoder": 1e-3}.get(part_of(names[id(p)]))
            assert group.get("lr") == (None if expected is None else pytest.approx(expected))
    assert sorted(seen) == sorted(decay_of)  # every trainable parameter, once
    assert any(g.get("lr") == pytest.approx(2e-2) for g in scaled)
    # Without lr_scale the groups are what they were (old optimizer states still load).
    assert [len(g["params"]) for g in plain] == [
        len(g["params"]) for g in parameter_groups(model, 0.001, "weights", 2e-3, {})
    ]
    with pytest.raises(ValueError, match="base lr"):
        parameter_groups(model, 0.001, "all", None, {"gates": 10})


def test_lr_scale_follows_the_schedule_and_is_validated():
    fast = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))]},
                           {"params": [fast], "lr": 10.0}], lr=1.0)  # fmt: skip
    sched = one_cycle_cosine(opt, 10, 2, start_lr=0.01, final_lr=0.001, peak_lr=1.0)
    lrs = []
    for _ in range(11):
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx([0.01, 0.1]) and lrs[2] == pytest.approx([1.0, 10.0])
    assert lrs[-1] == pytest.approx([0.001, 0.01])
    cfg = load_run_config(PAPER, ["train.lr_scale.gates=10"]).train
    assert cfg.lr_scale == {"gates": 10}
    with pytest.raises(ConfigError, match=r"unknown part 'gate'.*gates"):
        TrainConfig(lr_scale={"gate": 10.0})
    with pytest.raises(ConfigError, match=r"lr_scale\.gates must be a number > 0"):
        TrainConfig(lr_scale={"gates": 0})
