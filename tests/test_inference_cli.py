"""The inference commands (translate, localize, evaluate) as a user runs them: shared options
validated before any work, devices, frame rates from the container, input order and ids, strict
checkpoints, output paths checked first, and one clear line for each bad input.

The checkpoints are tiny random-weight models saved as training saves them (no training)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from conftest import clip_frames, write_png_frames, write_tiny_run_config, write_video
from sign2gpt.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from sign2gpt.cli import main
from sign2gpt.config import to_dict
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.run_config import load_run_config
from sign2gpt.text import PseudoGlossVocab
from sign2gpt.train.checkpointing import checkpoint_tensors


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
    from sign2gpt.train_config import TrainConfig

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


# ---- translate: input order, ids, frame rates, bad inputs --------------------------------


def test_translate_keeps_input_order_and_ids_are_the_paths(checkpoints, videos, capsys):
    inputs = [videos / n for n in ("long.mp4", "frames", "a.mp4", "mid.mp4", "a.avi")]
    inputs += [videos / "x", videos / "y"]  # folders: their videos, x/v.mp4 and y/v.mp4
    argv = ["translate", "--checkpoint", str(checkpoints["stage2"]), *map(str, inputs)]
    code, out, err = _run(capsys, [*argv, "--beams", "1", "--max-new-tokens", "2"])
    expected = [str(p) for p in inputs[:5]]
    expected += [str(videos / "x" / "v.mp4"), str(videos / "y" / "v.mp4")]
    assert code == 0 and not err, err
    assert [line.split("\t")[0] for line in out] == expected, "input order, ids = paths as given"

    code, out, _ = _run(capsys, [*argv, "--json", "--beams", "1", "--max-new-tokens", "2"])
    records = [json.loads(line) for line in out]
    assert code == 0 and [r["video"] for r in records] == expected
    assert all("pseudo_glosses" in r for r in records), "the stage-1 init gives the spans"

    figure = videos.parent / "loc.png"
    for path in inputs[:2]:
        code, out, _ = _run(capsys, ["localize", "--checkpoint", str(checkpoints["stage1"]),
                                     str(path), "--out", str(figure), "--json"])  # fmt: skip
        assert code == 0 and json.loads(out[0])["video"] == str(path), "the same id everywhere"


def _last_end(spans: list[dict]) -> float:
    assert spans, "the low threshold marks every pseudo-gloss"
    return max(s["end"] for s in spans)


def test_seconds_follow_the_container_frame_rate(checkpoints, videos, capsys, tmp_path):
    figure = str(tmp_path / "loc.svg")
    ends = {}
    for name, extra in (("slow.mp4", []), ("fast.mp4", []), ("fast.mp4", ["--fps", "25"])):
        argv = ["localize", "--checkpoint", str(checkpoints["stage2"]), str(videos / name),
                "--out", figure, "--json", "--threshold", "0.01", *extra]  # fmt: skip
        code, out, _ = _run(capsys, argv)
        assert code == 0
        ends[(name, *extra)] = _last_end(json.loads(out[0])["pseudo_glosses"])
    assert ends[("fast.mp4",)] == pytest.approx(ends[("slow.mp4",)] / 2), "50 fps: half the time"
    assert ends[("fast.mp4", "--fps", "25")] == pytest.approx(ends[("slow.mp4",)]), "--fps wins"

    argv = ["translate", "--checkpoint", str(checkpoints["stage2"]), "--json", "--beams", "1",
            "--max-new-tokens", "1", "--threshold", "0.01"]  # fmt: skip
    code, out, _ = _run(capsys, [*argv, str(videos / "slow.mp4"), str(videos / "fast.mp4")])
    slow, fast = (_last_end(json.loads(line)["pseudo_glosses"]) for line in out)
    assert code == 0 and fast == pytest.approx(slow / 2)


def test_frame_folders_and_unknown_rates_are_25_fps(videos):
    from sign2gpt.data.sources import frame_rate

    assert frame_rate(videos / "frames") == 25.0
    assert frame_rate(videos / "fast.mp4") == 50.0


def _lines_about(name: str, err: list[str], caplog) -> list[str]:
    """Every line a user sees about `name`: stderr and log records (pytest captures logs)."""
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return [line for line in err + logged if name in line]


def test_bad_inputs_are_one_line_each_and_fail_the_exit_status(
    checkpoints, videos, tmp_path, capsys, caplog
):
    (tmp_path / "empty").mkdir()
    (tmp_path / "x.mp4").mkdir()  # an empty folder named like a video
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "images0001.png").write_bytes(b"not a png")
    (broken / "images0002.png").write_bytes(b"")
    argv = ["translate", "--checkpoint", str(checkpoints["stage2"]), "--beams", "1",
            "--max-new-tokens", "1"]  # fmt: skip
    for bad, problem in (
        ("empty", "holds no videos"),
        ("x.mp4", "holds no videos"),
        ("broken", "cannot decode image"),
        ("missing.mp4", "does not exist"),
    ):
        caplog.clear()
        code, out, err = _run(capsys, [*argv, str(tmp_path / bad)])
        assert code == 1 and not out, "nothing translated is a failure"
        about = _lines_about(bad, err, caplog)
        assert len(about) == 1 and problem in about[0], about
        assert not any("every sample" in r.getMessage() for r in caplog.records)

    caplog.clear()
    good = videos / "a.mp4"
    mixed = [str(good), str(broken), str(good), str(videos / "mid.mp4")]
    code, out, err = _run(capsys, [*argv, *mixed])
    assert code == 1, "a failure among good videos fails the exit status"
    assert [line.split("\t")[0] for line in out] == [str(good), str(videos / "mid.mp4")]
    assert len(_lines_about("broken", err, caplog)) == 1
    assert any("given more than once" in line for line in _lines_about(str(good), err, caplog))
    assert err[-1] == "2 translated, 1 failed"


# ---- strict checkpoints and output paths --------------------------------------------------


def test_checkpoint_missing_tensors_is_an_error_naming_them(
    checkpoints, videos, tmp_path, capsys
):
    ckpt = load_checkpoint(checkpoints["stage2"])
    assert "decoder.model.embed_tokens.weight" not in ckpt.model, "the frozen LM is by path"
    damaged = tmp_path / "damaged.safetensors"
    kept = {k: v for k, v in ckpt.model.items() if not k.startswith(("spatial.", "sign_encoder."))}
    save_checkpoint(damaged, Checkpoint(model=kept, meta=ckpt.meta))
    argv = ["translate", "--checkpoint", str(damaged), str(videos / "a.mp4")]
    code, out, err = _run(capsys, argv)
    assert code == 2 and not out and len(err) == 1
    assert "lacks" in err[0] and ("'sign_encoder." in err[0] or "'spatial." in err[0]), err

    extra = {**ckpt.model, "decoder.surplus": torch.zeros(1)}
    save_checkpoint(damaged, Checkpoint(model=extra, meta=ckpt.meta))
    code, _, err = _run(capsys, argv)
    assert code == 2 and "'decoder.surplus'" in err[0]


def _no_model_loading(monkeypatch):
    def refuse(*_, **__):
        raise AssertionError("the model was loaded before the output path was checked")

    monkeypatch.setattr("sign2gpt.inference.trained.load_trained", refuse)
    monkeypatch.setattr("sign2gpt.inference.evaluation.load_trained", refuse)


@pytest.mark.parametrize(
    "command, out, problem",
    [
        ("evaluate", "file/eval", "is a file"),
        ("evaluate", "file", "is a file, not a folder"),
        ("localize", "figure.txt", "unknown figure format '.txt'"),
        ("localize", "figure", "unknown figure format"),
        ("localize", "file/figure.png", "is a file"),
        ("localize", "folder.png", "is a folder"),
    ],
)
def test_output_paths_are_checked_before_any_work(
    command, out, problem, checkpoints, videos, tmp_path, capsys, monkeypatch
):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder.png").mkdir()
    _no_model_loading(monkeypatch)
    argv = [command, "--checkpoint", str(checkpoints["stage2"]), "--out", str(tmp_path / out)]
    if command == "localize":
        argv.append(str(videos / "a.mp4"))
    code, _, err = _run(capsys, argv)
    assert code == 2 and len(err) == 1 and problem in err[0], err
