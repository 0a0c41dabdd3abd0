"""The synthetic benchmark's visual stand-in: a small DINOv2-architecture ViT pretrained on
SynthSign frames to regress the body and hand positions the renderer knows and to classify
each hand's shape and the face cue (what a pose model's hand and face landmarks give), with no
gloss or text label. The result is saved in the original DINOv2 checkpoint
layout, so stage 1 loads it through the same path as `dinov2_vits14_pretrain.pth`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tqdm.auto import tqdm

from sign2gpt.data import DataConfig, VideoTransform, build_dataset
from sign2gpt.data.frames import select_frame_indices
from sign2gpt.errors import DataError
from sign2gpt.io import atomic_path
from sign2gpt.models.config import LoRAConfig, ViTConfig
from sign2gpt.models.vit import VisionTransformer
from sign2gpt.train.schedule import one_cycle_cosine

# Weight of the hand-shape / face-cue cross-entropy next to the joint loss. Measured on SynthSign
# `small`: at 0.02 the cues stayed at chance after an epoch; at 0.5 they are learnt.
CUE_WEIGHT = 0.5
OBJECTIVE = "pose regression + hand shape / face cue classification"


@dataclasses.dataclass
class ViTTraining:
    """Settings of the stand-in ViT's pose-regression pretraining."""

    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_fraction: float = 0.1
    seed: int = 0
    # Share of frames shown with a random palette (`recolour`): pose and cues do not depend
    # on colours, and the unseen signer wears a palette no training signer wears.
    recolour: float = 0.8


@dataclasses.dataclass
class PoseTargets:
    """Per-frame targets of the training frames.

    Attributes:
        joints: (N, J, 2) joint positions scaled to [0, 1].
        cues: (N, C) class of each cue (hand shapes, face), or None for a corpus without them.
        classes: number of classes of each cue column.
    """

    joints: torch.Tensor
    cues: torch.Tensor | None
    classes: list[int]


def pose_frames(data: DataConfig, split: str) -> tuple[torch.Tensor, PoseTargets]:
    """Frames (N, H, W, 3) uint8 at the corpus' temporal stride and their targets, read from
    the SynthSign `keypoints/<split>.{npy,json}` (and `<split>.cues.npy` when present)."""
    folder = Path(data.root) / "keypoints"
    index_path, rows_path = folder / f"{split}.json", folder / f"{split}.npy"
    cues_path = folder / f"{split}.cues.npy"
    if not index_path.is_file() or not rows_path.is_file():
        raise DataError(folder, f"no keypoints for split {split!r} (not a SynthSign corpus?)")
    try:
        meta = json.loads(index_path.read_text(encoding="utf-8"))
        index = meta["videos"]
        keypoints = np.load(rows_path, allow_pickle=False)  # (all frames, J, 2)
        cues = np.load(cues_path, allow_pickle=False) if cues_path.is_file() else None
        classes = [int(n) for n in meta.get("cues", {}).values()] if cues is not None else []
        params = json.loads((Path(data.root) / "synthsign.json").read_text(encoding="utf-8"))
        size = float(params["config"]["image_size"])  # keypoints are in written-frame pixels
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(folder, f"unreadable SynthSign keypoints ({exc})") from None
    if cues is not None and (cues.shape != (len(keypoints), len(classes))):
        raise DataError(cues_path, f"has shape {cues.shape}, expected ({len(keypoints)}, "
                                   f"{len(classes)})")  # fmt: skip
    dataset = build_dataset(data, split, augment=False, progress=False)
    frames, rows = [], []
    for i, record in enumerate(dataset.records):
        if record.id not in index:
            raise DataError(index_path, f"has no keypoints for video {record.id!r}")
        first, count = index[record.id]
        picked = select_frame_indices(count, data.frame_stride, data.max_frames)
        frames.append(dataset[i].frames)
        rows.append(first + picked)
    picked = np.concatenate(rows)
    targets = PoseTargets(
        joints=torch.from_numpy(keypoints[picked]) / size,
        cues=None if cues is None else torch.from_numpy(cues[picked].astype(np.int64)),
        classes=classes,
    )
    return torch.cat(frames), targets


