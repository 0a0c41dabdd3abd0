"""Decoded-frame cache: same samples as decoding, no decoding, stale videos fall back."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
import yaml

from conftest import clip_frames, make_phoenix_corpus, write_png_frames
from sign2gpt.cli import main
from sign2gpt.data import DataConfig, build_dataset
from sign2gpt.errors import DataError


@pytest.fixture
def cached_corpus(tmp_path, capsys):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 3, "dev": 1, "test": 1})
    data = dict(root=str(root), cache_dir=str(tmp_path / "cache"), resize=16, crop=12,
                num_workers=0)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": data}), encoding="utf-8")
    assert main(["data", "cache", "--config", str(config), "--split", "train"]) == 0
    assert "split train: cached 3 videos, 30 frames" in capsys.readouterr().out
    return DataConfig(**data), config


def test_cached_samples_equal_decoded_ones_without_decoding(cached_corpus, monkeypatch):
    cfg, _ = cached_corpus
    decoded = build_dataset(DataConfig(**{**vars(cfg), "use_cache": False}), "train")

    def no_decoding(*args):
        raise AssertionError("decoded although cached")

    cached = build_dataset(cfg, "train")
    assert cached.lengths == decoded.lengths == [5, 5, 6]
    for shift_seed in range(3):  # the random temporal shift picks the same frames
        torch.manual_seed(shift_seed)
        expected = [s.frames for s in decoded]
        torch.manual_seed(shift_seed)
        with monkeypatch.context() as patch:
            patch.setattr("sign2gpt.data.dataset.read_selected_frames", no_decoding)
            got = [s.frames for s in cached]
        assert all(torch.equal(x, y) for x, y in zip(got, expected, strict=True))


def test_changed_video_is_decoded_from_source_with_a_warning(cached_corpus, caplog):
    cfg, _ = cached_corpus
    folder = Path(cfg.root) / "features" / "fullFrame-210x260px" / "train" / "train_video_1"
    write_png_frames(folder, clip_frames(14, seed=1))  # 10 -> 14 frames
    with caplog.at_level(logging.WARNING):
        dataset = build_dataset(cfg, "train", augment=False)
    assert "1 video(s) changed since the cache was built" in caplog.text
    assert dataset.lengths == [5, 7, 6] and len(dataset[1].frames) == 7


def test_rebuilding_replaces_the_old_data_file(cached_corpus, tmp_path):
    _, config = cached_corpus
    assert main(["data", "cache", "--config", str(config), "--split", "train"]) == 0
    assert len(list((tmp_path / "cache").glob("train.*.u8"))) == 1


def test_cache_for_other_sizes_is_ignored(cached_corpus, caplog):
    cfg, _ = cached_corpus
    with caplog.at_level(logging.WARNING):
        dataset = build_dataset(DataConfig(**{**vars(cfg), "resize": 20}), "train")
    assert dataset.cache is None and "cache was built for other settings" in caplog.text
    assert dataset[0].frames.shape[1:] == (20, 20, 3)


def test_cache_needs_a_cache_dir(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": {"root": str(tmp_path)}}), encoding="utf-8")
    assert main(["data", "cache", "--config", str(config)]) == 2
    assert "set data.cache_dir" in capsys.readouterr().err
    with pytest.raises(DataError):
        build_dataset(DataConfig(root=str(tmp_path)), "train")


def test_workers_read_the_cache(cached_corpus):
    import dataclasses

    from sign2gpt.data import build_dataloader

    cfg = dataclasses.replace(cached_corpus[0], num_workers=2, batch_size=2)
    dataset = build_dataset(cfg, "train")
    loader = build_dataloader(dataset, train=True, seed=0)
    for epoch in range(2):
        loader.batch_sampler.set_epoch(epoch)
        ids = sorted(i for batch in loader for i in batch.ids)
        assert ids == ["train_video_0", "train_video_1", "train_video_2"]
