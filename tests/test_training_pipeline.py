"""Every training command on a tiny SynthSign corpus: stage 1, stage 2, evaluate, translate,
localize; a run killed mid-epoch resumes to the same weights; DDP on 2 CPU processes."""

from __future__ import annotations

import csv
import dataclasses
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sign2gpt.checkpoint import load_checkpoint
from sign2gpt.cli import main
from sign2gpt.devices import parse_device as pick_device
from sign2gpt.inference.trained import load_trained, stage1_of
from sign2gpt.models.config import model_config_from_dict
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.run_config import load_run_config
from sign2gpt.train.builders import build_model
from sign2gpt.train.checkpointing import checkpoint_tensors
from sign2gpt.train.diagnostics import epoch_diagnostics
from sign2gpt.train.run import start_run, train_stage
from sign2gpt.train.warm_start import WarmStart, train_warm_started


def _only_run(runs: Path, prefix: str) -> Path:
    (run,) = [p for p in runs.iterdir() if p.name.startswith(prefix)]
    return run


@pytest.fixture(scope="module")
def trained_runs(tiny_synth_corpus, tiny_lm, tmp_path_factory):
    from conftest import write_tiny_run_config as tiny_run_config

    """Stage 1 then stage 2 through the CLI, as a user runs them."""
    work = tmp_path_factory.mktemp("pipeline")
    runs = work / "runs"
    # Every step logged: the per-step diagnostics are in the CSV even for a few steps.
    pre = tiny_run_config(work / "pre.yaml", "pretrain", tiny_synth_corpus, runs,
                          log_every_steps=1)  # fmt: skip
    assert main(["pretrain", "-c", str(pre)]) == 0
    stage1 = _only_run(runs, "tiny-pretrain")
    tr = tiny_run_config(work / "tr.yaml", "translate", tiny_synth_corpus, runs, lm=tiny_lm,
                         log_every_steps=1)  # fmt: skip
    init = stage1 / "checkpoints" / "best.safetensors"
    assert main(["train", "-c", str(tr), "--init", str(init), "train.epochs=1"]) == 0
    return stage1, _only_run(runs, "tiny-translate")


def test_stage_runs_write_config_logs_metrics_and_checkpoints(trained_runs):
    stage1, stage2 = trained_runs
    for run in (stage1, stage2):
        assert (run / "config.yaml").is_file()
        assert (run / "checkpoints" / "last.safetensors").is_file()
        assert (run / "checkpoints" / "best.safetensors").is_file()
        assert list((run / "logs").rglob("metrics.csv")), "CSV log missing"
        assert list((run / "logs").rglob("events.out.tfevents.*")), "TensorBoard log missing"
    pre = json.loads((stage1 / "metrics.json").read_text())
    assert pre["selection_metric"] == "gloss_f1" and len(pre["history"]) == 2
    assert {"gloss_precision", "gloss_recall", "gloss_f1"} <= set(pre["history"][0])
    tr = json.loads((stage2 / "metrics.json").read_text())
    assert {"token_accuracy", "bleu4", "rouge_l"} <= set(tr["history"][-1])
    ckpt = load_checkpoint(stage2 / "checkpoints" / "best.safetensors")
    # The frozen stand-in LM is referenced by path, not copied into the checkpoint.
    assert "decoder.model.embed_tokens.weight" not in ckpt.model
    frozen_lm = ("q_proj.weight", "fc1.weight")
    assert not any(k.startswith("decoder.") and k.endswith(frozen_lm) for k in ckpt.model)
    assert any(k.endswith("sign.gate") for k in ckpt.model)
    assert any(k.startswith("decoder.sign_proj.") for k in ckpt.model)
    # Stage 2 started from stage 1's visual weights.
    stage1_ckpt = load_checkpoint(stage1 / "checkpoints" / "best.safetensors")
    assert "spatial.proj.weight" in stage1_ckpt.model and "prototype_head.prototypes" in str(
        list(stage1_ckpt.model)
    )


