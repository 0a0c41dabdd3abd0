"""The shared training loop: schedule, safetensors checkpoints, exact resume, NaN stop."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch

from sign2gpt.checkpoint import Checkpoint, load_checkpoint, load_model_tensors, save_checkpoint
from sign2gpt.errors import CheckpointError, ConfigError
from sign2gpt.train.engine import Trainer, TrainingError, adamw, make_fabric
from sign2gpt.train.loaders import EpochData
from sign2gpt.train.run_dir import RunDir
from sign2gpt.train.schedule import one_cycle_cosine
from sign2gpt.train_config import TrainConfig


class Regression(torch.nn.Module):
    """A tiny model with dropout, so that resume must restore the RNG to match."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, 16), torch.nn.Dropout(0.3), torch.nn.Linear(16, 1)
        )
        self.scale = scale

    def forward(self, batch):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x).squeeze(-1), y) * self.scale
        return loss, {"mse": loss.detach()}


class RegressionTask:
    selection_metric = "neg_mse"

    def __init__(self, model: Regression, x: torch.Tensor, y: torch.Tensor):
        self.model, self.x, self.y = model, x, y

    def validate(self, model, epoch):
        return {
            "neg_mse": -torch.nn.functional.mse_loss(model.net(self.x).squeeze(-1), self.y).item()
        }

    def checkpoint_tensors(self, model):
        return model.state_dict()

    def load_tensors(self, tensors, path):
        load_model_tensors(self.model, tensors, path)


class StopAfter(Exception):
    pass


def _data(x, y, batch=4, stop_at=None):
    def loader(epoch, start):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(100 + epoch))
        batches = order.split(batch)
        for i, idx in enumerate(batches[start:], start):
            if stop_at is not None and (epoch, i) == stop_at:
                raise StopAfter
            yield x[idx], y[idx]

    return EpochData(steps_per_epoch=math.ceil(len(x) / batch), loader=loader)


def _trainer(tmp: Path, cfg: TrainConfig, stop_at=None, scale=1.0):
    torch.manual_seed(0)
    x = torch.randn(40, 4, generator=torch.Generator().manual_seed(1))
    y = x.sum(-1)
    task = RegressionTask(Regression(scale), x, y)
    fabric = make_fabric(cfg)
    return Trainer(cfg, RunDir(tmp), task, _data(x, y, stop_at=stop_at), fabric)


CFG = dict(
    epochs=3,
    lr=1e-2,
    warmup_epochs=1,
    accelerator="cpu",
    precision="32-true",
    checkpoint_every_steps=3,
    log_every_steps=1,
)


def test_schedule_warms_up_then_decays_to_zero():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = one_cycle_cosine(opt, total_steps=100, warmup_steps=5)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1 / 6) and lrs[5] == pytest.approx(1.0)
    assert all(a < b for a, b in itertools.pairwise(lrs[:6]))
    assert lrs[50] == pytest.approx(0.5 * (1 + math.cos(math.pi * 45 / 95)))
    assert lrs[-1] < 1e-3


def test_resume_after_interruption_gives_identical_weights(tmp_path: Path):
    cfg = TrainConfig(**CFG)
    full = _trainer(tmp_path / "full", cfg)
    full.fit()

    broken = _trainer(tmp_path / "resumed", cfg, stop_at=(1, 7))  # dies mid-epoch 2
    with pytest.raises(StopAfter):
        broken.fit()
    ckpt_path = tmp_path / "resumed" / "checkpoints" / "last.safetensors"
    ckpt = load_checkpoint(ckpt_path)
    assert (ckpt.meta["epoch"], ckpt.meta["step_in_epoch"]) == (1, 5)  # global step 15

    resumed = _trainer(tmp_path / "resumed", cfg)
    resumed.restore(ckpt, str(ckpt_path))
    resumed.fit()
    for (name, a), b in zip(
        full.task.model.state_dict().items(), resumed.task.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert resumed.progress.history == full.progress.history
    assert (tmp_path / "full" / "checkpoints" / "best.safetensors").exists()


def test_non_finite_loss_stops_with_clear_error(tmp_path: Path):
    trainer = _trainer(tmp_path, TrainConfig(**CFG), scale=float("nan"))
    with pytest.raises(TrainingError, match="became nan"):
        trainer.fit()


def test_checkpoint_roundtrip_and_errors(tmp_path: Path):
    model = Regression()
    opt = torch.optim.AdamW(model.parameters())
    model((torch.randn(2, 4), torch.randn(2)))[0].backward()
    opt.step()
    path = tmp_path / "c.safetensors"
    save_checkpoint(
        path, Checkpoint(model=model.state_dict(), meta={"a": 1}, optimizer=opt.state_dict())
    )
    back = load_checkpoint(path)
    assert back.meta == {"a": 1}
    opt2 = torch.optim.AdamW(Regression().parameters())
    opt2.load_state_dict(back.optimizer)
    assert torch.equal(
        opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"]
    )

    other = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Dropout(), torch.nn.Linear(32, 1))
    wrapped = Regression()
    wrapped.net = other
    with pytest.raises(CheckpointError, match="another model size"):
        load_model_tensors(wrapped, back.model, path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x80\x04not a checkpoint")
    with pytest.raises(CheckpointError, match=r"junk\.safetensors"):
        load_checkpoint(junk)


def test_adamw_is_fused_on_cuda_and_takes_the_same_steps():
    cfg = TrainConfig(lr=1e-2, weight_decay=0.001)
    torch.manual_seed(0)
    start, grads = torch.randn(5, 3), [torch.randn(5, 3) for _ in range(3)]
    results = {}
    for device in ("cpu", "cuda"):  # the CUDA choice runs on CPU tensors here
        param = torch.nn.Parameter(start.clone())
        optimizer = adamw([param], cfg, torch.device(device))
        assert optimizer.defaults["fused"] is (True if device == "cuda" else None)
        for grad in grads:
            param.grad = grad.clone()
            optimizer.step()
        results[device] = param.detach()
    torch.testing.assert_close(results["cuda"], results["cpu"])


class ScriptedTask(RegressionTask):
    """Dev scores given per epoch, to drive the early stop."""

    def __init__(self, model, x, y, scores):
        super().__init__(model, x, y)
        self.scores = scores

    def validate(self, model, epoch):
        return {"neg_mse": self.scores[epoch - 1]}


def test_patience_stops_once_the_dev_metric_stops_rising(tmp_path: Path):
    x = torch.randn(40, 4, generator=torch.Generator().manual_seed(1))
    scores = [1.0, 3.0, 2.0, 2.5, 9.0, 9.0]  # best at epoch 2, then two without a new best
    runs = {}
    for patience in (0, 2):
        cfg = TrainConfig(**{**CFG, "epochs": 6, "patience": patience})
        task = ScriptedTask(Regression(), x, x.sum(-1), scores)
        trainer = Trainer(cfg, RunDir(tmp_path / str(patience)), task, _data(x, x.sum(-1)),
                          make_fabric(cfg))  # fmt: skip
        runs[patience] = trainer.fit()
    assert [h["epoch"] for h in runs[2].history] == [1, 2, 3, 4]
    assert (runs[2].best_epoch, runs[2].best_metric) == (2, 3.0)
    assert len(runs[0].history) == 6 and runs[0].best_epoch == 5
    with pytest.raises(ConfigError, match=r"train\.patience"):
        TrainConfig(patience=-1)
