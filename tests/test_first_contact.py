"""A new user's first steps (issue 19): copied templates, presets, override errors, the
stage-2 LM, the stage a command trains, and what a run folder stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from sign2gpt.cli import main
from sign2gpt.config import apply_overrides, load_config
from sign2gpt.errors import ConfigError
from sign2gpt.run_config import load_run_config

REPO_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


# ---- item 1: `base:` resolves wherever the copy lives ----------------------------------------


def test_a_copied_template_finds_its_base_by_name(tmp_path):
    copy = tmp_path / "elsewhere" / "my-corpus.yaml"
    copy.parent.mkdir()
    shutil.copy(REPO_CONFIGS / "template" / "translate.yaml", copy)
    merged = load_config(copy)
    assert merged["model"]["decoder"]["d_model"] == 2048  # from phoenix14t/translate
    assert merged["data"]["format"] == "manifest"  # the template's own keys win


@pytest.mark.parametrize("base", ["phoenix14t/translate", "phoenix14t/translate.yaml"])
def test_a_shipped_config_name_works_as_base(tmp_path, base):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"base": base, "name": "mine"}), encoding="utf-8")
    merged = load_config(path)
    assert merged["name"] == "mine" and merged["train"]["devices"] == 2


def test_a_relative_base_next_to_the_file_is_still_preferred(tmp_path):
    (tmp_path / "phoenix14t").mkdir()
    (tmp_path / "phoenix14t" / "translate.yaml").write_text("name: local\n", encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text("base: phoenix14t/translate.yaml\n", encoding="utf-8")
    assert load_config(path) == {"name": "local"}


def test_an_unknown_base_names_both_places_looked_in(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("base: nowhere/else\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml: base 'nowhere/else' is neither a file"):
        load_config(path)


# ---- item 3: a preset given later wins over the base's explicit sizes -----------------------


def test_a_preset_in_a_child_config_replaces_the_base_sizes(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump({"base": "phoenix14t/translate", "model": {"preset": "tiny"},
                        "data": {"root": str(tmp_path)}}),
        encoding="utf-8",
    )  # fmt: skip
    cfg = load_run_config(path)
    assert cfg.model.spatial.vit.dim == 32 and cfg.model.decoder.d_model == 32
    assert cfg.stage == "translate"  # plain keys of the base (stage) are inherited


def test_a_preset_override_replaces_the_files_sizes_but_later_overrides_apply(tmp_path):
    data = {"model": {"preset": "synth", "spatial": {"vit": {"dim": 96}}, "stage": "pretrain"}}
    out = apply_overrides(data, ["model.preset=tiny", "model.decoder.vocab_size=99"])
    assert out["model"] == {"preset": "tiny", "stage": "pretrain", "decoder": {"vocab_size": 99}}


# ---- item 18: override errors name the override; one key separator -------------------------


def _tiny_config(tmp_path: Path, **extra) -> Path:
    path = tmp_path / "my.yaml"
    config = {"model": {"preset": "tiny"}, "data": {"root": str(tmp_path)},
              "out_dir": str(tmp_path / "runs"), **extra}  # fmt: skip
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epochs=ten", r"^override 'train.epochs=ten': expected an integer"),
        ("train.epochz=3", r"^override 'train.epochz=3': unknown key 'epochz'"),
        ("model.spatial.out_dim=big", r"^override 'model.spatial.out_dim=big': expected an int"),
    ],
)
def test_an_override_error_names_the_override(tmp_path, override, message):
    with pytest.raises(ConfigError, match=message):
        load_run_config(_tiny_config(tmp_path), [override])


@pytest.mark.parametrize(
    ("section", "value", "where"),
    [
        ("train", {"epochs": "ten"}, "train.epochs"),
        ("model", {"preset": "tiny", "stage": "ten"}, "model.stage"),
        ("data", {"root": ".", "batch_size": "ten"}, "data.batch_size"),
    ],
)
def test_file_errors_use_one_separator_in_every_section(tmp_path, section, value, where):
    path = _tiny_config(tmp_path, **{section: value})
    with pytest.raises(ConfigError, match=rf"^.*my\.yaml:{where}: "):
        load_run_config(path)


def test_data_check_override_error_names_the_override(tmp_path, capsys):
    path = _tiny_config(tmp_path)
    assert main(["data", "check", "-c", str(path), "data.batch_size=many"]) == 2
    err = capsys.readouterr().err
    assert "override 'data.batch_size=many': expected an integer" in err


# ---- item 4: a small LM for stage 2, and vocab_size read from it -----------------------------


def test_lm_train_writes_a_folder_that_stage_two_configs_size_themselves_from(tmp_path, capsys):
    text = tmp_path / "train.txt"
    text.write_text("am tag scheint die sonne\nmorgen regnet es im norden\n", encoding="utf-8")
    out = tmp_path / "lm"
    args = ["lm", "train", "--text", str(text), "--out", str(out), "--preset", "tiny",
            "--epochs", "1", "--vocab-size", "100"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"model.decoder.pretrained={out}" in printed
    from sign2gpt.models.tokenizer import TextTokenizer

    size = TextTokenizer.load(out).vocab_size
    assert size < 100
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"preset": "tiny", "decoder": {"pretrained": str(out)}},
        "data": {"root": str(tmp_path)}, "text": {},
    }), encoding="utf-8")  # fmt: skip
    assert load_run_config(config).model.decoder.vocab_size == size  # not the preset's 64
    assert load_run_config(config, ["model.decoder.vocab_size=64"]).model.decoder.vocab_size == 64
    from sign2gpt.train.builders import build_model

    build_model(load_run_config(config))  # the LM's weights fit the derived size


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--out": "FILE"}, "--out is a file"),
        ({"--text": "missing.txt"}, "missing.txt: text file does not exist"),
        ({"--epochs": "0"}, "--epochs must be >= 1"),
        ({"--vocab-size": "3"}, "--vocab-size must be at least 8"),
    ],
)
def test_lm_train_checks_its_options_before_any_work(tmp_path, capsys, change, message):
    text = tmp_path / "train.txt"
    text.write_text("ein satz\n", encoding="utf-8")
    (tmp_path / "FILE").write_text("x", encoding="utf-8")
    options = {"--text": str(text), "--out": str(tmp_path / "lm")}
    options.update({k: str(tmp_path / v) if k in ("--out", "--text") else v
                    for k, v in change.items()})  # fmt: skip
    assert main(["lm", "train", *[x for kv in options.items() for x in kv]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "lm").exists()


# ---- item 2: a starter config that runs on a CPU as it is; warnings for untrained giants ----


def test_the_cpu_starter_config_is_cpu_sized_and_warns_about_nothing(tmp_path):
    from sign2gpt.models.config import untrained_paper_parts
    from sign2gpt.models.sign2gpt import Sign2GPT

    copy = tmp_path / "my-cpu.yaml"
    shutil.copy(REPO_CONFIGS / "template" / "cpu.yaml", copy)
    cfg = load_run_config(copy)
    train = cfg.train
    assert (train.accelerator, train.devices, train.strategy, train.precision) == (
        "cpu", 1, "auto", "32-true"
    )
    assert cfg.data.num_workers <= 1 and cfg.data.format == "manifest"
    assert cfg.model.decoder.pretrained == tmp_path.cwd() / "lm"  # relative to the cwd
    assert untrained_paper_parts(cfg.model) == []
    params = sum(p.numel() for p in Sign2GPT(cfg.model).parameters())
    assert params < 20_000_000, params  # the template's paper model: 1.77 B


def test_the_gpu_template_warns_that_its_paper_sized_parts_are_untrained(tmp_path):
    from sign2gpt.models.config import untrained_paper_parts

    copy = tmp_path / "my.yaml"
    shutil.copy(REPO_CONFIGS / "template" / "translate.yaml", copy)
    warnings = untrained_paper_parts(load_run_config(copy).model)
    assert len(warnings) == 2
    assert "model.spatial.pretrained is null" in warnings[0] and "ViT-S/14" in warnings[0]
    assert "model.decoder.pretrained is null" in warnings[1] and "lm train" in warnings[1]
    pretrained = load_run_config(copy, ["model.spatial.pretrained=d.pth", "model.stage=pretrain"])
    assert untrained_paper_parts(pretrained.model) == []  # stage 1 has no decoder


@pytest.mark.slow  # one real stage-1 step of the small model: ~15 s on 2 idle cores
def test_pretrain_with_the_cpu_starter_config_runs_as_it_is(tmp_path, monkeypatch, capsys):
    from conftest import make_video_manifest

    monkeypatch.chdir(tmp_path)
    make_video_manifest(tmp_path / "data" / "my-corpus")  # the config's data.root
    copy = tmp_path / "my-cpu.yaml"
    shutil.copy(REPO_CONFIGS / "template" / "cpu.yaml", copy)
    # Only the corpus layout and the length of the run differ from the file as shipped.
    assert main(["pretrain", "-c", str(copy), "data.manifest=manifest.csv", "train.epochs=1",
                 "data.num_workers=0"]) == 0  # fmt: skip
    assert "warning" not in capsys.readouterr().err
    assert (tmp_path / "runs" / "latest" / "checkpoints" / "best.safetensors").is_file()
