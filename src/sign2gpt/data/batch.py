"""`Sample` (one decoded video) and `VideoBatch` (a zero-padded batch with its mask)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)


@dataclass
class Sample:
    """One decoded video.

    Args:
        id: the video's name.
        frames: uint8 (T, H, W, 3), after the temporal stride and the frame cap (a keypoint
            source: float32 (T, J, 3), x, y and confidence).
        text: the spoken-language sentence.
        signer: signer id ("" when unknown).
        split: the split it came from.
    """

    id: str
    frames: torch.Tensor
    text: str
    signer: str
    split: str


@dataclass
class VideoBatch:
    """Samples padded to the longest clip.

    Args:
        frames: uint8 (B, T, H, W, 3) (keypoints: float32 (B, T, J, 3)), zero after each
            clip's end.
        mask: bool (B, T), True on real frames.
        lengths: long (B,), real frames per clip.
        texts, ids, signers: per sample.
    """

    frames: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor
    texts: list[str]
    ids: list[str]
    signers: list[str]

    def to(self, device: torch.device | str, non_blocking: bool = True) -> VideoBatch:
        """Move the tensors to `device` (non-blocking when the batch is pinned)."""
        return VideoBatch(
            frames=self.frames.to(device, non_blocking=non_blocking),
            mask=self.mask.to(device, non_blocking=non_blocking),
            lengths=self.lengths.to(device, non_blocking=non_blocking),
            texts=self.texts,
            ids=self.ids,
            signers=self.signers,
        )

    def pin_memory(self) -> VideoBatch:
        """Called by DataLoader(pin_memory=True) for faster host-to-GPU copies."""
        return VideoBatch(
            self.frames.pin_memory(), self.mask.pin_memory(), self.lengths.pin_memory(),
            self.texts, self.ids, self.signers,
        )

    def __len__(self) -> int:
        return len(self.ids)


def collate_samples(samples: list[Sample | None]) -> VideoBatch | None:
    """Pad samples into a `VideoBatch`.

    `None` entries are samples a `skip_bad` dataset could not decode (it has already logged
    which); they are dropped. Returns None only when every sample of the batch was dropped.
    """
    kept = [s for s in samples if s is not None]
    if not kept:
        log.warning("every sample of a batch was skipped as bad; the batch is empty")
        return None
    sizes = {tuple(s.frames.shape[1:]) for s in kept}
    if len(sizes) != 1:
        raise ValueError(f"frames of one batch must share (H, W, 3), got {sorted(sizes)}")
    lengths = torch.tensor([s.frames.shape[0] for s in kept], dtype=torch.long)
    frames = torch.zeros(
        (len(kept), int(lengths.max()), *kept[0].frames.shape[1:]), dtype=kept[0].frames.dtype
    )  # (B, T, H, W, 3); keypoints: float32 (B, T, J, 3)
    for i, sample in enumerate(kept):
        frames[i, : sample.frames.shape[0]] = sample.frames
    mask = torch.arange(frames.shape[1])[None, :] < lengths[:, None]  # (B, T)
    return VideoBatch(
        frames=frames,
        mask=mask,
        lengths=lengths,
        texts=[s.text for s in kept],
        ids=[s.id for s in kept],
        signers=[s.signer for s in kept],
    )
