"""`sign2gpt export` and the Python API: a demo-sized model (`demo_model` in conftest.py)
leaves its run folder, and translates the same from a moved export, through `Translator`
and `sign2gpt translate --model`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from sign2gpt.cli import main
from sign2gpt.errors import CheckpointError, DataError


def corpus_videos(corpus: Path, count: int = 3) -> list[Path]:
    return sorted((corpus / "features" / "fullFrame-210x260px" / "test").iterdir())[:count]


def cli_translations(capsys, source: list[str], videos: list[Path]) -> dict[str, dict]:
    args = ["translate", *source, *map(str, videos), "--json", "--beams", "2",
            "--max-new-tokens", "6", "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [line["video"] for line in lines] == list(map(str, videos))  # ids: paths, in order
    return {line["video"]: line for line in lines}


def test_export_options_are_checked_before_any_work(demo_model, tmp_path, capsys):
    _, best = demo_model
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    assert main(["export", "--checkpoint", str(best), "--out", str(tmp_path / "taken")]) == 2
    assert "already exists and is not an empty folder" in capsys.readouterr().err
    stage1 = best.parents[2] / next(
        p.name for p in best.parents[2].iterdir() if "pretrain" in p.name
    )
    stage1_best = stage1 / "checkpoints" / "best.safetensors"
    assert main(["export", "--checkpoint", str(stage1_best), "--out", str(tmp_path / "s1")]) == 2
    assert "export needs stage 2" in capsys.readouterr().err
    assert not (tmp_path / "s1").exists()


def test_bf16_export_halves_the_weights_and_still_translates(
    demo_model, tiny_synth_corpus, tmp_path, capsys
):
    from sign2gpt import Translator

    _, best = demo_model
    fp32, bf16 = tmp_path / "fp32", tmp_path / "bf16"
    assert main(["export", "--checkpoint", str(best), "--out", str(fp32)]) == 0
    assert main(["export", "--checkpoint", str(best), "--out", str(bf16), "--dtype", "bf16"]) == 0
    capsys.readouterr()
    with safe_open(str(bf16 / "model.safetensors"), framework="pt") as handle:
        dtypes = {handle.get_tensor(k).dtype for k in handle.keys()}  # noqa: SIM118
    assert torch.bfloat16 in dtypes and torch.float32 not in dtypes
    size = {p: (p / "model.safetensors").stat().st_size for p in (fp32, bf16)}
    ratio = size[bf16] / size[fp32]
    assert 0.45 < ratio < 0.55
    result = Translator.from_pretrained(bf16, device="cpu").translate(
        corpus_videos(tiny_synth_corpus, 1)[0], num_beams=2, max_new_tokens=6
    )
    assert isinstance(result.text, str)
    # Run under autocast with matmul weights in bf16: still a translation.
    assert isinstance(
        Translator.from_pretrained(fp32, device="cpu", dtype="bf16").translate(
            corpus_videos(tiny_synth_corpus, 1)[0], num_beams=2, max_new_tokens=6
        ).text,
        str,
    )


def test_reference_pretrained_records_paths_and_sha256_instead_of_weights(
    demo_model, tmp_path, capsys
):
    from sign2gpt.inference.trained import load_trained

    work, best = demo_model
    full, ref = tmp_path / "full", tmp_path / "ref"
    assert main(["export", "--checkpoint", str(best), "--out", str(full)]) == 0
    assert main(["export", "--checkpoint", str(best), "--out", str(ref),
                 "--reference-pretrained"]) == 0  # fmt: skip
    capsys.readouterr()
    manifest = json.loads((ref / "sign2gpt.json").read_text())
    assert set(manifest["pretrained"]) == {"spatial", "decoder"}
    lm_weights = str((work / "lm" / "model.safetensors").resolve())
    assert lm_weights in manifest["pretrained"]["decoder"]["sha256"]
    with safe_open(str(ref / "model.safetensors"), framework="pt") as handle:
        keys = set(handle.keys())
    # The frozen LM is referenced, our adapters are stored.
    assert "decoder.model.embed_tokens.weight" not in keys
    assert any(k.startswith("decoder.sign_proj.") for k in keys)
    assert any(k.endswith("sign.gate") for k in keys)
    assert (ref / "model.safetensors").stat().st_size < (full / "model.safetensors").stat().st_size
    trained = load_trained(ref)
    assert trained.stage1 is not None
    # A pretrained file that changed since the export is refused by name.
    vit = work / "stand-in-vit.safetensors"
    saved = vit.read_bytes()
    try:
        vit.write_bytes(saved[:-1] + bytes([saved[-1] ^ 1]))
        with pytest.raises(CheckpointError, match="sha256 differs"):
            load_trained(ref)
    finally:
        vit.write_bytes(saved)


def test_translator_rejects_bad_inputs_with_one_line(demo_model, tmp_path):
    from sign2gpt import Translator

    _, best = demo_model
    translator = Translator.from_pretrained(best, device="cpu")
    with pytest.raises(DataError, match=r"input 0: frames must be uint8 \(T, H, W, 3\)"):
        translator.translate(np.zeros((8, 16, 16), dtype=np.uint8))
    with pytest.raises(DataError, match="input 1: 1 frame"):
        translator.translate([np.zeros((8, 16, 16, 3), np.uint8), np.zeros((1, 4, 4, 3), np.uint8)])
    with pytest.raises(DataError, match="does not exist"):
        translator.translate(str(tmp_path / "missing.mp4"))


def test_moved_export_translates_the_same_without_its_run_lm_and_vit(
    demo_model, tiny_synth_corpus, tmp_path, capsys, monkeypatch
):
    """The issue's "done when". Last in this file: it deletes the module's run folders."""
    import doctest

    import sign2gpt.inference.translator as translator_module
    from sign2gpt import Translator
    from sign2gpt.data.sources import read_all_frames

    work, best = demo_model
    videos = corpus_videos(tiny_synth_corpus)
    expected = cli_translations(capsys, ["--checkpoint", str(best)], videos)
    export = tmp_path / "export"
    assert main(["export", "--checkpoint", str(best), "--out", str(export)]) == 0
    assert "wrote" in capsys.readouterr().out

    shutil.rmtree(work)  # both run folders, the stand-in LM and the stand-in ViT
    moved = tmp_path / "elsewhere" / "my-model"
    moved.parent.mkdir()
    export.rename(moved)
    files = sorted(p.relative_to(moved).as_posix() for p in moved.rglob("*") if p.is_file())
    assert {Path(f).suffix for f in files} == {".safetensors", ".json", ".md"}
    assert {"model.safetensors", "stage1.safetensors", "sign2gpt.json", "README.md"} <= set(files)
    manifest = json.loads((moved / "sign2gpt.json").read_text())
    card = (moved / "README.md").read_text()
    for name, digest in manifest["files"].items():
        assert digest in card and name in card
    assert "license: other" in card and "dev bleu4" in card and manifest["created"] in card

    def no_pickle(*args, **kwargs):
        raise AssertionError("an exported model must load without pickle")

    monkeypatch.setattr(torch, "load", no_pickle)
    translator = Translator.from_pretrained(moved, device="cpu")
    texts = [expected[str(v)]["text"] for v in videos]
    batch = translator.translate([str(v) for v in videos], num_beams=2, max_new_tokens=6)
    assert [r.text for r in batch] == texts
    frames = [read_all_frames(v) for v in videos]
    assert [r.text for r in translator.translate(frames, num_beams=2, max_new_tokens=6)] == texts
    mixed = [videos[0], str(videos[1]), frames[2]]
    assert [r.text for r in translator.translate(mixed, num_beams=2, max_new_tokens=6)] == texts
    single = translator.translate(videos[0], num_beams=2, max_new_tokens=6)
    assert single.text == texts[0] and single.seconds > 0
    # The stage-1 head travelled along: the same pseudo-gloss spans as the checkpoint's run.
    assert [s.as_dict() for s in batch[0].glosses] == expected[str(videos[0])]["pseudo_glosses"]

    moved_cli = cli_translations(capsys, ["--model", str(moved)], videos)
    assert {k: v["text"] for k, v in moved_cli.items()} == {
        k: v["text"] for k, v in expected.items()
    }

    # evaluate --model reads the split from the data.root it was trained with; results go
    # beside the folder, which stays as exported.
    assert main(["evaluate", "--model", str(moved), "--split", "test", "--beams", "2",
                 "--max-new-tokens", "6", "--device", "cpu", "--json"]) == 0  # fmt: skip
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scores["videos"] == 8 and (moved.parent / "my-model-eval" / "test.json").is_file()
    assert sorted(p.relative_to(moved).as_posix() for p in moved.rglob("*") if p.is_file()) == files

    localization = translator.localize(videos[0])
    assert localization.probabilities.shape[1] == len(localization.words) + 1
    figure = tmp_path / "loc.png"
    localization.plot(figure)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["localize", "--model", str(moved), str(videos[0]), "--out", str(figure)]) == 0

    # The docstring examples run against this model.
    globs = {"model_dir": moved, "clip": videos[0], "frames": frames[0]}
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = finder.find(translator_module, globs=globs)
    assert sum(len(t.examples) for t in tests) >= 5
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
