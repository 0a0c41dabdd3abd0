"""A training run from the command line as a user (or a SLURM job) drives it: pre-empted with
SIGTERM and continued with `--resume auto`; what the run folder stores; what is checked before
any work; one run folder for a 2-process DDP run (issue 19)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
import yaml

from sign2gpt.checkpoint import load_checkpoint
from sign2gpt.cli import main
from sign2gpt.run_config import load_run_config
from sign2gpt.train.run import RUN_DIR_ENV, start_run, train_stage
from sign2gpt.train.run_dir import RunDir, resumable_runs

SRC = Path(__file__).resolve().parents[1] / "src"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("SIGN2GPT_RUN_DIR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "sign2gpt.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )


def test_sigterm_checkpoints_exits_75_and_resume_auto_gives_the_same_weights(
    tiny_synth_corpus, tiny_run_config, tmp_path, capsys
):
    runs = tmp_path / "runs"
    cfg_path = tiny_run_config(
        tmp_path / "run.yaml", "pretrain", tiny_synth_corpus, runs, epochs=4,
        checkpoint_every_steps=1, bleu_every=4,
    )  # fmt: skip
    reference = start_run(load_run_config(cfg_path, ["name=reference"]))
    train_stage(load_run_config(cfg_path, ["name=reference"]), reference)

    proc = _cli("pretrain", "-c", str(cfg_path), "--resume", "auto")
    deadline, last = time.time() + 120, None
    while time.time() < deadline and proc.poll() is None:
        found = resumable_runs(runs, "tiny-pretrain")
        if found and load_checkpoint(found[0].checkpoint("last")).meta["global_step"] >= 3:
            last = found[0]
            break
        time.sleep(0.05)
    assert last is not None, "the run never reached step 3"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 75, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "stopped by SIGTERM" in errors[0] and "--resume" in errors[0]
    assert "starting one" in out and f"run folder: {last.root}" in out
    step = load_checkpoint(last.checkpoint("last")).meta["global_step"]
    assert 3 <= step < 8, "stopped at a step boundary before the end"
    assert (runs / "latest").resolve() == last.root.resolve()

    capsys.readouterr()
    assert main(["pretrain", "-c", str(cfg_path), "--resume", "auto"]) == 0
    assert f"continuing {last.root}" in capsys.readouterr().out
    assert len(resumable_runs(runs, "tiny-pretrain")) == 1  # no second run folder
    resumed = load_checkpoint(last.checkpoint("last")).model
    expected = load_checkpoint(reference.checkpoint("last")).model
    assert resumed.keys() == expected.keys()
    for name in expected:
        assert torch.equal(resumed[name], expected[name]), name


def test_resume_auto_picks_the_newest_run_of_the_name_and_stage(tmp_path):
    from sign2gpt.train.run import find_resumable

    runs = tmp_path / "runs"
    cfg = {"name": "x", "model": {"preset": "tiny", "stage": "translate"},
           "data": {"root": str(tmp_path)}}  # fmt: skip

    def make(folder: str, stage: str, checkpoint: bool = True) -> Path:
        run = RunDir(runs / folder)
        run.root.mkdir(parents=True)
        run.write_config(yaml.safe_dump({**cfg, "model": {**cfg["model"], "stage": stage}}))
        if checkpoint:
            run.checkpoint("last").parent.mkdir()
            run.checkpoint("last").write_bytes(b"")
        return run.root

    make("x-20240101-120000", "translate")
    newest = make("x-20240101-120000-10", "translate")  # suffix 10 after 2: numeric order
    make("x-20240101-120000-2", "translate")
    make("x-20250101-000000", "pretrain")  # newer, but stage 1 under the same name
    make("x-20260101-000000", "translate", checkpoint=False)  # nothing to resume
    make("xy-20270101-000000", "translate")  # another name
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**cfg, "out_dir": str(runs)}), encoding="utf-8")
    assert find_resumable(load_run_config(path)).root == newest


def test_paths_are_stored_absolute_so_a_run_works_from_another_folder(
    tiny_synth_corpus, tmp_path, monkeypatch
):
    work = tmp_path / "work"
    (work / "lm").mkdir(parents=True)
    (work / "init.safetensors").write_bytes(b"")
    monkeypatch.chdir(work)
    path = work / "c.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"preset": "tiny", "decoder": {"pretrained": "lm"}},
        "init": "init.safetensors", "out_dir": "runs",
        "data": {"root": "corpus", "cache_dir": "cache"},
        "text": {"glosses": "glosses", "tokenizer": "lm", "vectors": "v.bin"},
    }), encoding="utf-8")  # fmt: skip
    cfg = load_run_config(path)
    stored = yaml.safe_load(start_run(cfg).config_path.read_text())
    assert stored["init"] == str(work / "init.safetensors")
    assert stored["model"]["decoder"]["pretrained"] == str(work / "lm")
    assert stored["data"]["root"] == str(work / "corpus")
    assert stored["data"]["cache_dir"] == str(work / "cache")
    assert stored["text"] == {**stored["text"], "glosses": str(work / "glosses"),
                              "tokenizer": str(work / "lm"), "vectors": str(work / "v.bin")}
    assert (work / "runs" / "latest").resolve().parent == work / "runs"


def test_a_relative_init_still_works_for_translate_from_another_folder(
    tiny_synth_corpus, tiny_lm, tiny_run_config, tmp_path, monkeypatch, capsys
):
    """Stage 1 then stage 2 with `--init` given relative to the working folder; `translate`
    (which rebuilds the stage-1 model for the pseudo-glosses) then runs from elsewhere."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    pre = tiny_run_config(work / "pre.yaml", "pretrain", tiny_synth_corpus, Path("runs"),
                          epochs=1)  # fmt: skip
    assert main(["pretrain", "-c", str(pre)]) == 0
    stage1 = resumable_runs(work / "runs", "tiny-pretrain")[0]
    init = os.path.relpath(stage1.checkpoint("best"), work)
    tr = tiny_run_config(work / "tr.yaml", "translate", tiny_synth_corpus, Path("runs"),
                         lm=tiny_lm, epochs=1)  # fmt: skip
    assert main(["train", "-c", str(tr), "--init", init]) == 0
    stage2 = resumable_runs(work / "runs", "tiny-translate")[0]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    video = next((tiny_synth_corpus / "features" / "fullFrame-210x260px" / "test").iterdir())
    capsys.readouterr()
    code = main(["translate", "--checkpoint", str(stage2.checkpoint("best")), str(video),
                 "--json", "--beams", "1", "--max-new-tokens", "2"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert '"pseudo_glosses"' in capsys.readouterr().out


# ---- checked before any work; what is printed -----------------------------------------------


def test_a_missing_init_fails_at_once_without_a_run_folder(
    tiny_synth_corpus, tiny_lm, tiny_run_config, tmp_path, capsys
):
    runs = tmp_path / "runs"
    tr = tiny_run_config(tmp_path / "tr.yaml", "translate", tiny_synth_corpus, runs, lm=tiny_lm)
    started = time.perf_counter()
    assert main(["train", "-c", str(tr), "--init", str(tmp_path / "nope.safetensors")]) == 2
    assert time.perf_counter() - started < 2  # no data, model or Fabric set-up first
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "nope.safetensors: init checkpoint" in err
    assert "run folder" not in out and not runs.exists()


def test_a_set_up_failure_prints_no_run_folder_and_leaves_none(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"preset": "tiny", "stage": "pretrain"}, "out_dir": str(tmp_path / "runs"),
        "data": {"root": str(corpus)}, "train": {"accelerator": "cpu", "precision": "32-true"},
    }), encoding="utf-8")  # fmt: skip
    assert main(["pretrain", "-c", str(path)]) == 2  # no corpus files
    out, err = capsys.readouterr()
    assert "run folder" not in out and "does not exist" in err
    assert not any((tmp_path / "runs").glob("run-*"))