def test_evaluate_translate_and_localize(trained_runs, tiny_synth_corpus, tmp_path, capsys):
    _, stage2 = trained_runs
    best = str(stage2 / "checkpoints" / "best.safetensors")
    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                best,
                "--split",
                "test",
                "--beams",
                "2",
                "--max-new-tokens",
                "5",
                "--out",
                str(tmp_path / "eval"),
                "--json",
            ]
        )
        == 0
    )
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"bleu1", "bleu4", "rouge_l", "sacrebleu_signature"} <= set(scores)
    assert scores["videos"] == 8
    hyps = (tmp_path / "eval" / "test.hyp.txt").read_text().splitlines()
    assert len(hyps) == 8

    frames = tiny_synth_corpus / "features" / "fullFrame-210x260px" / "test"
    sources = sorted(frames.iterdir())
    videos = tmp_path / "videos"
    videos.mkdir()
    for i in range(99):  # a folder of 100 videos, one of them bad
        (videos / f"clip{i:03d}").symlink_to(sources[i % len(sources)])
    (videos / "broken").mkdir()
    (videos / "broken" / "images0001.png").write_bytes(b"not a png")
    (videos / "broken" / "images0002.png").write_bytes(b"")
    code = main(["translate", "--checkpoint", best, str(videos), "--json", "--beams", "2",
                 "--max-new-tokens", "3"])  # fmt: skip
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.strip().splitlines()]
    assert code == 1 and len(lines) == 99, "the 99 good videos are translated, the bad reported"
    assert "broken" in out.err and "99 translated, 1 failed" in out.err
    assert all("pseudo_glosses" in line and "seconds" in line for line in lines)

    figure = tmp_path / "loc.png"
    video = sources[0]
    assert main(["localize", "--checkpoint", best, str(video), "--out", str(figure)]) == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run / "checkpoints" / "last.safetensors").model


