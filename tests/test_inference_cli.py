"""The inference commands (translate, localize, evaluate) as a user runs them: shared options
validated before any work, devices, frame rates from the container, input order and ids, strict
checkpoints, output paths checked first, and one clear line for each bad input.

The checkpoints are tiny random-weight models saved as training saves them (no training)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import clip_frames, write_png_frames, write_tiny_run_config, write_video
from sign2gpt.checkpoint import Checkpoint, save_checkpoint
from sign2gpt.cli import main
from sign2gpt.config import to_dict
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.text import PseudoGlossVocab
from sign2gpt.train.checkpointing import checkpoint_tensors
from sign2gpt.train.run_config import load_run_config


def _save_run(folder: Path, cfg, model: Sign2GPT, **meta) -> Path:
    path = folder / "checkpoints" / "best.safetensors"
    meta = {"config": to_dict(cfg), "stage": cfg.stage, **meta}
    save_checkpoint(path, Checkpoint(model=checkpoint_tensors(model), meta=meta))
    return path


@pytest.fixture(scope="module")
def checkpoints(tiny_synth_corpus, tiny_lm, tmp_path_factory) -> dict[str, Path]:
    """A stage-1 checkpoint (3 pseudo-glosses) and a stage-2 one initialised from it."""
    work = tmp_path_factory.mktemp("inference")
    torch.manual_seed(0)
    pre = write_tiny_run_config(work / "pre.yaml", "pretrain", tiny_synth_corpus, work / "runs")
    glosses = work / "glosses"
    PseudoGlossVocab(["wetter", "regen", "sonne"], [3, 2, 1], "de", "hanta").save(glosses)
    stage1_cfg = load_run_config(pre)
    stage1 = _save_run(
        work / "stage1", stage1_cfg, Sign2GPT(stage1_cfg.model, num_glosses=3),
        glosses=str(glosses),
    )  # fmt: skip
    tr = write_tiny_run_config(
        work / "tr.yaml", "translate", tiny_synth_corpus, work / "runs", lm=tiny_lm
    )
    stage2_cfg = load_run_config(tr, [f"init={stage1}", "data.batch_size=2"])
    model = Sign2GPT(stage2_cfg.model)
    model.load_pretrained()
    return {"stage1": stage1, "stage2": _save_run(work / "stage2", stage2_cfg, model)}


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    """Clips of different lengths; the same frames at 25 and at 50 fps."""
    folder = tmp_path_factory.mktemp("videos")
    write_video(folder / "long.mp4", clip_frames(30, seed=1))
    write_png_frames(folder / "frames", clip_frames(10, seed=2))
    write_video(folder / "mid.mp4", clip_frames(18, seed=3))
    write_video(folder / "a.mp4", clip_frames(12, seed=4))
    write_video(folder / "a.avi", clip_frames(14, seed=5))
    write_video(folder / "x" / "v.mp4", clip_frames(16, seed=6))
    write_video(folder / "y" / "v.mp4", clip_frames(20, seed=7))
    write_video(folder / "fast.mp4", clip_frames(24, seed=8), fps=50)
    write_video(folder / "slow.mp4", clip_frames(24, seed=8), fps=25)
    return folder


def _run(capsys, argv: list[str]) -> tuple[int, list[str], list[str]]:
    """Exit status, stdout lines and stderr lines of one command (argparse exits included)."""
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err.splitlines()


# ---- shared options: validated before any work (one line, exit 2) -------------------------

BAD_OPTIONS = [
    (["--beams", "0"], "--beams"),
    (["--beams", "two"], "--beams"),
    (["--max-new-tokens", "0"], "--max-new-tokens"),
    (["--device", "tpu9"], "tpu9"),
    (["--device", "cuda:x"], "cuda:x"),
]
FPS_OPTIONS = [
    (["--fps", "0"], "--fps"),
    (["--fps", "nan"], "--fps"),
    (["--threshold", "1.5"], "--threshold"),
]


@pytest.mark.parametrize(
    "command, options, named",
    [("translate", o, n) for o, n in BAD_OPTIONS + FPS_OPTIONS]
    + [("evaluate", o, n) for o, n in BAD_OPTIONS]
    + [("localize", o, n) for o, n in BAD_OPTIONS[3:] + FPS_OPTIONS],
)
def test_bad_shared_options_are_one_line_and_exit_2_before_any_work(
    command, options, named, capsys, tmp_path
):
    argv = [command, "--checkpoint", str(tmp_path / "missing.safetensors")]
    argv += {"translate": ["clip.mp4"], "localize": ["clip.mp4", "--out", "f.png"]}.get(command, [])
    code, out, err = _run(capsys, argv + options)
    assert code == 2 and not out
    assert len(err) == 1 and named in err[0], err
    assert "missing.safetensors" not in err[0], "checked before the checkpoint is opened"


def test_generation_settings_and_train_config_reject_zero_beams():
    from sign2gpt.errors import ConfigError
    from sign2gpt.generation import GenerationSettings
    from sign2gpt.train.config import TrainConfig

    with pytest.raises(ConfigError, match="num_beams must be"):
        GenerationSettings(num_beams=0)
    with pytest.raises(ConfigError, match="max_new_tokens must be"):
        GenerationSettings(max_new_tokens=True)
    with pytest.raises(ConfigError, match=r"train\.num_beams must be"):
        TrainConfig(num_beams=0)
    with pytest.raises(ConfigError, match=r"train\.accelerator: unknown device 'tpu9'"):
        TrainConfig(accelerator="tpu9")


# ---- devices ------------------------------------------------------------------------------


@pytest.fixture
def cpu_only_torch(monkeypatch):
    """This torch as a CPU-only build (whatever the machine has)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)


