"""Spatial backbone: frozen DINOv2 ViT with LoRA on its top blocks (or, as the paper's
ablation, a trained ResNet18), then Linear + BatchNorm."""

from __future__ import annotations

import torch
from torch import nn

from sign2gpt.models.adapters import is_adapter_name
from sign2gpt.models.config import SpatialConfig
from sign2gpt.models.resnet import ResNet18, load_resnet18
from sign2gpt.models.vit import VisionTransformer


class SpatialBackbone(nn.Module):
    """Per-frame features: ViT CLS token (or ResNet18 pooled features) -> Linear(-> out_dim)
    -> BatchNorm1d. The per-frame network is the child `vit` or `resnet` (`cfg.kind`)."""

    def __init__(self, cfg: SpatialConfig):
        super().__init__()
        self.cfg = cfg
        if cfg.kind == "resnet18":
            self.resnet = ResNet18()
            width = ResNet18.out_dim
        else:
            self.vit = VisionTransformer(cfg.vit, cfg.lora, cfg.lora_blocks)
            width = cfg.vit.dim
        self.proj = nn.Linear(width, cfg.out_dim)
        self.norm = nn.BatchNorm1d(cfg.out_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map frames (N, 3, S, S) to features (N, out_dim), running the network in chunks."""
        net = self.resnet if self.cfg.kind == "resnet18" else self.vit
        cls = torch.cat([net(chunk) for chunk in images.split(self.cfg.chunk_size)])
        return self.norm(self.proj(cls))  # BatchNorm over all N frames at once

    def encode_video(self, video: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Map padded videos (B, T, 3, S, S) with mask (B, T) to (B, T, out_dim).

        Only real frames go through the network; padded positions come back as zeros.
        """
        features = self(video[mask])  # (N_real, out_dim)
        out = features.new_zeros(*mask.shape, features.size(-1))
        out[mask] = features
        return out

    def is_trainable(self, name: str) -> bool:
        """The ViT is frozen except its LoRA; the ResNet18, projection and BatchNorm train."""
        return not name.startswith("vit.") or is_adapter_name(name)

    def load_pretrained(self) -> None:
        """Load the weights named by `cfg.pretrained` into the ViT / ResNet (no-op if None)."""
        if self.cfg.pretrained is None:
            return
        if self.cfg.kind == "resnet18":
            load_resnet18(self.resnet, self.cfg.pretrained)
        else:
            from sign2gpt.models.weights import load_dinov2

            load_dinov2(self.vit, self.cfg.pretrained)
