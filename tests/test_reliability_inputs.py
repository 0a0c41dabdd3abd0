"""Bad input files, each built here: one clear error that names the file and the problem.

Complements tests/test_data_pipeline.py and tests/test_data_check.py (corrupt PNG, frames of
different sizes, grayscale/RGBA, zero-frame MP4/AVI, bad Phoenix rows in `data check`); this
file covers what those do not: truncated and one-frame MP4s, long MP4s, empty frame folders,
0-byte and truncated PNGs, 16-bit frames, manifest defects through `build_dataset`, empty
splits, sentence files, checkpoints, weights, run configs and tokenizer coverage.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import torch
import yaml

from conftest import clip_frames, write_png_frames, write_video
from sign2gpt.checkpoint import Checkpoint, load_checkpoint, load_model_tensors, save_checkpoint
from sign2gpt.cli import main
from sign2gpt.data import DataConfig, build_dataset
from sign2gpt.errors import CheckpointError, ConfigError, DataError
from sign2gpt.models.config import SignEncoderConfig, ViTConfig
from sign2gpt.models.sign_encoder import SignEncoder
from sign2gpt.models.tokenizer import TextTokenizer, check_tokenizer_coverage, unknown_characters
from sign2gpt.models.vit import VisionTransformer
from sign2gpt.models.weights import load_dinov2, read_weights
from sign2gpt.run_config import load_run_config


def manifest_config(root, manifest: str = "m.csv", **overrides) -> DataConfig:
    values = dict(root=str(root), format="manifest", manifest=manifest, resize=16, crop=12,
                  num_workers=0, temporal_shift=0)
    return DataConfig(**{**values, **overrides})


def one_video_manifest(root, video: str) -> DataConfig:
    (root / "m.csv").write_text(f"video,text,split\n{video},hallo welt,train\n", encoding="utf-8")
    return manifest_config(root)


# ---- videos and frame folders --------------------------------------------------------------


def test_truncated_mp4_is_a_data_error(tmp_path):
    write_video(tmp_path / "clip.mp4", clip_frames(8))
    data = (tmp_path / "clip.mp4").read_bytes()
    (tmp_path / "clip.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"clip\.mp4: cannot (open|decode) video"):
        build_dataset(one_video_manifest(tmp_path, "clip.mp4"), "train")


def test_one_frame_mp4_is_a_data_error(tmp_path):
    write_video(tmp_path / "clip.mp4", clip_frames(1))
    with pytest.raises(DataError, match=r"clip\.mp4: clip has 1 frame\(s\); at least 2"):
        build_dataset(one_video_manifest(tmp_path, "clip.mp4"), "train")


def test_long_mp4_is_sampled_down_with_a_warning(tmp_path, caplog):
    write_video(tmp_path / "clip.mp4", clip_frames(24))
    cfg = one_video_manifest(tmp_path, "clip.mp4")
    cfg.max_frames = 4
    dataset = build_dataset(cfg, "train")
    with caplog.at_level(logging.WARNING):
        frames = dataset[0].frames
    assert frames.shape == (4, 16, 16, 3) and dataset.lengths == [4]
    assert "has 12 frames after stride 2; sampled down uniformly to 4" in caplog.text


def test_empty_frame_folder_is_a_data_error(tmp_path):
    (tmp_path / "frames" / "clip").mkdir(parents=True)
    with pytest.raises(DataError, match=r"clip: frame folder has no \.png/\.jpg/\.jpeg files"):
        build_dataset(one_video_manifest(tmp_path, "frames/clip"), "train")


@pytest.mark.parametrize("defect", ["empty file", "truncated", "16-bit"])
def test_bad_png_frame_is_a_data_error_when_decoded(tmp_path, defect):
    from PIL import Image

    folder = tmp_path / "frames" / "clip"
    write_png_frames(folder, clip_frames(4))
    frame = folder / "images0003.png"
    if defect == "empty file":
        frame.write_bytes(b"")
        message = "cannot decode image"
    elif defect == "truncated":
        frame.write_bytes(frame.read_bytes()[:60])
        message = "cannot decode image"
    else:
        Image.fromarray(np.full((16, 16), 40000, np.uint16)).save(frame)
        message = "unsupported image mode I;16"
    dataset = build_dataset(one_video_manifest(tmp_path, "frames/clip"), "train")
    with pytest.raises(DataError, match=rf"images0003\.png: {message}"):
        dataset[0]


# ---- corpus tables --------------------------------------------------------------------------

GOOD_ROW = "frames/a,hallo welt,train"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"video,split\nframes/a,train\n", r"m\.csv:1: 1 bad row.*missing column\(s\) text"),
        (b"video;text;split\nframes/a;hallo;train\n", r"m\.csv:1: .*wrong delimiter.*semicolon"),
        (f"id,video,text,split\nx,{GOOD_ROW}\nx,{GOOD_ROW}\n".encode(),
         r"m\.csv:3: .*duplicate id \(first at .*m\.csv:2\)"),
        (b"video,text,split\nframes/a,w\xe4rme,train\n", r"m\.csv:2: .*not valid UTF-8"),
        (b"video,text,split\nframes/a,  ,train\n", r"m\.csv:2: .*empty text"),
    ],
    ids=["missing column", "wrong delimiter", "duplicate ids", "not utf-8", "empty text"],
)
def test_manifest_defects_name_file_and_line(tmp_path, content, message):
    write_png_frames(tmp_path / "frames" / "a", clip_frames(4))
    (tmp_path / "m.csv").write_bytes(content)
    with pytest.raises(DataError, match=message):
        build_dataset(manifest_config(tmp_path), "train")


@pytest.mark.parametrize("content", ["video,text,split\n", f"video,text,split\n{GOOD_ROW}\n"])
def test_split_with_no_rows_is_a_data_error(tmp_path, content):
    write_png_frames(tmp_path / "frames" / "a", clip_frames(4))
    (tmp_path / "m.csv").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match="split 'dev' has no usable rows"):
        build_dataset(manifest_config(tmp_path), "dev")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin.txt", "wärme\n".encode("latin-1"), r"latin\.txt: not UTF-8 text"),
        ("blank.txt", b"\n  \n", r"blank\.txt: no sentences"),
        ("cols.csv", b"id,sentence\n1,hallo\n", r"cols\.csv: no text column"),
        ("rows.jsonl", b'{"text": "a"}\n[1, 2]\n', r"rows\.jsonl: line 2: expected a JSON obj"),
    ],
)
def test_glosses_command_rejects_bad_sentence_files(tmp_path, capsys, name, content, message):
    (tmp_path / name).write_bytes(content)
    out = tmp_path / "out"
    code = main(["glosses", "--lang", "de", "--input", str(tmp_path / name), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err
    assert not out.exists()  # nothing written


def test_score_command_rejects_non_utf8_hypotheses(tmp_path, capsys):
    (tmp_path / "hyp.txt").write_bytes("wärme\n".encode("latin-1"))
    (tmp_path / "ref.txt").write_text("wärme\n", encoding="utf-8")
    code = main(["score", "--hyp", str(tmp_path / "hyp.txt"), "--ref", str(tmp_path / "ref.txt")])
    assert code == 2 and "hyp.txt: not UTF-8 text" in capsys.readouterr().err


# ---- checkpoints and pretrained weights -----------------------------------------------------


def tiny_encoder(dim: int) -> SignEncoder:
    cfg = SignEncoderConfig(dim=dim, num_heads=4, ffn_dim=2 * dim, blocks_before=1,
                            blocks_after=1)
    return SignEncoder(cfg)


def test_checkpoint_of_another_model_size_names_the_tensor(tmp_path):
    path = tmp_path / "small.safetensors"
    save_checkpoint(path, Checkpoint(model=tiny_encoder(16).state_dict()))
    with pytest.raises(CheckpointError, match=r"small\.safetensors: tensor .* has shape \(16"
                       r".*expects \(32.*another model size"):
        load_model_tensors(tiny_encoder(32), load_checkpoint(path).model, path)


@pytest.mark.parametrize("defect", ["empty", "truncated", "foreign safetensors", "folder"])
def test_file_that_is_not_a_checkpoint(tmp_path, defect):
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    if defect == "folder":
        path.mkdir()
        message = "is a folder"
    elif defect == "foreign safetensors":
        save_file({"w": torch.zeros(2)}, str(path))
        message = "not a sign2gpt checkpoint"
    else:
        save_checkpoint(path, Checkpoint(model=tiny_encoder(16).state_dict()))
        size = 0 if defect == "empty" else path.stat().st_size // 2
        path.write_bytes(path.read_bytes()[:size])
        message = "not a readable safetensors checkpoint"
    with pytest.raises(CheckpointError, match=rf"model\.safetensors: {message}"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("w.pth", b"this is a text file", "cannot read weights"),
        ("w.safetensors", b"", "cannot read weights"),
        ("w.pth", None, "not a flat state dict of tensors"),
        ("missing.bin", ..., "weight file does not exist"),
    ],
)
def test_weight_readers_reject_non_weight_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        torch.save({"model": {"w": torch.zeros(2)}, "epoch": 3}, path)
    elif content is not ...:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=rf"{name}: {message}"):
        read_weights(path)


def test_dinov2_weights_of_another_size(tmp_path):
    small = VisionTransformer(ViTConfig(pos_embed_size=28, dim=32, depth=1, num_heads=2))
    torch.save(small.state_dict(), tmp_path / "vit.pth")
    big = VisionTransformer(ViTConfig(pos_embed_size=28, dim=64, depth=1, num_heads=2))
    with pytest.raises(CheckpointError, match=r"vit\.pth: \S+ has shape \(.*\), model needs"):
        load_dinov2(big, tmp_path / "vit.pth")


# ---- run configs ----------------------------------------------------------------------------


def write_run_config(path, **sections) -> str:
    config = {"model": {"preset": "tiny"}, "data": {"root": str(path.parent)}}
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"train": {"epochz": 3}}, r"bad\.yaml:train: unknown key 'epochz'"),
        ({"train": {"epochs": "ten"}}, r"bad\.yaml:train\.epochs: expected an integer"),
        ({"data": {"resize": 1.5}}, r"bad\.yaml:data\.resize: expected an integer"),
        ({"model": {"sign_encoder": {"dim": "big"}}}, r"bad\.yaml:model\.sign_encoder\.dim"),
        ({"outdir": "runs"}, r"bad\.yaml: unknown key 'outdir'"),
        ({"text": {"lang": "fr"}}, r"bad\.yaml:text\.lang: 'fr' is not one of"),
    ],
)
def test_run_config_errors_name_file_and_key(tmp_path, sections, message):
    path = write_run_config(tmp_path / "bad.yaml", out_dir=str(tmp_path / "runs"), **sections)
    with pytest.raises(ConfigError, match=message):
        load_run_config(path)


def test_train_command_with_bad_config_exits_2_and_writes_nothing(tmp_path, capsys):
    path = write_run_config(tmp_path / "bad.yaml", out_dir=str(tmp_path / "runs"),
                            train={"lr": "fast"})
    assert main(["train", "-c", path]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "bad.yaml:train.lr: expected a number" in err
    assert not (tmp_path / "runs").exists()


# ---- tokenizer coverage ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def german_tokenizer() -> TextTokenizer:
    return TextTokenizer.train(["morgen regnet es im norden", "am tag scheint die sonne"], 60)


def test_tokenizer_that_lacks_characters_is_reported_with_the_file(german_tokenizer):
    texts = ["morgen regnet es", "im süden regnet es", "straße süd"]
    assert unknown_characters(german_tokenizer, texts) == {"ü": 2, "ß": 1}
    with pytest.raises(DataError, match=r"train\.csv: the tokenizer cannot encode 2 character\(s"
                       r"\).*'ü' \(U\+00FC, 2x\).*'ß'.*e\.g\. in 'im süden regnet es'"):
        check_tokenizer_coverage(german_tokenizer, texts, "train.csv")


def test_tokenizer_coverage_passes_known_text_and_judges_normalised_characters(german_tokenizer):
    check_tokenizer_coverage(german_tokenizer, ["morgen regnet es", "  "], "train.csv")
    # A decomposed "a" + combining diaeresis is NFC-normalised to one unknown character.
    assert unknown_characters(german_tokenizer, ["a\u0308"]) == {"\u00e4": 1}
    chinese = TextTokenizer.train(["他 是 谁", "今 天 天 气 很 好"], 40)
    assert set(unknown_characters(chinese, ["他 想 喝 水"])) == {"想", "喝", "水"}
