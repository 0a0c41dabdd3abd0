"""The authors' frame conventions as keys (issue 18, items 9-11): evaluation resize, training
augmentation parameters, temporal sampling; pinned in the paper configs and checked in effect."""

from __future__ import annotations

import colorsys
import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sign2gpt.config import from_dict
from sign2gpt.data import DataConfig, VideoTransform
from sign2gpt.data.dataset import VideoDataset
from sign2gpt.data.frames import select_frame_indices
from sign2gpt.data.transforms import adjust_hue
from sign2gpt.errors import ConfigError
from sign2gpt.run_config import load_run_config


@pytest.fixture(scope="module")
def paper() -> DataConfig:
    return load_run_config("configs/phoenix14t/translate.yaml").data


def small(cfg: DataConfig, **changes) -> DataConfig:
    return dataclasses.replace(cfg, root="unused", resize=32, crop=24, **changes)


def test_evaluation_squash_resizes_the_whole_frame(paper):
    assert paper.eval_resize == "squash" and DataConfig(root="x").eval_resize == "crop"
    generator = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (1, 2, 32, 32, 3), dtype=torch.uint8, generator=generator)
    mask = torch.ones(1, 2, dtype=torch.bool)
    squash = VideoTransform(small(paper), train=False)(frames, mask)
    whole = F.interpolate(frames[0].permute(0, 3, 1, 2).float() / 255, size=(24, 24),
                          mode="bilinear", antialias=True, align_corners=False)  # fmt: skip
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(squash[0], (whole - mean) / std)
    crop = VideoTransform(small(paper, eval_resize="crop"), train=False)(frames, mask)
    centre = frames[0, :, 4:28, 4:28].permute(0, 3, 1, 2).float() / 255
    torch.testing.assert_close(crop[0], (centre - mean) / std)


def test_paper_augmentation_parameters_are_the_authors(paper):
    # albumentations in the authors' base_video_aug.py, strength 0.2: ColorJitter 0.8 * 0.2
    # (hue 0.2 * 0.2) with p 0.3, Rotate(5, p=0.3), RandomResizedCrop((0.875, 1), (0.9, 1.1)),
    # HorizontalFlip(0.5), ToGray(0.2).
    assert paper.spatial_augmentation
    assert (paper.crop_scale_min, paper.crop_ratio_min, paper.crop_ratio_max) == (0.875, 0.9, 1.1)
    assert (paper.rotation_degrees, paper.rotation_prob, paper.flip_prob) == (5.0, 0.3, 0.5)
    assert (paper.color_jitter, paper.hue_jitter, paper.color_jitter_prob) == (0.16, 0.04, 0.3)
    assert paper.grayscale_prob == 0.2


def test_augmentation_draws_follow_the_parameters(paper):
    transform = VideoTransform(small(paper), train=True)
    n = 4000
    params = transform._random_params(n, torch.Generator().manual_seed(0))
    theta = params.theta
    half_w = theta[:, 0, :2].norm(dim=1)  # |(cos, -sin) * half_w|
    half_h = theta[:, 1, :2].norm(dim=1)
    area, ratio = half_w * half_h, half_w / half_h
    assert area.min() >= 0.875 - 1e-6 and area.max() <= 1 + 1e-6
    assert ratio.min() >= 0.9 - 1e-6 and ratio.max() <= 1.1 + 1e-6
    rotated = theta[:, 0, 1].abs() > 0
    assert rotated.float().mean().item() == pytest.approx(0.3, abs=0.03)
    angles = torch.atan2(theta[rotated, 1, 0].abs(), theta[rotated, 1, 1]) * 180 / math.pi
    assert angles.max() <= 5.0 + 1e-4
    jittered = (params.colour != 1).any(dim=1)
    assert jittered.float().mean().item() == pytest.approx(0.3, abs=0.03)
    assert params.colour.min() >= 0.84 - 1e-6 and params.colour.max() <= 1.16 + 1e-6
    assert params.hue[~jittered].abs().max() == 0 and params.hue.abs().max() <= 0.04
    assert params.grey.float().mean().item() == pytest.approx(0.2, abs=0.03)
    # The whole transform with them: shapes, finite values, padding untouched, and the grey
    # videos (all three channels equal before normalisation) are the drawn ones.
    frames = torch.randint(0, 256, (12, 3, 32, 32, 3), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(2))  # fmt: skip
    mask = torch.ones(12, 3, dtype=torch.bool)
    mask[0, 2] = False
    out = transform(frames, mask, torch.Generator().manual_seed(3))
    assert out.shape == (12, 3, 3, 24, 24) and torch.isfinite(out).all()
    assert torch.count_nonzero(out[0, 2]) == 0
    drawn = transform._random_params(12, torch.Generator().manual_seed(3)).grey
    pixels = out * torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1) + torch.tensor(
        [0.485, 0.456, 0.406]).view(3, 1, 1)  # fmt: skip
    grey = (pixels[:, :2, 0] - pixels[:, :2, 1]).abs().amax(dim=(1, 2, 3)) < 1e-5
    assert drawn.any() and torch.equal(grey, drawn)
    # Ours (the defaults) draws none of these: every video rotated and jittered, none grey.
    ours = VideoTransform(DataConfig(root="x"), train=True)._random_params(100, None)
    assert ours.hue is None and ours.grey is None and (ours.colour != 1).all()


