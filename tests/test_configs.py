"""Every shipped config loads and validates against the code (keys, types, stages); derived
training settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sign2gpt.run_config import load_run_config
from sign2gpt.train.builders import frozen_weight_dtype
from sign2gpt.train_config import TrainConfig

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
CONFIGS = sorted(CONFIG_DIR.rglob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_shipped_config_is_valid(path: Path):
    cfg = load_run_config(path)
    expected = "pretrain" if path.stem.endswith("pretrain") else "translate"
    assert cfg.stage == expected
    assert cfg.name and cfg.data.root


def test_paper_schedule_in_phoenix_config():
    cfg = load_run_config(CONFIG_DIR / "phoenix14t" / "translate.yaml")
    train = cfg.train
    assert (train.lr, train.weight_decay, train.grad_clip, train.epochs) == (3e-4, 1e-3, 1.0, 100)
    assert (train.warmup_epochs, train.label_smoothing, train.precision) == (5, 0.1, "bf16-mixed")
    assert (cfg.data.batch_size, cfg.data.frame_stride, cfg.data.max_frames) == (8, 2, 256)
    assert (train.num_beams, train.max_new_tokens) == (4, 64)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"precision": "bf16-mixed"}, torch.bfloat16),
        ({"precision": "16-mixed"}, torch.float16),
        ({"precision": "32-true"}, None),
        ({"precision": "bf16-mixed", "cast_frozen_weights": False}, None),
        ({"precision": "bf16-mixed", "strategy": "fsdp"}, None),  # one dtype per flat param
    ],
)
def test_frozen_weight_dtype_follows_precision_and_strategy(settings, expected):
    assert frozen_weight_dtype(TrainConfig(**settings)) == expected
