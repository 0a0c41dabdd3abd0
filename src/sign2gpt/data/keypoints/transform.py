"""Batch transform of keypoint clips: normalise each clip, then augment it (training).

Normalisation centres every clip on the mean midpoint of its shoulders and divides by their
mean distance, over the frames where both are detected: the signer's place and size in the
picture go, their movement stays. A clip without shoulders uses its detected joints' centre
and a third of their extent instead. Undetected joints (confidence 0) come out all zero.
"""

from __future__ import annotations

import math

import torch

from sign2gpt.data.config import DataConfig
from sign2gpt.data.keypoints.layout import LEFT_SHOULDER, PARTS, RIGHT_SHOULDER
from sign2gpt.data.transforms import VideoTransform
from sign2gpt.errors import ConfigError

HANDS = (PARTS["left_hand"], PARTS["right_hand"])


def normalise_clips(joints: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Joints (B, T, J, 3) in pixels + mask (B, T) -> normalised (B, T, J, 3)."""
    xy, conf = joints[..., :2], joints[..., 2]
    seen = (conf > 0) & mask[..., None]  # (B, T, J)
    both = seen[..., LEFT_SHOULDER] & seen[..., RIGHT_SHOULDER]  # (B, T)
    left, right = xy[..., LEFT_SHOULDER, :], xy[..., RIGHT_SHOULDER, :]
    frames = both.sum(1).clamp(min=1)[:, None]  # (B, 1)
    centre = (((left + right) / 2) * both[..., None]).sum(1) / frames  # (B, 2)
    scale = ((left - right).norm(dim=-1) * both).sum(1) / frames[:, 0]  # (B,)
    # Fallback for clips without shoulders: the detected joints' centre and extent.
    weights = seen[..., None].float()
    count = weights.sum((1, 2)).clamp(min=1)
    fallback_centre = (xy * weights).sum((1, 2)) / count
    big = torch.finfo(xy.dtype).max
    low = torch.where(seen[..., None], xy, big).amin((1, 2))
    high = torch.where(seen[..., None], xy, -big).amax((1, 2))
    fallback_scale = ((high - low).max(-1).values / 3).clamp(min=0)
    has = both.any(1)
    centre = torch.where(has[:, None], centre, fallback_centre)
    scale = torch.where(has & (scale > 0), scale, fallback_scale)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    out = (xy - centre[:, None, None]) / scale[:, None, None, None]
    return torch.cat([out, conf[..., None]], -1) * seen[..., None]


class PoseTransform:
    """Float joints (B, T, J, 3) + mask (B, T) -> normalised (and, training, augmented) joints.

    Args:
        cfg: data config (`keypoint_augmentation`, `spatial_augmentation`).
        train: random augmentation (unless `cfg.spatial_augmentation` is off).
    """

    def __init__(self, cfg: DataConfig, train: bool):
        self.cfg = cfg
        self.train = train and cfg.spatial_augmentation

    def __call__(
        self, frames: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        if frames.dtype == torch.uint8 or frames.dim() != 4 or frames.size(-1) != 3:
            raise ConfigError(
                "model.spatial.kind is 'pose' but the corpus gives video frames: point it at "
                "keypoint files (.pose, .npz, OpenPose JSON folders; `sign2gpt pose extract` "
                "writes them)"
            )
        frames = frames.float()
        if self.train:
            frames = self._time_warp(frames, mask, generator)
        joints = normalise_clips(frames, mask)
        if self.train:
            joints = self._augment(joints, generator)
        return joints * mask[..., None, None]

    def _uniform(self, shape, low, high, generator, device) -> torch.Tensor:
        return (low + (high - low) * torch.rand(shape, generator=generator)).to(device)

    def _time_warp(self, frames, mask, generator) -> torch.Tensor:
        """Resample each clip (nearest frame) along a random monotone warp of its time."""
        width = self.cfg.keypoint_augmentation.time_warp
        if width == 0:
            return frames
        batch, time = mask.shape
        c = self._uniform((batch, 1), -width, width, generator, frames.device)
        length = mask.sum(1, keepdim=True).clamp(min=2)  # (B, 1)
        u = torch.arange(time, device=frames.device)[None].float() / (length - 1)
        u = u.clamp(max=1.0)
        index = ((u + c * u * (1 - u)) * (length - 1)).round().long()  # (B, T)
        index = torch.where(mask, index, torch.arange(time, device=frames.device)[None])
        return frames.gather(1, index[..., None, None].expand_as(frames))

    def _augment(self, joints, generator) -> torch.Tensor:
        """Rotation, scale and shift per clip; joint and hand dropout per frame."""
        aug = self.cfg.keypoint_augmentation
        batch, time, num_joints, _ = joints.shape
        device = joints.device
        angle = self._uniform(batch, -aug.rotation_degrees, aug.rotation_degrees, generator,
                              device) * (math.pi / 180)  # fmt: skip
        scale = self._uniform(batch, 1 - aug.scale, 1 + aug.scale, generator, device)
        shift = self._uniform((batch, 2), -aug.shift, aug.shift, generator, device)
        cos, sin = angle.cos() * scale, angle.sin() * scale
        matrix = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        xy = torch.einsum("bij,btkj->btki", matrix, joints[..., :2]) + shift[:, None, None]
        keep = self._uniform((batch, time, num_joints), 0, 1, generator, device) >= (
            aug.joint_dropout
        )
        for hand in HANDS:
            hand_kept = self._uniform((batch, time, 1), 0, 1, generator, device) >= (
                aug.hand_dropout
            )
            keep[..., hand] &= hand_kept
        keep &= joints[..., 2] > 0
        return torch.cat([xy, joints[..., 2:]], -1) * keep[..., None]


def batch_transforms(cfg: DataConfig, kind: str) -> tuple:
    """(training, evaluation) transforms for the model's input: pixels (`vit`) or joints."""
    if kind == "pose":
        return PoseTransform(cfg, train=True), PoseTransform(cfg, train=False)
    return VideoTransform(cfg, train=True), VideoTransform(cfg, train=False)
