"""The training loop shared by both stages, on Lightning Fabric.

Fabric gives one code path for CPU, one GPU, DDP / FSDP on several GPUs and several nodes
(torchrun or SLURM). The loop itself is ours so that checkpoints are safetensors (no pickle),
hold only what cannot be rebuilt, and resume mid-epoch to bit-identical weights:
- the batch order of an epoch depends only on (seed, epoch), so a resumed run skips exactly
  the batches it already did;
- every DataLoader gets its own generator, so creating one never draws from the global RNG;
- the global RNG states (dropout, augmentation) are saved with each checkpoint.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from lightning.fabric import Fabric
from tqdm.auto import tqdm

from sign2gpt.checkpoint import Checkpoint, save_checkpoint
from sign2gpt.devices import check_available, fabric_accelerator
from sign2gpt.errors import CheckpointError, Sign2GPTError
from sign2gpt.io import write_json
from sign2gpt.train.diagnostics import step_diagnostics, unscaling_factor
from sign2gpt.train.loaders import EpochData
from sign2gpt.train.param_groups import parameter_groups
from sign2gpt.train.run_dir import RunDir
from sign2gpt.train.schedule import one_cycle_cosine
from sign2gpt.train.stop_signals import PREEMPTED_EXIT_STATUS, StopRequest
from sign2gpt.train_config import TrainConfig


class TrainingError(Sign2GPTError):
    """Training cannot go on (non-finite loss, out of memory); the last good checkpoint stays."""


class Preempted(TrainingError):
    """A stop signal arrived; `last` was written at a step boundary (exit status 75)."""

    exit_status = PREEMPTED_EXIT_STATUS


class Task(Protocol):
    """What a stage plugs into the loop.

    `model(batch)` returns `(loss, logs)`: the loss lives in `forward` so that Fabric's
    autocast and DDP's gradient hooks see it.
    """

    model: torch.nn.Module
    selection_metric: str  # higher is better

    def validate(self, model: torch.nn.Module, epoch: int) -> dict[str, float]:
        """Evaluate on dev (runs on rank 0, unwrapped model, no grad)."""

    def checkpoint_tensors(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """The tensors a checkpoint must hold (trainable, buffers, non-pretrained frozen)."""

    def load_tensors(self, tensors: dict[str, torch.Tensor], path: str) -> None:
        """Load what `checkpoint_tensors` returned back into the model."""


@dataclass
class Progress:
    epoch: int = 0  # epoch being trained (0-based)
    step_in_epoch: int = 0  # batches of `epoch` already done
    global_step: int = 0
    best_metric: float = -math.inf
    best_epoch: int = -1
    history: list[dict[str, float]] = field(default_factory=list)
    # One parameter checksum per process after training: equal when DDP replicas agree.
    replica_checksums: list[float] = field(default_factory=list)


def adamw(
    params: list[torch.nn.Parameter] | list[dict[str, Any]], cfg: TrainConfig, device: torch.device
) -> torch.optim.AdamW:
    """The paper's AdamW. On CUDA the fused kernel: one launch per step instead of the ~900 of
    the multi-tensor default for our ~450 adapter tensors (`bench/host_ops.py`), on a step
    bound by launches. Elsewhere PyTorch's default, which our CPU benchmarks report."""
    fused = True if device.type == "cuda" else None
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)


def sync_batchnorm(model: torch.nn.Module, cfg: TrainConfig) -> torch.nn.Module:
    """`model` with its BatchNorm layers as SyncBatchNorm when `train.sync_batchnorm` is on
    and the strategy is DDP (the only one that syncs them); otherwise `model` unchanged.

    The layers are replaced in place and keep their parameters and buffers, so the optimizer
    and the checkpoint tensors stay the same objects."""
    if not (cfg.sync_batchnorm and cfg.strategy in ("ddp", "ddp_spawn")):
        return model
    return torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)


