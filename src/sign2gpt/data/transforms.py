"""Batch video augmentation in torch (CPU or GPU), one set of random parameters per video.

Training: random resized crop + small rotation (on a share of the videos) + horizontal flip,
done as ONE affine warp (`affine_grid` + `grid_sample`) per video, then colour jitter
(brightness, contrast, saturation, then hue, on a share of the videos) and random grayscale.
Evaluation: the centre `crop` of the `resize` frame, or the whole frame resized to `crop`
(`data.eval_resize`). Both end with ImageNet normalisation. Every frame of a video uses the
same parameters, so a clip stays coherent; padded frames are not processed and stay zero.

The authors' albumentations pipeline rotates the frame (reflecting its border) before the
crop and applies the jitter's four parts in a random order; here one warp (zero border) and
a fixed order do the same kinds of change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from sign2gpt.data.config import DataConfig
from sign2gpt.errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
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
            params = self._random_params(batch, generator)
            theta = params.theta.to(x.device)[video_of]  # (N, 2, 3)
            grid = F.affine_grid(theta, [len(x), 3, size, size], align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
            x = _color_jitter(x, params.colour.to(x.device)[video_of])
            if params.hue is not None:  # only the frames whose video gets a hue shift
                shift = params.hue.to(x.device)[video_of]
                moved = shift != 0
                x[moved] = adjust_hue(x[moved], shift[moved])
            if params.grey is not None:
                grey = params.grey.to(x.device)[video_of]
                x[grey] = _grey(x[grey])
        elif self.cfg.eval_resize == "squash":
            x = _resize(x, size)
        else:
            x = _resize_centre_crop(x, self.cfg.resize, size)
        mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
        x = (x - mean) / std
        out = x.new_zeros((batch, time, 3, size, size))  # (B, T, 3, S, S)
        out[video_of, frame_of] = x
        return out

    def _random_params(self, batch: int, generator: torch.Generator | None) -> AugmentParams:
        """Per video: an affine matrix, colour factors, hue shifts and grayscale choices.

        The draws of an option that is off (probability 1 or 0, no hue) are skipped, so the
        random stream of a config without them is the one it always had."""
        cfg = self.cfg

        def uniform(low: float, high: float) -> torch.Tensor:
            return low + (high - low) * torch.rand(batch, generator=generator)

        def chosen(prob: float) -> torch.Tensor:
            return torch.rand(batch, generator=generator) < prob

        # Random resized crop: area fraction and aspect ratio -> crop half-extent in [-1, 1]
        # coordinates (full frame = 1), clamped to fit, centre anywhere it fits.
        area = uniform(cfg.crop_scale_min, 1.0)
        log_ratio = uniform(math.log(cfg.crop_ratio_min), math.log(cfg.crop_ratio_max))
        half_w = torch.sqrt(area * log_ratio.exp()).clamp(max=1.0)
        half_h = torch.sqrt(area / log_ratio.exp()).clamp(max=1.0)
        centre_x = uniform(-1.0, 1.0) * (1.0 - half_w)
        centre_y = uniform(-1.0, 1.0) * (1.0 - half_h)
        angle = uniform(-cfg.rotation_degrees, cfg.rotation_degrees) * (math.pi / 180)
        flip = torch.where(torch.rand(batch, generator=generator) < cfg.flip_prob, -1.0, 1.0)
        jitter = cfg.color_jitter
        colour = torch.stack([uniform(1 - jitter, 1 + jitter) for _ in range(3)], dim=1)
        hue = uniform(-cfg.hue_jitter, cfg.hue_jitter) if cfg.hue_jitter > 0 else None
        if cfg.rotation_prob < 1:  # unrotated videos: angle 0
            angle = angle * chosen(cfg.rotation_prob)
        theta = _affine(half_w, half_h, centre_x, centre_y, angle, flip)
        if cfg.color_jitter_prob < 1:  # unjittered videos: factors 1, hue shift 0
            skip = ~chosen(cfg.color_jitter_prob)
            colour[skip] = 1.0
            if hue is not None:
                hue[skip] = 0.0
        grey = chosen(cfg.grayscale_prob) if cfg.grayscale_prob > 0 else None
        return AugmentParams(theta, colour, hue, grey)


@dataclass
class AugmentParams:
    """One video batch's random augmentation: affine (B, 2, 3), colour factors (B, 3), hue
    shifts (B,) or None, grayscale choices (B,) or None."""

    theta: torch.Tensor
    colour: torch.Tensor
    hue: torch.Tensor | None
    grey: torch.Tensor | None


def _affine(
    half_w: torch.Tensor, half_h: torch.Tensor, centre_x: torch.Tensor, centre_y: torch.Tensor,
    angle: torch.Tensor, flip: torch.Tensor,
) -> torch.Tensor:
    """(B, 2, 3): input = centre + diag(half_w, half_h) @ rotation @ diag(flip, 1) @ output."""
    cos, sin = angle.cos(), angle.sin()
    return torch.stack(
        [
            torch.stack([half_w * cos * flip, -half_w * sin, centre_x], dim=1),
            torch.stack([half_h * sin * flip, half_h * cos, centre_y], dim=1),
        ],
        dim=1,
    )


def _grey(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) -> the luma in all three channels."""
    luma = torch.tensor(_LUMA, device=x.device).view(1, 3, 1, 1)
    return (x * luma).sum(1, keepdim=True).expand_as(x)


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of x (N, 3, H, W) in [0, 1] by shift (N,) of the colour circle (HSV)."""
    maxc, argmax = x.max(dim=1)  # (N, H, W)
    minc = x.min(dim=1).values
    delta = maxc - minc
    safe = delta.clamp(min=1e-12)
    r, g, b = ((maxc - x[:, i]) / safe for i in range(3))  # distances from the max channel
    hue = torch.stack([b - g, 2.0 + r - b, 4.0 + g - r], dim=0).gather(0, argmax[None])[0]
    hue = torch.where(delta > 0, hue / 6.0, torch.zeros_like(hue))
    hue = (hue + shift.view(-1, 1, 1)) % 1.0
    saturation = torch.where(maxc > 0, delta / maxc.clamp(min=1e-12), torch.zeros_like(maxc))
    # HSV -> RGB: channel n in (5, 3, 1) is v - v s clamp(min(k, 4 - k), 0, 1), k = n + 6h mod 6.
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = (n + hue * 6.0) % 6.0
        channels.append(maxc - maxc * saturation * torch.minimum(k, 4.0 - k).clamp(0.0, 1.0))
    return torch.stack(channels, dim=1)


def _color_jitter(x: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Brightness, contrast, saturation; x (N, 3, H, W) in [0, 1], factors (N, 3)."""
    luma = torch.tensor(_LUMA, device=x.device).view(1, 3, 1, 1)
    brightness, contrast, saturation = (factors[:, i].view(-1, 1, 1, 1) for i in range(3))
    x = (x * brightness).clamp(0, 1)
    grey_mean = (x * luma).sum(1, keepdim=True).mean((2, 3), keepdim=True)  # (N, 1, 1, 1)
    x = ((x - grey_mean) * contrast + grey_mean).clamp(0, 1)
    grey = (x * luma).sum(1, keepdim=True)  # (N, 1, H, W)
    return ((x - grey) * saturation + grey).clamp(0, 1)


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 3, size, size), antialiased bilinear (the whole frame)."""
    if x.shape[-2:] == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                         align_corners=False)  # fmt: skip


def _resize_centre_crop(x: torch.Tensor, resize: int, crop: int) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 3, crop, crop): resize to resize x resize, then the centre."""
    x = _resize(x, resize)
    top = (resize - crop) // 2
    return x[:, :, top : top + crop, top : top + crop]
