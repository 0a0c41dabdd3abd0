"""Readers -> build_dataset -> collate -> VideoTransform, for Phoenix14T, CSL-Daily, manifests."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
import torch

from conftest import (
    CSL_TEXTS,
    PHOENIX_TEXTS,
    clip_frames,
    make_csl_daily_corpus,
    make_phoenix_corpus,
    make_video_manifest,
    write_png_frames,
    write_video,
)
from sign2gpt.config import from_dict
from sign2gpt.data import (
    DataConfig,
    VideoBatch,
    VideoTransform,
    build_dataloader,
    build_dataset,
    collate_samples,
)
from sign2gpt.errors import ConfigError, DataError


def small_config(root, **overrides) -> DataConfig:
    values = dict(root=str(root), resize=16, crop=12, num_workers=0, batch_size=2,
                  temporal_shift=0)
    values.update(overrides)
    return DataConfig(**values)


def first_channel(frames: torch.Tensor) -> list[int]:
    return frames[:, 0, 0, 0].tolist()


@pytest.fixture(params=["phoenix14t", "csl-daily", "manifest-csv", "manifest-jsonl"])
def corpus(request, tmp_path):
    """(config, expected texts of the train split) for each corpus kind."""
    if request.param == "phoenix14t":
        make_phoenix_corpus(tmp_path)
        return small_config(tmp_path), PHOENIX_TEXTS
    if request.param == "csl-daily":
        make_csl_daily_corpus(tmp_path)
        texts = ["".join(t.split()) for t in CSL_TEXTS[:2]]
        return small_config(tmp_path, format="csl-daily"), texts
    suffix = ".csv" if request.param == "manifest-csv" else ".jsonl"
    path = make_video_manifest(tmp_path, suffix)
    return small_config(tmp_path, format="manifest", manifest=path.name), PHOENIX_TEXTS[:3]


def test_every_corpus_goes_through_the_same_training_path(corpus):
    cfg, texts = corpus
    dataset = build_dataset(cfg, "train")
    assert sorted(s.text for s in dataset) == sorted(texts)
    sample = dataset[0]
    assert sample.frames.dtype == torch.uint8 and sample.frames.shape[1:] == (16, 16, 3)
    assert sample.split == "train" and sample.signer
    loader = build_dataloader(dataset, train=True, seed=0)
    batches = list(loader)
    assert sum(len(b) for b in batches) == len(dataset)
    batch = batches[0]
    assert isinstance(batch, VideoBatch)
    assert batch.frames.shape[0] == len(batch.ids) == batch.mask.shape[0]
    assert batch.lengths.tolist() == batch.mask.sum(1).tolist()
    video = VideoTransform(cfg, train=True)(batch.frames, batch.mask)
    assert video.shape == (*batch.mask.shape, 3, 12, 12) and video.dtype == torch.float32


def test_phoenix_frames_are_every_second_frame_in_order(tmp_path):
    make_phoenix_corpus(tmp_path, {"train": 2}, num_frames=9)
    sample = build_dataset(small_config(tmp_path), "train")[0]
    tint = clip_frames(1, seed=0)[0, 0, 0, 0]
    assert first_channel(sample.frames) == [8 * t + tint for t in (0, 2, 4, 6, 8)]
    assert sample.text == PHOENIX_TEXTS[0] and sample.signer == "Signer01"


def test_phoenix_release_layout_with_extra_folder_level(tmp_path):
    """PHOENIX-2014 style `<split>/<name>/1/*.png`, as the video column says."""
    make_phoenix_corpus(tmp_path, {"train": 1})
    folder = tmp_path / "features" / "fullFrame-210x260px" / "train" / "train_video_0"
    shutil.rmtree(folder)
    write_png_frames(folder / "1", clip_frames(7))
    assert len(build_dataset(small_config(tmp_path), "train")[0].frames) == 4


def test_csl_daily_text_is_joined_characters_and_signer_from_name(tmp_path):
    make_csl_daily_corpus(tmp_path)
    dataset = build_dataset(small_config(tmp_path, format="csl-daily"), "dev")
    assert [(s.id, s.text, s.signer) for s in dataset] == [("S000002_P0003_T00", "我想喝水。",
                                                          "P0003")]


def test_video_frames_decode_close_to_the_encoded_values(tmp_path):
    make_video_manifest(tmp_path)
    cfg = small_config(tmp_path, format="manifest", manifest="manifest.csv")
    sample = build_dataset(cfg, "dev")[0]  # clip3: 14 frames
    expected = clip_frames(14, seed=3)[::2, 0, 0, 0].astype(int)
    assert len(sample.frames) == 7
    assert np.abs(np.array(first_channel(sample.frames)) - expected).max() <= 6


def test_long_clip_is_sampled_down_uniformly_with_a_warning(tmp_path, caplog):
    make_phoenix_corpus(tmp_path, {"train": 1}, num_frames=40)
    dataset = build_dataset(small_config(tmp_path, max_frames=5), "train")
    with caplog.at_level(logging.WARNING):
        frames = dataset[0].frames
    assert len(frames) == 5 and dataset.lengths == [5]
    assert first_channel(frames) == clip_frames(40)[[0, 10, 20, 28, 38], 0, 0, 0].tolist()
    assert "train_video_0 has 20 frames after stride 2; sampled down uniformly to 5" in caplog.text


def test_temporal_shift_only_when_augmenting(tmp_path):
    make_phoenix_corpus(tmp_path, {"train": 1, "dev": 1}, num_frames=30)
    cfg = small_config(tmp_path, temporal_shift=4)
    train = build_dataset(cfg, "train")
    starts = []
    for epoch in range(40):
        train.set_epoch(epoch, seed=7)
        starts.append(first_channel(train[0].frames)[0] // 8)
    assert set(starts) == {0, 1, 2, 3, 4}
    # The shift depends only on (seed, epoch, index): a resumed run picks the same frames.
    train.set_epoch(3, seed=7)
    assert first_channel(train[0].frames)[0] // 8 == starts[3]
    dev = build_dataset(cfg, "dev")
    assert {first_channel(dev[0].frames)[0] // 8 for _ in range(5)} == {0}


def test_grayscale_and_rgba_frames_become_rgb(tmp_path):
    from PIL import Image

    make_phoenix_corpus(tmp_path, {"train": 1}, num_frames=4)
    folder = tmp_path / "features" / "fullFrame-210x260px" / "train" / "train_video_0"
    Image.fromarray(np.full((16, 16), 77, np.uint8), "L").save(folder / "images0001.png")
    rgba = np.dstack([np.full((16, 16, 3), 50, np.uint8), np.full((16, 16), 9, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(folder / "images0003.png")
    frames = build_dataset(small_config(tmp_path), "train")[0].frames
    assert frames.shape == (2, 16, 16, 3)
    assert frames[0].unique().tolist() == [77] and frames[1].unique().tolist() == [50]


@pytest.mark.parametrize("defect", ["one frame", "sizes differ", "corrupt png"])
def test_bad_frame_folders_raise_a_data_error_naming_the_file(tmp_path, defect):
    make_phoenix_corpus(tmp_path, {"train": 1}, num_frames=4)
    folder = tmp_path / "features" / "fullFrame-210x260px" / "train" / "train_video_0"
    if defect == "one frame":
        for extra in sorted(folder.iterdir())[1:]:
            extra.unlink()
        with pytest.raises(DataError, match=r"train_video_0.*clip has 1 frame"):
            build_dataset(small_config(tmp_path), "train")
        return
    if defect == "sizes differ":
        write_png_frames(folder, clip_frames(1, 16, 20), pattern="images0003.png")
        message = r"images0003\.png: frame size 20x16 differs"
    else:
        (folder / "images0003.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
        message = r"images0003\.png: cannot decode image"
    dataset = build_dataset(small_config(tmp_path), "train")  # only decoding finds these
    with pytest.raises(DataError, match=message):
        dataset[0]


@pytest.mark.parametrize("content", [b"", b"garbage that is not a video"])
def test_empty_or_corrupt_video_file_is_a_data_error(tmp_path, content):
    (tmp_path / "bad.mp4").write_bytes(content)
    (tmp_path / "m.csv").write_text("video,text,split\nbad.mp4,hallo,train\n", encoding="utf-8")
    cfg = small_config(tmp_path, format="manifest", manifest="m.csv")
    with pytest.raises(DataError, match=r"bad\.mp4: cannot (open|decode) video"):
        build_dataset(cfg, "train")


@pytest.mark.parametrize(("suffix", "reason"), [(".avi", "video has no frames"),
                                               (".mp4", "file has no video stream")])
def test_zero_frame_video_is_a_data_error(tmp_path, suffix, reason):
    import av

    container = av.open(str(tmp_path / f"empty{suffix}"), mode="w")
    stream = container.add_stream("mpeg4", rate=25)
    stream.width = stream.height = 16
    container.start_encoding()  # header only, no frame
    container.close()
    (tmp_path / "m.csv").write_text(f"video,text,split\nempty{suffix},hallo,train\n",
                                    encoding="utf-8")
    cfg = small_config(tmp_path, format="manifest", manifest="m.csv")
    with pytest.raises(DataError, match=rf"empty\{suffix}: {reason}"):
        build_dataset(cfg, "train")


def test_manifest_paths_cannot_leave_the_data_root(tmp_path):
    root = tmp_path / "corpus"
    write_video(tmp_path / "outside.mp4", clip_frames(6))
    outside = tmp_path / "outside.mp4"
    root.mkdir()
    (root / "m.csv").write_text(
        f"id,video,text,split\na,../outside.mp4,hallo,train\nb,{outside},hallo,train\n",
        encoding="utf-8",
    )
    cfg = small_config(root, format="manifest", manifest="m.csv")
    with pytest.raises(DataError, match="escapes the data root"):
        build_dataset(cfg, "train")
    allowed = small_config(root, format="manifest", manifest="m.csv", allow_absolute_paths=True)
    assert [s.id for s in build_dataset(allowed, "train")] == ["a", "b"]


def test_manifest_per_split_files(tmp_path):
    write_video(tmp_path / "v.webm", clip_frames(6), codec="libvpx-vp9")
    write_png_frames(tmp_path / "frames" / "f", clip_frames(4))
    (tmp_path / "dev.jsonl").write_text(
        '{"video": "v.webm", "text": "eins"}\n{"video": "frames/f", "text": "zwei"}\n',
        encoding="utf-8",
    )
    cfg = small_config(tmp_path, format="manifest", manifest="{split}.jsonl")
    dataset = build_dataset(cfg, "dev")
    assert [(s.id, len(s.frames)) for s in dataset] == [("v.webm", 3), ("frames/f", 2)]


def test_bad_rows_raise_unless_skip_bad_which_logs_each(tmp_path, caplog):
    make_phoenix_corpus(tmp_path, {"train": 3})
    shutil.rmtree(tmp_path / "features" / "fullFrame-210x260px" / "train" / "train_video_1")
    cfg = small_config(tmp_path)
    with pytest.raises(DataError, match=r"1 bad row\(s\) in split 'train'.*frame folder does not"):
        build_dataset(cfg, "train")
    with caplog.at_level(logging.WARNING):
        dataset = build_dataset(cfg, "train", skip_bad=True)
    assert [s.id for s in dataset] == ["train_video_0", "train_video_2"]
    assert "skipping bad row" in caplog.text and "train_video_1" in caplog.text


def test_skip_bad_drops_a_video_that_fails_to_decode(tmp_path, caplog):
    make_phoenix_corpus(tmp_path, {"train": 2})
    folder = tmp_path / "features" / "fullFrame-210x260px" / "train" / "train_video_1"
    (folder / "images0001.png").write_bytes(b"broken")
    dataset = build_dataset(small_config(tmp_path), "train", skip_bad=True)
    with caplog.at_level(logging.WARNING):
        batch = collate_samples([dataset[0], dataset[1]])
    assert batch.ids == ["train_video_0"]
    assert "skipping bad video train_video_1" in caplog.text


def test_collate_pads_with_zeros_and_a_mask(tmp_path):
    make_phoenix_corpus(tmp_path, {"train": 3}, num_frames=4)  # 4, 5, 6 frames -> 2, 3, 3
    dataset = build_dataset(small_config(tmp_path), "train")
    batch = collate_samples([dataset[0], dataset[2]])
    assert batch.frames.shape == (2, 3, 16, 16, 3)
    assert batch.mask.tolist() == [[True, True, False], [True, True, True]]
    assert batch.frames[0, 2].abs().sum() == 0 and batch.lengths.tolist() == [2, 3]
    moved = batch.to("cpu")
    assert moved.texts == batch.texts and torch.equal(moved.frames, batch.frames)


def test_data_config_is_validated():
    with pytest.raises(ConfigError, match=r"resize \(200\) must be at least crop"):
        from_dict(DataConfig, {"root": "x", "resize": 200, "crop": 224}, where="c.yaml:data")
    with pytest.raises(ConfigError, match="format 'manifest' needs"):
        from_dict(DataConfig, {"root": "x", "format": "manifest"}, where="c.yaml:data")
    with pytest.raises(ConfigError, match="unknown key 'frame_strid'"):
        from_dict(DataConfig, {"root": "x", "frame_strid": 2}, where="c.yaml:data")
    cfg = from_dict(DataConfig, {"root": "x"}, where="c.yaml:data")
    assert (cfg.frame_stride, cfg.max_frames, cfg.resize, cfg.crop) == (2, 256, 256, 224)
    assert (cfg.color_jitter, cfg.temporal_shift) == (0.2, 4)


def test_release_root_one_level_too_high_gets_a_hint(tmp_path):
    make_phoenix_corpus(tmp_path / "PHOENIX-2014-T", {"train": 1})
    with pytest.raises(DataError, match=r"does not exist \(set data.root to .*PHOENIX-2014-T\?\)"):
        build_dataset(small_config(tmp_path), "train")