def clip_gradients(fabric: Fabric, model: Any, optimizer: Any, cfg: TrainConfig) -> None:
    """Clip by value (`train.grad_clip_value`), then by norm (`train.grad_clip`), the authors'
    order; 0 turns either off."""
    if cfg.grad_clip_value > 0:
        fabric.clip_gradients(model, optimizer, clip_val=cfg.grad_clip_value)
    if cfg.grad_clip > 0:
        fabric.clip_gradients(model, optimizer, max_norm=cfg.grad_clip)


def make_fabric(cfg: TrainConfig, loggers: list | None = None) -> Fabric:
    """Build the Fabric instance of a run (devices, strategy, precision)."""
    precision = cfg.precision
    check_available(cfg.accelerator, "train.accelerator")  # one line, not Lightning's traceback
    accelerator, devices = fabric_accelerator(cfg.accelerator, cfg.devices)
    if precision == "16-mixed" and not torch.cuda.is_available():
        precision = "bf16-mixed"  # fp16 autocast needs a GPU
    return Fabric(
        accelerator=accelerator,
        devices=devices,
        num_nodes=cfg.num_nodes,
        strategy=cfg.strategy,
        precision=precision,
        loggers=loggers,
    )


class Trainer:
    """Runs one stage: optimise `task` on `data`, validate, checkpoint, resume."""

    def __init__(
        self,
        cfg: TrainConfig,
        run: RunDir,
        task: Task,
        data: EpochData,
        fabric: Fabric,
        meta: dict[str, Any] | None = None,
    ):
        self.cfg = cfg
        self.run = run
        self.task = task
        self.data = data
        self.fabric = fabric
        self.meta = meta or {}
        self.progress = Progress()
        if not any(p.requires_grad for p in task.model.parameters()):
            raise TrainingError("the model has no trainable parameters")
        task.model = sync_batchnorm(task.model, cfg)
        groups = parameter_groups(
            task.model, cfg.weight_decay, cfg.weight_decay_on, cfg.lr, cfg.lr_scale
        )
        optimizer = adamw(groups, cfg, fabric.device)
        total = cfg.epochs * data.steps_per_epoch
        warmup = round(cfg.warmup_epochs * data.steps_per_epoch)
        self.scheduler = one_cycle_cosine(
            optimizer, total, warmup, start_lr=cfg.warmup_start_lr, final_lr=cfg.final_lr,
            peak_lr=cfg.lr,
        )
        self.model, self.optimizer = fabric.setup(task.model, optimizer)
        self.stop = StopRequest()

    # ----------------------------------------------------------------------------- state
    def state(self, resumable: bool = True) -> Checkpoint:
        """The checkpoint of now; `resumable` adds optimizer and RNG states (`last` only:
        `best` is for evaluation and sharing, and the optimizer state doubles its size)."""
        p = self.progress
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state()
        meta = {
            **self.meta,
            "epoch": p.epoch,
            "step_in_epoch": p.step_in_epoch,
            "global_step": p.global_step,
            "best_metric": p.best_metric if math.isfinite(p.best_metric) else None,
            "best_epoch": p.best_epoch,
            "history": p.history,
            "scheduler": self.scheduler.state_dict(),
            "python_rng": _jsonable_random_state(),
        }
        if not resumable:
            meta = {k: v for k, v in meta.items() if k not in ("scheduler", "python_rng")}
        return Checkpoint(
            model=self.task.checkpoint_tensors(self.task.model),
            meta=meta,
            optimizer=self.optimizer.state_dict() if resumable else None,
            rng=rng if resumable else {},
        )

    def restore(self, ckpt: Checkpoint, path: str) -> None:
        """Continue from a checkpoint written by `state()` (same config)."""
        self.task.load_tensors(ckpt.model, path)
        if ckpt.optimizer is not None:
            self.optimizer.load_state_dict(ckpt.optimizer)
        self.scheduler.load_state_dict(ckpt.meta["scheduler"])
        best = ckpt.meta.get("best_metric")
        self.progress = Progress(
            epoch=ckpt.meta["epoch"],
            step_in_epoch=ckpt.meta["step_in_epoch"],
            global_step=ckpt.meta["global_step"],
            best_metric=-math.inf if best is None else best,
            best_epoch=ckpt.meta.get("best_epoch", -1),
            history=ckpt.meta.get("history", []),
        )
        torch.set_rng_state(ckpt.rng["torch"])
        if "cuda" in ckpt.rng and torch.cuda.is_available():
            torch.cuda.set_rng_state(ckpt.rng["cuda"])
        state = ckpt.meta["python_rng"]
        random.setstate((state[0], tuple(state[1]), state[2]))

    def save(self, name: str) -> None:
        """Rank 0 writes checkpoint `name`; every rank learns whether it could (a full disk
        stops all of them with one line, instead of leaving the others at a barrier)."""
        problem = None
        if self.fabric.is_global_zero:
            try:
                save_checkpoint(self.run.checkpoint(name), self.state(resumable=name == "last"))
            except CheckpointError as exc:
                problem = str(exc)
        problem = self.fabric.broadcast(problem, src=0) if self.fabric.world_size > 1 else problem
        if problem is not None:
            raise TrainingError(
                f"{problem}. Free some space, then continue with --resume {self.run.root}"
            )

    # ------------------------------------------------------------------------------ loop
    def fit(self) -> Progress:
        status = "failed"
        try:
            with self.stop.listening():
                progress = self._fit()
            status = "success"
            return progress
        except Preempted:
            status = "preempted"
            raise
        finally:  # flush and close the CSV / TensorBoard files, also when stopped or failed
            for logger in self.fabric.loggers:
                logger.finalize(status)

    def _fit(self) -> Progress:
        cfg, p = self.cfg, self.progress
        while p.epoch < cfg.epochs:
            self._train_epoch()
            p.epoch += 1
            p.step_in_epoch = 0
            if p.epoch % cfg.validate_every == 0 or p.epoch == cfg.epochs:
                self._validate()
            self.save("last")
            if self._stalled():
                tqdm.write(f"stopping after epoch {p.epoch}: dev {self.task.selection_metric} "
                           f"did not improve in {cfg.patience} evaluations (train.patience)")
                break
            if p.epoch < cfg.epochs and self._stop_requested():
                self._preempted(saved=True)
        p.replica_checksums = self._replica_checksums()
        if len(set(p.replica_checksums)) > 1:
            raise TrainingError(f"model replicas drifted apart: checksums {p.replica_checksums}")
        return p

    def _stalled(self) -> bool:
        """`train.patience` evaluations of the selection metric in a row without a new best."""
        p, metric = self.progress, self.task.selection_metric
        if not self.cfg.patience or p.best_epoch < 0:
            return False
        since = [h for h in p.history if h["epoch"] > p.best_epoch and metric in h]
        return len(since) >= self.cfg.patience

    def _replica_checksums(self) -> list[float]:
        """Every process's sum over its trainable parameters (float64)."""
        total = sum(
            p.detach().double().sum() for p in self.task.model.parameters() if p.requires_grad
        )
        gathered = self.fabric.all_gather(torch.as_tensor(total, device=self.fabric.device))
        return [float(x) for x in gathered.reshape(-1).tolist()]

    def _train_epoch(self) -> None:
        cfg, p = self.cfg, self.progress
        self.model.train()
        batches = self.data.loader(p.epoch, p.step_in_epoch)
        bar = tqdm(
            batches,
            total=self.data.steps_per_epoch,
            initial=p.step_in_epoch,
            desc=f"epoch {p.epoch + 1}/{cfg.epochs}",
            disable=not self.fabric.is_global_zero,
            dynamic_ncols=True,
        )
        started = time.perf_counter()
        for batch in bar:
            loss, logs = self._step(batch)
            p.step_in_epoch += 1
            p.global_step += 1
            bar.set_postfix(loss=f"{loss:.4f}", lr=f"{self.scheduler.get_last_lr()[0]:.2e}")
            if p.global_step % cfg.log_every_steps == 0:
                self.fabric.log_dict(
                    {"train/loss": loss, "train/lr": self.scheduler.get_last_lr()[0], **logs},
                    step=p.global_step,
                )
            if self._stop_requested():
                bar.close()
                self._preempted(saved=False)
            if (
                cfg.checkpoint_every_steps
                and p.global_step % cfg.checkpoint_every_steps == 0
                and p.step_in_epoch < self.data.steps_per_epoch
            ):
                self.save("last")
        bar.close()
        self.fabric.log_dict({"time/epoch_s": time.perf_counter() - started}, step=p.global_step)

    def _stop_requested(self) -> bool:
        """Whether any process got a stop signal (all of them stop at the same step)."""
        return bool(self.fabric.strategy.reduce_boolean_decision(bool(self.stop), all=False))

    def _preempted(self, *, saved: bool) -> None:
        if not saved:
            self.save("last")
        p = self.progress
        raise Preempted(
            f"stopped by {self.stop.signal_name or 'a stop signal on another process'} at "
            f"epoch {p.epoch + 1}, step {p.global_step}; saved {self.run.checkpoint('last')}. "
            f"Continue with --resume {self.run.root} (or --resume auto)"
        )

    def _step(self, batch: Any) -> tuple[float, dict[str, float]]:
        try:
            return self._optimise(batch)
        except torch.cuda.OutOfMemoryError:
            raise TrainingError(
                "the GPU ran out of memory. Lower data.batch_size, model.spatial.chunk_size "
                "or data.max_frames, or set train.activation_checkpointing=true; the last good "
                f"checkpoint is {self.run.checkpoint('last')}"
            ) from None

    def _optimise(self, batch: Any) -> tuple[float, dict[str, float]]:
        loss, logs = self.model(batch)
        if not torch.isfinite(loss.detach()).all():
            raise TrainingError(
                f"the loss became {loss.item()} at epoch {self.progress.epoch + 1}, step "
                f"{self.progress.global_step + 1}; the last good checkpoint is "
                f"{self.run.checkpoint('last')}. Lower train.lr or use train.precision=32-true."
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.fabric.backward(loss)
        logs = {k: float(v) for k, v in logs.items()}
        if (self.progress.global_step + 1) % self.cfg.log_every_steps == 0:
            # Before clipping: the gradient that reaches each part (`sign2gpt.train.diagnostics`).
            scale = unscaling_factor(self.fabric.strategy.precision)
            logs.update(step_diagnostics(self.task.model, scale))
        clip_gradients(self.fabric, self.model, self.optimizer, self.cfg)
        self.optimizer.step()
        self.scheduler.step()
        return loss.item(), {f"train/{k}": v for k, v in logs.items()}

    def _validate(self) -> None:
        p = self.progress
        metrics: dict[str, float] = {}
        if self.fabric.is_global_zero:
            module = self.task.model
            module.eval()
            # Under the training precision's autocast, as Lightning validates (frozen weights
            # may be stored in bf16: `train.cast_frozen_weights`).
            with torch.no_grad(), self.fabric.autocast():
                metrics = self.task.validate(module, p.epoch)
            module.train()
        metrics = self.fabric.broadcast(metrics, src=0)
        record = {"epoch": p.epoch, "step": p.global_step, **metrics}
        p.history.append(record)
        self.fabric.log_dict({f"dev/{k}": v for k, v in metrics.items()}, step=p.global_step)
        score = metrics.get(self.task.selection_metric)
        if score is not None and score > p.best_metric:
            p.best_metric, p.best_epoch = score, p.epoch
            self.save("best")
        if self.fabric.is_global_zero:
            write_json(self.run.metrics_path, _summary(p, self.task.selection_metric))
            summary = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            tqdm.write(f"epoch {p.epoch}: {summary}")


def _summary(p: Progress, metric: str) -> dict[str, Any]:
    best = next((h for h in p.history if h["epoch"] == p.best_epoch), None)
    return {
        "selection_metric": metric,
        "best_epoch": p.best_epoch,
        "best": best,
        "history": p.history,
    }


def _jsonable_random_state() -> list:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]
