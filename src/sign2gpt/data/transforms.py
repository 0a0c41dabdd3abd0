"""Batch video augmentation in torch (CPU or GPU), one set of random parameters per video.

Training: random resized crop + small rotation + horizontal flip, done as ONE affine warp
(`affine_grid` + `grid_sample`) per video, then colour jitter (brightness, contrast,
saturation). Evaluation: resize to `resize` and centre crop `crop`. Both end with ImageNet
normalisation. Every frame of a video uses the same parameters, so a clip stays coherent;
padded frames are not processed and stay zero.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sign2gpt.data.config import DataConfig
from sign2gpt.errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_ASPECT_RANGE = (3 / 4, 4 / 3)  # random resized crop aspect ratios (as torchvision's default)
_LUMA = (0.299, 0.587, 0.114)


class VideoTransform:
    """uint8 (B, T, H, W, 3) + mask (B, T) -> float (B, T, 3, S, S), ImageNet-normalised.

    Args:
        cfg: data config (resize, crop, augmentation strengths).
        train: random augmentation (True, unless `cfg.spatial_augmentation` is off) or
            resize + centre crop (False).
    """

    def __init__(self, cfg: DataConfig, train: bool):
        self.cfg = cfg
        self.train = train

    def __call__(
        self, frames: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Transform a padded batch.

        Args:
            frames: uint8 (B, T, H, W, 3).
            mask: bool (B, T), True on real frames.
            generator: CPU generator for the random parameters (training only).
        """
        if frames.dtype != torch.uint8:
            raise ConfigError(
                "the corpus gives keypoints, not video frames: they need model.spatial.kind: pose"
            )
        batch, time = mask.shape
        size = self.cfg.crop
        video_of, frame_of = mask.nonzero(as_tuple=True)  # (N,), (N,) real frames only
        x = frames[video_of, frame_of].permute(0, 3, 1, 2).float().div_(255)  # (N, 3, H, W)
        if self.train and self.cfg.spatial_augmentation:
            theta, colour = self._random_params(batch, generator)
            theta = theta.to(x.device)[video_of]  # (N, 2, 3)
            grid = F.affine_grid(theta, [len(x), 3, size, size], align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
            x = _color_jitter(x, colour.to(x.device)[video_of])
        else:
            x = _resize_centre_crop(x, self.cfg.resize, size)
        mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
        x = (x - mean) / std
        out = x.new_zeros((batch, time, 3, size, size))  # (B, T, 3, S, S)
        out[video_of, frame_of] = x
        return out

    def _random_params(
        self, batch: int, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per video: an affine matrix (B, 2, 3) and colour factors (B, 3)."""
        cfg = self.cfg

        def uniform(low: float, high: float) -> torch.Tensor:
            return low + (high - low) * torch.rand(batch, generator=generator)

        # Random resized crop: area fraction and aspect ratio -> crop half-extent in [-1, 1]
        # coordinates (full frame = 1), clamped to fit, centre anywhere it fits.
        area = uniform(cfg.crop_scale_min, 1.0)
        log_ratio = uniform(math.log(_ASPECT_RANGE[0]), math.log(_ASPECT_RANGE[1]))
        half_w = torch.sqrt(area * log_ratio.exp()).clamp(max=1.0)
        half_h = torch.sqrt(area / log_ratio.exp()).clamp(max=1.0)
        centre_x = uniform(-1.0, 1.0) * (1.0 - half_w)
        centre_y = uniform(-1.0, 1.0) * (1.0 - half_h)
        angle = uniform(-cfg.rotation_degrees, cfg.rotation_degrees) * (math.pi / 180)
        flip = torch.where(torch.rand(batch, generator=generator) < cfg.flip_prob, -1.0, 1.0)
        cos, sin = angle.cos(), angle.sin()
        # input = centre + diag(half_w, half_h) @ rotation @ diag(flip, 1) @ output
        theta = torch.stack(
            [
                torch.stack([half_w * cos * flip, -half_w * sin, centre_x], dim=1),
                torch.stack([half_h * sin * flip, half_h * cos, centre_y], dim=1),
            ],
            dim=1,
        )  # (B, 2, 3)
        jitter = cfg.color_jitter
        colour = torch.stack([uniform(1 - jitter, 1 + jitter) for _ in range(3)], dim=1)
        return theta, colour


def _color_jitter(x: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Brightness, contrast, saturation; x (N, 3, H, W) in [0, 1], factors (N, 3)."""
    luma = torch.tensor(_LUMA, device=x.device).view(1, 3, 1, 1)
    brightness, contrast, saturation = (factors[:, i].view(-1, 1, 1, 1) for i in range(3))
    x = (x * brightness).clamp(0, 1)
    grey_mean = (x * luma).sum(1, keepdim=True).mean((2, 3), keepdim=True)  # (N, 1, 1, 1)
    x = ((x - grey_mean) * contrast + grey_mean).clamp(0, 1)
    grey = (x * luma).sum(1, keepdim=True)  # (N, 1, H, W)
    return ((x - grey) * saturation + grey).clamp(0, 1)


def _resize_centre_crop(x: torch.Tensor, resize: int, crop: int) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 3, crop, crop): resize to resize x resize, then the centre."""
    if x.shape[-2:] != (resize, resize):
        x = F.interpolate(x, size=(resize, resize), mode="bilinear", antialias=True,
                          align_corners=False)
    top = (resize - crop) // 2
    return x[:, :, top : top + crop, top : top + crop]