def test_cuda_on_a_cpu_build_is_one_line_in_every_command(
    cpu_only_torch, checkpoints, videos, tiny_synth_corpus, tmp_path, capsys
):
    stage2 = str(checkpoints["stage2"])
    clip = str(videos / "a.mp4")
    runs = tmp_path / "runs"
    config = write_tiny_run_config(tmp_path / "pre.yaml", "pretrain", tiny_synth_corpus, runs)
    for argv in (
        ["translate", "--checkpoint", stage2, clip, "--device", "cuda"],
        ["localize", "--checkpoint", stage2, clip, "--out", str(tmp_path / "f.png"),
         "--device", "cuda:0"],
        ["evaluate", "--checkpoint", stage2, "--device", "cuda"],
        ["extract", "--checkpoint", str(checkpoints["stage1"]), "--split", "dev",
         "--out", str(tmp_path / "z"), "--device", "cuda"],
        ["pretrain", "-c", str(config), "--device", "cuda"],
        ["pretrain", "-c", str(config), "train.accelerator=gpu"],
    ):  # fmt: skip
        code, _, err = _run(capsys, argv)
        assert code == 2 and len(err) == 1, (argv, err)
        assert "has no CUDA support" in err[0] and "docs/inference.md" in err[0], err
    assert not runs.exists(), "no run folder for a run that cannot start"


def test_train_device_sets_the_accelerator(tiny_synth_corpus, tmp_path, capsys, monkeypatch):
    from sign2gpt.errors import ConfigError

    seen = []

    def stop(cfg, run, **_):
        seen.append(cfg.train.accelerator)
        raise ConfigError("stopped before training")

    monkeypatch.setattr("sign2gpt.train.run.train_stage", stop)
    config = write_tiny_run_config(tmp_path / "pre.yaml", "pretrain", tiny_synth_corpus, tmp_path)
    assert main(["pretrain", "-c", str(config), "--device", "cpu"]) == 2
    assert main(["pretrain", "-c", str(config), "train.accelerator=cpu"]) == 2
    assert seen == ["cpu", "cpu"]
    code, _, err = _run(capsys, ["train", "-c", str(config), "--device", "tpu9"])
    assert code == 2 and "tpu9" in err[-1]


def test_device_names_map_to_torch_and_fabric(cpu_only_torch):
    from sign2gpt.devices import fabric_accelerator, parse_device, resolve_device
    from sign2gpt.errors import ConfigError

    assert parse_device("auto") == torch.device("cpu")
    assert parse_device("gpu") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")
    assert fabric_accelerator("cuda:1", 1) == ("cuda", [1])
    assert fabric_accelerator("cpu", 2) == ("cpu", 2)
    with pytest.raises(ConfigError, match="names one GPU"):
        fabric_accelerator("cuda:1", 2)
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("cuda1")