def test_pretrain_with_a_translate_config_trains_stage_one(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_train_stage(cfg, run, **kwargs):
        seen["stage"] = cfg.stage
        raise KeyboardInterrupt

    monkeypatch.setattr("sign2gpt.train.run.train_stage", fake_train_stage)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "base": "phoenix14t/translate", "model": {"preset": "tiny"},
        "out_dir": str(tmp_path / "runs"), "data": {"root": str(tmp_path)},
    }), encoding="utf-8")  # fmt: skip
    assert main(["pretrain", "-c", str(path)]) == 130
    assert seen["stage"] == "pretrain"
    assert "use sign2gpt train" not in capsys.readouterr().err


def test_stage_two_without_init_says_it_trains_from_scratch(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        "sign2gpt.train.run.train_stage",
        lambda cfg, run, **kwargs: (_ for _ in ()).throw(KeyboardInterrupt),
    )
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "model": {"preset": "tiny"}, "out_dir": str(tmp_path / "runs"),
        "data": {"root": str(tmp_path)},
    }), encoding="utf-8")  # fmt: skip
    main(["train", "-c", str(path)])
    notes = [line for line in capsys.readouterr().out.splitlines() if "from scratch" in line]
    assert len(notes) == 1 and "--init" in notes[0]
    main(["train", "-c", str(path), "--init", str(path)])  # any existing file passes the check
    assert "from scratch" not in capsys.readouterr().out


