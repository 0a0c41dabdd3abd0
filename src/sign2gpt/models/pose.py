"""`spatial.kind: pose`: per-frame features from keypoints instead of a ViT over pixels.

Input: normalised joints (N, 126, 3) = x, y (centred on the shoulders, in shoulder widths)
and confidence, undetected joints all zero (`sign2gpt.data.keypoints.transform`). Each part
(body, left hand, right hand, face) has its own small encoder, an MLP over its flattened
joints or a graph convolution over its skeleton; the four part features are concatenated and
fused by Linear + BatchNorm1d to `out_dim`, the sign encoder's width (as the ViT's CLS token
is projected). Everything here trains; there are no pretrained weights.
"""

from __future__ import annotations

import torch
from torch import nn

from sign2gpt.data.keypoints.layout import PARTS, part_edges
from sign2gpt.models.config import PoseEncoderConfig, SpatialConfig

CHANNELS = 3  # x, y, confidence


class PartMLP(nn.Module):
    """(N, J, 3) -> (N, part_dim) from the part's flattened joints."""

    def __init__(self, num_joints: int, cfg: PoseEncoderConfig):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(num_joints * CHANNELS, cfg.hidden_dim), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden_dim, cfg.hidden_dim), nn.GELU(),
            nn.Linear(cfg.hidden_dim, cfg.part_dim),
        )  # fmt: skip

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        return self.net(joints.flatten(1))


class PartGCN(nn.Module):
    """(N, J, 3) -> (N, part_dim): residual graph convolutions over the part's skeleton, then
    the concatenated nodes (so where a joint is stays known) through a Linear."""

    def __init__(self, num_joints: int, edges: list[tuple[int, int]], cfg: PoseEncoderConfig):
        super().__init__()
        adjacency = torch.eye(num_joints)
        for a, b in edges:
            adjacency[a, b] = adjacency[b, a] = 1.0
        degree = adjacency.sum(1).rsqrt()
        self.register_buffer("adjacency", degree[:, None] * adjacency * degree[None, :])
        width = max(8, cfg.hidden_dim // 8)  # per-joint width: the part's nodes share weights
        self.embed = nn.Linear(CHANNELS, width)
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(cfg.gcn_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(cfg.gcn_layers))
        self.act = nn.GELU()
        self.dropout = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(num_joints * width, cfg.part_dim)

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        x = self.embed(joints)  # (N, J, width)
        for layer, norm in zip(self.layers, self.norms, strict=True):
            x = x + self.dropout(self.act(norm(self.adjacency @ layer(x))))
        return self.out(x.flatten(1))


class PoseBackbone(nn.Module):
    """Per-frame features from joints: (N, 126, 3) -> (N, out_dim)."""

    def __init__(self, cfg: SpatialConfig):
        super().__init__()
        self.cfg = cfg
        pose = cfg.pose
        self.parts = nn.ModuleDict()
        for name, part in PARTS.items():
            joints = part.stop - part.start
            self.parts[name] = (
                PartGCN(joints, part_edges(name), pose) if pose.encoder == "gcn"
                else PartMLP(joints, pose)
            )  # fmt: skip
        self.proj = nn.Linear(len(PARTS) * pose.part_dim, cfg.out_dim)
        self.norm = nn.BatchNorm1d(cfg.out_dim)

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        features = [self.parts[name](joints[:, part]) for name, part in PARTS.items()]
        return self.norm(self.proj(torch.cat(features, dim=1)))

    def encode_video(self, video: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Padded joints (B, T, 126, 3) with mask (B, T) -> (B, T, out_dim), zeros on padding."""
        features = self(video[mask])
        out = features.new_zeros(*mask.shape, features.size(-1))
        out[mask] = features
        return out

    def is_trainable(self, name: str) -> bool:
        """Every weight trains (there is no pretrained keypoint model)."""
        return True

    def load_pretrained(self) -> None:
        """Nothing to load."""