def test_grayscale_and_hue_change_the_frames_as_specified():
    x = torch.rand(4, 3, 5, 5, generator=torch.Generator().manual_seed(1))
    shift = torch.tensor([0.0, 0.25, -0.04, 0.5])
    out = adjust_hue(x, shift)
    for i in range(4):
        for px in ((0, 0), (2, 3), (4, 1)):
            r, g, b = x[i, :, px[0], px[1]].tolist()
            h, s, v = colorsys.rgb_to_hsv(r, g, b)
            expected = colorsys.hsv_to_rgb((h + shift[i].item()) % 1.0, s, v)
            assert out[i, :, px[0], px[1]].tolist() == pytest.approx(expected, abs=1e-5)
    cfg = DataConfig(root="x", resize=8, crop=8, grayscale_prob=1.0, color_jitter=0.0,
                     rotation_degrees=0.0, flip_prob=0.0, crop_scale_min=1.0,
                     crop_ratio_min=1.0, crop_ratio_max=1.0)  # fmt: skip
    frames = torch.randint(0, 256, (1, 1, 8, 8, 3), dtype=torch.uint8)
    grey = VideoTransform(cfg, train=True)(frames, torch.ones(1, 1, dtype=torch.bool))
    unnormalised = grey[0, 0] * torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1) + torch.tensor(
        [0.485, 0.456, 0.406]).view(3, 1, 1)  # fmt: skip
    torch.testing.assert_close(unnormalised[0], unnormalised[1])
    torch.testing.assert_close(unnormalised[1], unnormalised[2])
    with pytest.raises(ConfigError, match="grayscale_prob: expected a probability"):
        from_dict(DataConfig, {"root": "x", "grayscale_prob": 1.5}, where="c.yaml:data")
    with pytest.raises(ConfigError, match="crop_ratio_min, crop_ratio_max"):
        from_dict(DataConfig, {"root": "x", "crop_ratio_min": 1.5}, where="c.yaml:data")


def test_paper_temporal_sampling_start_end_and_random_long_clips(paper):
    assert (paper.frame_stride, paper.temporal_shift, paper.end_shift) == (2, 3, 4)
    assert paper.max_frames == 256 and paper.long_clip_sampling == "random"
    train = VideoDataset(paper, [], [], augment=True)
    train.set_epoch(2, seed=1)
    shifts = [train._shifts(train._generator(i)) for i in range(400)]
    assert {s for s, _ in shifts} == {0, 1, 2, 3}  # start in [0, 3]
    assert {e for _, e in shifts} == {0, 1, 2, 3, 4}  # end in [N - 4, N] (exclusive)
    # A 100-frame clip with start 3 and 4 frames trimmed: frames 3, 5, .., 95.
    assert select_frame_indices(100, 2, 256, 3, 4).tolist() == list(range(3, 96, 2))
    assert select_frame_indices(100, 2, 256).tolist() == list(range(0, 100, 2))

    long = 700  # 350 frames after the stride, 256 kept
    evenly = select_frame_indices(long, 2, 256)
    evaluation = VideoDataset(paper, [], [], augment=False)
    picked = [select_frame_indices(long, 2, 256, generator=evaluation._generator(i))
              for i in (0, 0, 1)]  # fmt: skip
    assert len(picked[0]) == 256 and (np.diff(picked[0]) > 0).all()
    assert set(picked[0]) <= set(range(0, long, 2))
    assert not np.array_equal(picked[0], evenly)  # a random subset, not evenly spaced
    assert np.array_equal(picked[0], picked[1])  # evaluation: reproducible per video
    assert not np.array_equal(picked[0], picked[2])
    ours = DataConfig(root="x")
    assert (ours.temporal_shift, ours.end_shift, ours.long_clip_sampling) == (4, 0, "even")
