"""Pre-emption and full disks in the training loop: SIGTERM / SIGUSR1 checkpoint at the next
step boundary and stop with exit status 75; resuming gives the same weights; ENOSPC while
writing a checkpoint keeps the previous one and stops with one line. Also what `last` and
`best` hold and their file mode."""

from __future__ import annotations

import errno
import os
import signal
import stat
from pathlib import Path

import pytest
import torch

import sign2gpt.checkpoint as checkpoint_module
from sign2gpt.checkpoint import load_checkpoint
from sign2gpt.errors import CheckpointError
from sign2gpt.train.engine import Preempted, TrainingError
from sign2gpt.train.stop_signals import PREEMPTED_EXIT_STATUS
from sign2gpt.train_config import TrainConfig
from test_engine import CFG, _trainer


def _signalling_trainer(tmp: Path, cfg: TrainConfig, at: tuple[int, int], signum: int):
    """A trainer whose loader sends `signum` to this process just before batch `at`."""
    trainer = _trainer(tmp, cfg)
    inner = trainer.data.loader

    def loader(epoch, start):
        for i, batch in enumerate(inner(epoch, start), start):
            if (epoch, i) == at:
                os.kill(os.getpid(), signum)
            yield batch

    trainer.data = type(trainer.data)(trainer.data.steps_per_epoch, loader)
    return trainer


@pytest.mark.parametrize(
    ("signum", "at"),
    [(signal.SIGTERM, (1, 3)), (signal.SIGUSR1, (0, 9))],  # mid-epoch; an epoch's last batch
    ids=["SIGTERM mid-epoch", "SIGUSR1 at an epoch's end"],
)
def test_a_stop_signal_checkpoints_at_the_step_boundary_and_resume_is_exact(
    tmp_path, signum, at
):
    cfg = TrainConfig(**{**CFG, "checkpoint_every_steps": 0})
    full = _trainer(tmp_path / "full", cfg)
    full.fit()

    victim = _signalling_trainer(tmp_path / "victim", cfg, at, signum)
    with pytest.raises(Preempted, match=signal.Signals(signum).name) as stopped:
        victim.fit()
    assert stopped.value.exit_status == PREEMPTED_EXIT_STATUS == 75
    assert signal.getsignal(signum) is signal.SIG_DFL  # the handler is gone after training
    path = tmp_path / "victim" / "checkpoints" / "last.safetensors"
    ckpt = load_checkpoint(path)
    steps = victim.data.steps_per_epoch
    assert ckpt.meta["global_step"] == at[0] * steps + at[1] + 1  # the step that was running

    resumed = _trainer(tmp_path / "victim", cfg)
    resumed.restore(ckpt, str(path))
    resumed.fit()
    expected, got = full.task.model.state_dict(), resumed.task.model.state_dict()
    assert got.keys() == expected.keys()
    assert [k for k in expected if not torch.equal(expected[k], got[k])] == []
    assert resumed.progress.history == full.progress.history


class _RecordingLogger:
    """What Fabric asks of a logger, recorded."""

    def __init__(self):
        self.metrics, self.finalized = [], []

    def log_metrics(self, metrics, step=None):
        self.metrics.append(dict(metrics))

    def finalize(self, status):
        self.finalized.append(status)


def test_loggers_are_flushed_and_closed_when_a_stop_signal_ends_training(tmp_path):
    cfg = TrainConfig(**{**CFG, "checkpoint_every_steps": 0})
    victim = _signalling_trainer(tmp_path, cfg, (1, 3), signal.SIGTERM)
    logger = _RecordingLogger()
    victim.fabric._loggers = [logger]
    with pytest.raises(Preempted):
        victim.fit()
    assert logger.finalized == ["preempted"] and logger.metrics  # closed once, after logging
    finished = _trainer(tmp_path / "finished", cfg)
    finished.fabric._loggers = [logger := _RecordingLogger()]
    finished.fit()
    assert logger.finalized == ["success"]


def test_the_cli_exits_75_on_preemption(monkeypatch, capsys):
    from sign2gpt.cli import main

    def run(args):
        raise Preempted("stopped by SIGTERM at epoch 2, step 7; saved x. Continue with ...")

    monkeypatch.setattr("sign2gpt.commands.train.run", run)
    assert main(["train", "-c", "x.yaml"]) == 75
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stopped by SIGTERM" in err[0]


def test_a_full_disk_keeps_the_previous_checkpoint_and_stops_with_one_line(
    tmp_path, monkeypatch
):
    cfg = TrainConfig(**{**CFG, "checkpoint_every_steps": 4})
    trainer = _trainer(tmp_path, cfg)
    real_save, calls = checkpoint_module.save_file, []

    def save_file(tensors, filename, metadata=None):
        calls.append(filename)
        if len(calls) == 2:  # the second checkpoint: the disk is full part way
            Path(filename).write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(checkpoint_module, "save_file", save_file)
    with pytest.raises(TrainingError) as failed:
        trainer.fit()
    message = str(failed.value)
    assert "\n" not in message and "no space left" in message and "--resume" in message
    last = tmp_path / "checkpoints" / "last.safetensors"
    assert load_checkpoint(last).meta["global_step"] == 4  # the first one, intact
    assert not [p for p in last.parent.iterdir() if p.suffix == ".tmp"]


def test_safetensors_own_disk_full_error_is_recognised(tmp_path, monkeypatch):
    from safetensors import SafetensorError

    def save_file(tensors, filename, metadata=None):
        raise SafetensorError(
            'Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: '
            '"No space left on device" })'
        )

    monkeypatch.setattr(checkpoint_module, "save_file", save_file)
    with pytest.raises(CheckpointError, match="no space left on the device"):
        checkpoint_module.save_checkpoint(
            tmp_path / "c.safetensors", checkpoint_module.Checkpoint(model={"w": torch.ones(1)})
        )


def test_best_has_no_optimizer_state_and_checkpoints_are_world_readable(tmp_path):
    trainer = _trainer(tmp_path, TrainConfig(**CFG))
    trainer.fit()
    umask = os.umask(0)
    os.umask(umask)
    best = tmp_path / "checkpoints" / "best.safetensors"
    last = tmp_path / "checkpoints" / "last.safetensors"
    assert load_checkpoint(best).optimizer is None and load_checkpoint(best).rng == {}
    assert load_checkpoint(last).optimizer is not None and "torch" in load_checkpoint(last).rng
    for path in (best, last):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path  # 0644 under 022