@pytest.mark.parametrize("stage", ["pretrain", "translate"])
def test_killed_run_resumes_to_the_same_weights(
    stage, tiny_synth_corpus, tiny_lm, tiny_run_config, tmp_path
):
    runs = tmp_path / "runs"
    lm = tiny_lm if stage == "translate" else None
    cfg_path = tiny_run_config(
        tmp_path / "run.yaml", stage, tiny_synth_corpus, runs, lm=lm, epochs=4,
        checkpoint_every_steps=1, bleu_every=4,
    )  # fmt: skip
    reference = start_run(load_run_config(cfg_path, ["name=reference"]))
    train_stage(load_run_config(cfg_path), reference)

    victim = start_run(load_run_config(cfg_path, ["name=victim"]))
    last = victim.checkpoint("last")
    code = (
        "import sys; from sign2gpt.train.run import train_stage; "
        "from sign2gpt.run_config import load_run_config; from sign2gpt.train.run_dir "
        "import RunDir; train_stage(load_run_config(sys.argv[1]), RunDir(sys.argv[2]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(cfg_path), str(victim.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    step = 0
    while time.time() < deadline and proc.poll() is None:
        if last.is_file():
            step = load_checkpoint(last).meta["global_step"]
            if step >= 3:  # inside the second epoch (2 batches per epoch)
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    meta = load_checkpoint(last).meta
    assert 0 < meta["global_step"] < 8, "the kill must land before the run finished"
    command = "pretrain" if stage == "pretrain" else "train"
    assert main([command, "--resume", str(victim.root)]) == 0
    resumed, expected = _weights(victim.root), _weights(reference.root)
    assert resumed.keys() == expected.keys()
    for name in expected:
        assert torch.equal(resumed[name], expected[name]), name


def test_ddp_on_two_cpu_processes_keeps_replicas_identical(
    tiny_synth_corpus, tiny_run_config, tmp_path
):
    cfg_path = tiny_run_config(
        tmp_path / "pre.yaml", "pretrain", tiny_synth_corpus, tmp_path / "runs", epochs=1
    )
    cfg = load_run_config(
        cfg_path, ["train.strategy=ddp_spawn", "train.devices=2", "data.batch_size=2"]
    )
    progress = train_stage(cfg, start_run(cfg))
    assert len(progress.replica_checksums) == 2
    assert progress.replica_checksums[0] == progress.replica_checksums[1]
    assert progress.global_step == 2  # 8 videos, batch 2 per rank, 2 ranks


def test_sign_z2gpt_trains_on_extracted_features(
    trained_runs, tiny_synth_corpus, tiny_lm, tiny_run_config, tmp_path, capsys
):
    stage1, _ = trained_runs
    init = str(stage1 / "checkpoints" / "best.safetensors")
    for split in ("train", "dev"):
        assert main(["extract", "--checkpoint", init, "--split", split, "--out",
                     str(tmp_path / "z")]) == 0  # fmt: skip
    index = json.loads((tmp_path / "z" / "train.json").read_text())
    assert len(index["videos"]) == 8 and index["dim"] == 32
    runs = tmp_path / "runs"
    cfg = tiny_run_config(tmp_path / "z.yaml", "translate", tiny_synth_corpus, runs, lm=tiny_lm)
    args = ["train", "-c", str(cfg), f"features={tmp_path / 'z'}", "model.freeze_visual=true",
            "train.epochs=1"]  # fmt: skip
    assert main(args) == 2  # without --init the checkpoint's visual side is not the features'
    assert "--init" in capsys.readouterr().err
    assert main([*args, "--init", init]) == 0
    z_best = _only_run(runs, "tiny-translate") / "checkpoints" / "best.safetensors"
    trained = load_trained(z_best)
    trainable = {n for n, p in trained.model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("decoder.") for n in trainable)
    assert "decoder.sign_proj.linear.weight" in trainable
    with pytest.raises(SystemExit):
        main(["extract", "--checkpoint", init])  # --split and --out are required

    # End to end from the Sign(Z)2GPT run: `init` gives its adapters as well as the visual side.
    e2e_cfg = dataclasses.replace(load_run_config(cfg), init=str(z_best))
    started = build_model(e2e_cfg).state_dict()
    assert all(torch.equal(started[k], v) for k, v in trained.model.state_dict().items())


def test_warm_start_trains_sign_z2gpt_then_end_to_end(
    trained_runs, tiny_synth_corpus, tiny_lm, tiny_run_config, tmp_path
):
    stage1, _ = trained_runs
    path = tiny_run_config(tmp_path / "tr.yaml", "translate", tiny_synth_corpus,
                           tmp_path / "runs", lm=tiny_lm, epochs=1)  # fmt: skip
    init = str(stage1 / "checkpoints" / "best.safetensors")
    cfg = dataclasses.replace(load_run_config(path), init=init)
    epochs = WarmStart(z_epochs=2, end_to_end_epochs=1, end_to_end_lr=cfg.train.lr / 7)
    z_run, run = train_warm_started(cfg, tmp_path / "z", epochs)
    z_cfg = load_run_config(z_run.config_path)
    assert z_cfg.model.freeze_visual and z_cfg.features == str(tmp_path / "z")
    assert z_cfg.init == init and z_cfg.train.epochs == 2 and z_cfg.train.lr == cfg.train.lr
    end_to_end = load_run_config(run.config_path)
    assert end_to_end.init == str(z_run.checkpoint("best")) and not end_to_end.features
    assert end_to_end.train.epochs == 1 and end_to_end.train.lr == cfg.train.lr / 7
    warm, trained = load_trained(z_run.checkpoint("best")), load_trained(run.checkpoint("best"))
    warm_state, state = warm.model.state_dict(), trained.model.state_dict()
    moved = [k for k in state if not torch.equal(state[k], warm_state[k])]
    assert any(k.startswith("sign_encoder.") for k in moved)  # the visual side trains now
    assert stage1_of(trained).path == Path(init)  # found through the Sign(Z)2GPT run


def test_frozen_stage1_adapters_are_checkpointed_beside_a_pretrained_backbone():
    """Sign(Z)2GPT freezes the stage-1 spatial adapters; no pretrained file holds them."""
    cfg = model_config_from_dict({
        "preset": "tiny", "stage": "translate", "freeze_visual": True,
        "spatial": {"pretrained": "dinov2.safetensors"},  # referenced, never read here
        "decoder": {"pretrained": "lm-folder", "vocab_size": 64},
    })  # fmt: skip
    names = set(checkpoint_tensors(Sign2GPT(cfg)))
    assert {"spatial.proj.weight", "spatial.norm.running_mean"} <= names
    assert any(n.startswith("spatial.vit.") and ".lora." in n for n in names)
    assert not any(n.startswith("spatial.vit.") and ".lora." not in n for n in names)
    assert "decoder.sign_proj.linear.weight" in names
    assert "decoder.model.layers.0.self_attn.q_proj.weight" not in names


def _logged_rows(run: Path) -> list[dict[str, str]]:
    (csv_file,) = (run / "logs").rglob("metrics.csv")
    with csv_file.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_runs_log_gates_and_the_gradient_reaching_each_part(trained_runs):
    stage1, stage2 = trained_runs
    steps = [r for r in _logged_rows(stage2) if r.get("train/loss")]
    assert steps, "no training step logged"
    first = steps[0]
    parts = ("gates", "cross_attention_lora", "decoder_lora", "sign_projection", "sign_encoder",
             "spatial_lora", "spatial")  # fmt: skip
    for part in parts:
        assert float(first[f"train/grad_norm_{part}"]) >= 0.0
    # Gates start shut (stage 1 has none), so at the first step only the gates and the LM's
    # own LoRA get a gradient: nothing reaches the video side through a closed gate.
    assert float(first["train/gate_layer0"]) == 0.0
    assert float(first["train/grad_norm_gates"]) > 0.0
    assert float(first["train/grad_norm_decoder_lora"]) > 0.0
    assert float(first["train/grad_norm_cross_attention_lora"]) == 0.0
    assert float(first["train/grad_norm_sign_encoder"]) == 0.0
    opened = [r for r in steps if float(r["train/gate_layer0"]) + float(r["train/gate_layer1"]) > 0]
    assert opened and float(opened[-1]["train/grad_norm_sign_encoder"]) > 0.0
    pre_steps = [r for r in _logged_rows(stage1) if r.get("train/loss")]
    assert float(pre_steps[0]["train/grad_norm_sign_encoder"]) > 0.0
    assert not any(k.startswith("train/gate_layer") for k in pre_steps[0])
    # Each dev evaluation also scores the sentences with another video's features.
    history = json.loads((stage2 / "metrics.json").read_text())["history"]
    assert all(0.0 <= h["token_accuracy_other_video"] <= 1.0 for h in history)
    # Read back per epoch, as bench/synthsign.py reports them.
    (epoch,) = epoch_diagnostics(stage2)
    assert epoch["step"] == int(steps[-1]["step"]) and len(epoch["gates"]) == 2
    assert epoch["gates"] == [float(steps[-1][f"train/gate_layer{i}"]) for i in (0, 1)]
    assert set(epoch["grad_norm"]) == set(parts)
    assert epoch["token_accuracy_other_video"] == history[-1]["token_accuracy_other_video"]
    pre = epoch_diagnostics(stage1)
    assert [e["epoch"] for e in pre] == [1, 2] and all(e["gates"] == [] for e in pre)
    assert "sign_encoder" in pre[0]["grad_norm"] and pre[0]["token_accuracy"] is None


def test_video_reliance_is_zero_with_shut_gates_and_shows_once_they_open(trained_runs):
    from sign2gpt.synthbench.video_reliance import video_reliance

    _, stage2 = trained_runs
    trained = load_trained(stage2 / "checkpoints" / "best.safetensors")
    gates = [p for name, p in trained.model.named_parameters() if name.endswith("sign.gate")]
    with torch.no_grad():
        for gate in gates:
            gate.zero_()
    shut = video_reliance(trained, "dev")
    assert shut.tokens > 0
    assert shut.log_likelihood == shut.log_likelihood_other_video  # a shut gate adds exactly 0
    assert shut.token_accuracy == shut.token_accuracy_other_video
    with torch.no_grad():
        for gate in gates:
            gate.fill_(1.0)
    opened = video_reliance(trained, "dev")
    # The tiny model's features differ little between videos, but the scores now do.
    assert abs(opened.log_likelihood - opened.log_likelihood_other_video) > 1e-6


def test_pick_device_takes_fabric_accelerator_names():
    """`train.accelerator` values work where a device is picked (the warm start's extraction)."""
    assert pick_device("gpu") == torch.device("cuda")
    assert pick_device("cpu") == torch.device("cpu")


def test_bf16_training_keeps_the_pretrained_lm_in_bf16_with_the_same_results(
    tiny_synth_corpus, tiny_lm, tiny_run_config, tmp_path
):
    path = tiny_run_config(tmp_path / "tr.yaml", "translate", tiny_synth_corpus,
                           tmp_path / "runs", lm=tiny_lm, epochs=1)  # fmt: skip
    cast = load_run_config(path, ["train.precision=bf16-mixed", "name=cast"])
    dtypes = {n: p.dtype for n, p in build_model(cast).named_parameters()}
    assert dtypes["decoder.model.layers.0.fc1.weight"] == torch.bfloat16  # from the LM folder
    assert dtypes["decoder.model.layers.0.self_attn.q_proj.lora.A"] == torch.float32  # ours
    assert dtypes["decoder.model.embed_tokens.weight"] == torch.float32
    assert dtypes["spatial.vit.blocks.0.attn.qkv.weight"] == torch.float32  # no DINOv2 file
    fp32 = build_model(load_run_config(path)).decoder.model.layers[0].fc1.weight.dtype
    assert fp32 == torch.float32  # 32-true: nothing to cast

    # Training and validation (generation included, under autocast) as with fp32 storage.
    kept = load_run_config(path, [
        "train.precision=bf16-mixed", "train.cast_frozen_weights=false", "name=kept"])  # fmt: skip
    results = {}
    for cfg in (cast, kept):
        progress = train_stage(cfg, start_run(cfg))
        best = load_checkpoint(_only_run(tmp_path / "runs", cfg.name) / "checkpoints" /
                               "best.safetensors").model  # fmt: skip
        results[cfg.name] = progress.history, best
    assert results["cast"][0] == results["kept"][0]
    assert results["cast"][1].keys() == results["kept"][1].keys()
    assert "decoder.model.layers.0.fc1.weight" not in results["cast"][1]  # referenced, not stored
    for name, tensor in results["cast"][1].items():
        assert torch.equal(tensor, results["kept"][1][name]), name
