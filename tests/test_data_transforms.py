"""VideoTransform: shapes, normalisation, determinism, one set of parameters per video."""

from __future__ import annotations

import pytest
import torch

from sign2gpt.data import IMAGENET_MEAN, IMAGENET_STD, DataConfig, VideoTransform

MEAN = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
STD = torch.tensor(IMAGENET_STD).view(3, 1, 1)


def config(**overrides) -> DataConfig:
    return DataConfig(root="unused", resize=32, crop=24, **overrides)


def padded_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (2, 5, 32, 32, 3) random frames; the second video has 3 real frames."""
    generator = torch.Generator().manual_seed(seed)
    frames = torch.randint(0, 256, (2, 5, 32, 32, 3), dtype=torch.uint8, generator=generator)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    frames[~mask] = 0
    return frames, mask


@pytest.mark.parametrize("train", [True, False])
def test_output_shape_dtype_and_padding(train):
    frames, mask = padded_batch()
    out = VideoTransform(config(), train=train)(frames, mask)
    assert out.shape == (2, 5, 3, 24, 24) and out.dtype == torch.float32
    assert torch.count_nonzero(out[1, 3:]) == 0  # padded frames stay zero
    assert torch.isfinite(out).all()


def test_eval_is_resize_plus_exact_centre_crop_and_imagenet_normalised():
    frames, mask = padded_batch()
    transform = VideoTransform(config(), train=False)
    out = transform(frames, mask)
    assert torch.equal(out, transform(frames, mask))  # deterministic
    crop = frames[0, 0, 4:28, 4:28].permute(2, 0, 1).float() / 255  # (3, 24, 24)
    torch.testing.assert_close(out[0, 0], (crop - MEAN) / STD)


def test_eval_resizes_frames_of_another_size_first():
    frames = torch.full((1, 2, 48, 40, 3), 128, dtype=torch.uint8)
    out = VideoTransform(config(), train=False)(frames, torch.ones(1, 2, dtype=torch.bool))
    expected = (torch.full((3, 24, 24), 128 / 255) - MEAN) / STD
    torch.testing.assert_close(out[0, 1], expected)


def test_train_uses_the_same_parameters_for_every_frame_of_a_video():
    # Every frame of a video is the same picture, so the same parameters give the same output.
    picture = torch.randint(0, 256, (32, 32, 3), dtype=torch.uint8,
                            generator=torch.Generator().manual_seed(1))
    frames = picture.expand(4, 6, 32, 32, 3).clone()
    mask = torch.ones(4, 6, dtype=torch.bool)
    out = VideoTransform(config(), train=True)(frames, mask, torch.Generator().manual_seed(0))
    assert torch.equal(out, out[:, :1].expand_as(out))
    # ... while different videos of the batch get different parameters.
    assert not torch.allclose(out[0, 0], out[1, 0])


def test_train_is_reproducible_with_a_generator_and_differs_from_eval():
    frames, mask = padded_batch()
    transform = VideoTransform(config(), train=True)
    first = transform(frames, mask, torch.Generator().manual_seed(3))
    assert torch.equal(first, transform(frames, mask, torch.Generator().manual_seed(3)))
    assert not torch.equal(first, transform(frames, mask, torch.Generator().manual_seed(4)))
    assert not torch.allclose(first, VideoTransform(config(), train=False)(frames, mask))


def test_without_spatial_augmentation_training_frames_get_the_evaluation_transform():
    frames, mask = padded_batch()
    cfg = config(spatial_augmentation=False)
    train = VideoTransform(cfg, train=True)(frames, mask, torch.Generator().manual_seed(1))
    assert torch.equal(train, VideoTransform(cfg, train=False)(frames, mask))
    augmented = VideoTransform(config(), train=True)(frames, mask, torch.Generator().manual_seed(1))
    assert not torch.allclose(augmented, train)  # the switch is what turns it off


def test_flip_mirrors_the_frame():
    cfg = DataConfig(root="unused", resize=24, crop=24, crop_scale_min=1.0, rotation_degrees=0,
                     flip_prob=1.0, color_jitter=0.0)
    frames = torch.zeros(1, 1, 24, 24, 3, dtype=torch.uint8)
    frames[..., :, :12, :] = 255  # left half white
    out = VideoTransform(cfg, train=True)(frames, torch.ones(1, 1, dtype=torch.bool))
    assert out[0, 0, 0, 12, 2] < out[0, 0, 0, 12, 21]  # now the right half is brighter


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_runs_on_gpu_like_on_cpu():
    frames, mask = padded_batch()
    transform = VideoTransform(config(), train=False)
    torch.testing.assert_close(transform(frames.cuda(), mask.cuda()).cpu(),
                               transform(frames, mask), atol=1e-4, rtol=1e-4)