def recolour(frames: torch.Tensor, share: float, generator: torch.Generator) -> torch.Tensor:
    """`frames` (B, H, W, 3) uint8 with `share` of them recoloured: channels permuted, then
    each scaled by [0.6, 1.4] and shifted by [-40, 40] grey levels."""
    b = len(frames)
    picked = torch.rand(b, generator=generator) < share
    order = torch.stack([torch.randperm(3, generator=generator) for _ in range(b)])  # (B, 3)
    gain = torch.empty(b, 1, 1, 3).uniform_(0.6, 1.4, generator=generator)
    shift = torch.empty(b, 1, 1, 3).uniform_(-40.0, 40.0, generator=generator)
    x = frames.float().gather(3, order[:, None, None, :].expand(frames.shape))
    x = (x * gain + shift).clamp(0, 255).round().to(torch.uint8)
    return torch.where(picked[:, None, None, None], x, frames)


def train_visual_backbone(
    data: DataConfig,
    vit_cfg: ViTConfig,
    out_path: str | Path,
    settings: ViTTraining | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """Pretrain a ViT on pose regression over the training frames; save it; return losses.

    Args:
        data: the SynthSign corpus (frames are taken from its training split).
        vit_cfg: the ViT architecture (the `model.spatial.vit` of the runs that will use it).
        out_path: the `.safetensors` file to write (original DINOv2 key names).
        settings: optimisation settings.
        progress: show a progress bar.
    """
    settings = settings or ViTTraining()
    torch.manual_seed(settings.seed)
    frames, targets = pose_frames(data, data.train_split)
    transform = VideoTransform(data, train=False)
    vit = VisionTransformer(vit_cfg, LoRAConfig(), 0)
    # One linear head: joint coordinates, then the logits of every cue's classes.
    joint_dims = targets.joints[0].numel()
    head = torch.nn.Linear(vit_cfg.dim, joint_dims + sum(targets.classes))
    params = [*vit.parameters(), *head.parameters()]
    for param in params:
        param.requires_grad_(True)
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    steps_per_epoch = math.ceil(len(frames) / settings.batch_size)
    total = settings.epochs * steps_per_epoch
    scheduler = one_cycle_cosine(optimizer, total, round(settings.warmup_fraction * total))
    generator = torch.Generator().manual_seed(settings.seed)
    bar = tqdm(total=total, desc="stand-in ViT (pose)", disable=not progress, dynamic_ncols=True)
    losses = []
    for _ in range(settings.epochs):
        order = torch.randperm(len(frames), generator=generator)
        for idx in order.split(settings.batch_size):
            batch = recolour(frames[idx], settings.recolour, generator)  # (B, H, W, 3)
            images = transform(batch[:, None], torch.ones(len(idx), 1, dtype=torch.bool))
            out = head(vit(images[:, 0]))  # (B, J * 2 + cue classes)
            loss = F.smooth_l1_loss(out[:, :joint_dims], targets.joints[idx].flatten(1), beta=0.02)
            if targets.cues is not None:
                logits = out[:, joint_dims:].split(targets.classes, dim=1)
                cues = targets.cues[idx]
                loss = loss + CUE_WEIGHT * sum(
                    F.cross_entropy(z, cues[:, i]) for i, z in enumerate(logits)
                ) / len(logits)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.4f}")
    bar.close()
    tensors = {k: v.detach().contiguous() for k, v in vit.state_dict().items()}
    with atomic_path(out_path) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt", "objective": OBJECTIVE})
    return {"first_loss": losses[0], "last_loss": float(np.mean(losses[-steps_per_epoch:]))}