# ---- item 5: DDP on one machine: one run folder ----------------------------------------------
# (The two steps a 2-process `train.strategy=ddp` run goes through are tested directly; the
# last test of this file runs a real one.)


def _pre_config(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "name": "ddp", "model": {"preset": "tiny", "stage": "pretrain"},
        "out_dir": str(tmp_path / "runs"), "data": {"root": str(tmp_path)},
    }), encoding="utf-8")  # fmt: skip
    return load_run_config(path)


def test_the_ranks_fabrics_launcher_starts_join_rank_zeros_run_folder(tmp_path, monkeypatch):
    """Fabric's DDP launcher re-runs the command for rank 1 with LOCAL_RANK=1 and the parent's
    environment: it must train into rank 0's folder, not make a second one."""
    for name in ("RANK", "LOCAL_RANK", "SLURM_PROCID", RUN_DIR_ENV):
        monkeypatch.delenv(name, raising=False)
    cfg = _pre_config(tmp_path)
    rank0 = start_run(cfg)
    assert os.environ[RUN_DIR_ENV] == str(rank0.root.resolve())
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("SLURM_PROCID", "0")  # inherited from the job step by the child
    rank1 = start_run(cfg)
    assert rank1.root.resolve() == rank0.root.resolve()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [rank0.root.name, "latest"]


class _TwoRankFabric:
    """What `_shared_run` asks of Fabric, as rank 1 of 2 sees it."""

    world_size = 2

    def __init__(self, rank0_root: Path):
        self.rank0_root = rank0_root

    def broadcast(self, obj, src=0):
        return str(self.rank0_root.resolve())


def test_a_rank_that_made_its_own_folder_drops_it_for_rank_zeros(tmp_path, monkeypatch):
    """torchrun starts every rank at once: rank 1 made a folder before it could be told."""
    from sign2gpt.train.run import _shared_run

    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    cfg = _pre_config(tmp_path)
    rank0 = start_run(cfg)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    own = start_run(cfg)
    assert own.root != rank0.root
    shared = _shared_run(_TwoRankFabric(rank0.root), own)
    assert shared.root.resolve() == rank0.root.resolve() and not own.root.exists()
    assert (tmp_path / "runs" / "latest").resolve() == rank0.root.resolve()  # rank 0's


def test_a_real_two_process_ddp_run_makes_one_folder_and_its_best_checkpoint_exists(
    tiny_synth_corpus, tiny_run_config, tmp_path
):
    """The whole path: Fabric's launcher starts rank 1 by running the command again (about
    25 s on 2 CPU cores with the tiny model)."""
    runs = tmp_path / "runs"
    config = tiny_run_config(tmp_path / "pre.yaml", "pretrain", tiny_synth_corpus, runs, epochs=1)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "sign2gpt.cli", "pretrain", "-c", str(config),
         "train.devices=2", "train.strategy=ddp"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    folders = [p for p in runs.iterdir() if p.name != "latest" and not p.name.startswith(".")]
    assert len(folders) == 1, folders
    printed = [line for line in done.stdout.splitlines() if line.startswith("run folder: ")]
    assert printed == [f"run folder: {folders[0]}"]  # rank 0 alone prints
    best = [line.removeprefix("best checkpoint: ") for line in done.stdout.splitlines()
            if line.startswith("best checkpoint: ")]  # fmt: skip
    assert len(best) == 1 and Path(best[0]).is_file() and Path(best[0]).parent.parent == folders[0]
    assert "[rank: 1]" in done.stderr  # a second process did train
