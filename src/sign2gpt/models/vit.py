"""A Vision Transformer with the DINOv2 architecture (patch 14, fused qkv, layer scale).

Parameter names follow the original DINOv2 release (`blocks.9.attn.qkv.weight`,
`blocks.9.ls1.gamma`, ...), so `dinov2_vits14_pretrain.pth` loads without renaming.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.models.config import LoRAConfig, ViTConfig
from sign2gpt.models.layers.layer_scale import LayerScale
from sign2gpt.models.layers.lora import LoRALinear
from sign2gpt.models.layers.mlp import Mlp


class PatchEmbed(nn.Module):
    """Cut the image into non-overlapping patches and project each to `dim`."""

    def __init__(self, patch_size: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.proj(images).flatten(2).transpose(1, 2)  # (N, P, dim)


class Attention(nn.Module):
    """Multi-head self-attention with one fused qkv projection."""

    def __init__(self, dim: int, num_heads: int, lora: LoRAConfig | None):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = LoRALinear(dim, 3 * dim, lora)
        self.proj = LoRALinear(dim, dim, lora)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, dim = x.shape
        qkv = self.qkv(x).view(n, length, 3, self.num_heads, dim // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (N, H, L, head_dim)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(n, length, dim))


class Block(nn.Module):
    """Pre-norm transformer block with layer scale on both branches."""

    def __init__(self, cfg: ViTConfig, lora: LoRAConfig | None):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        self.attn = Attention(cfg.dim, cfg.num_heads, lora)
        self.ls1 = LayerScale(cfg.dim, cfg.layer_scale_init)
        self.norm2 = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        self.mlp = Mlp(cfg.dim, cfg.mlp_dim, lora=lora)
        self.ls2 = LayerScale(cfg.dim, cfg.layer_scale_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class VisionTransformer(nn.Module):
    """DINOv2-style ViT returning the CLS token after the final norm.

    Args:
        cfg: architecture.
        lora: adapter settings for the top `lora_blocks` blocks.
        lora_blocks: how many of the last blocks get LoRA on qkv, proj, fc1 and fc2.
    """

    def __init__(self, cfg: ViTConfig, lora: LoRAConfig | None = None, lora_blocks: int = 0):
        super().__init__()
        self.cfg = cfg
        grid = cfg.pos_embed_size // cfg.patch_size
        self.patch_embed = PatchEmbed(cfg.patch_size, cfg.dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + grid * grid, cfg.dim))
        # Unused at inference; kept so the parameter count and checkpoint keys match DINOv2.
        self.mask_token = nn.Parameter(torch.zeros(1, cfg.dim))
        first_lora = cfg.depth - lora_blocks
        self.blocks = nn.ModuleList(
            Block(cfg, lora if i >= first_lora else None) for i in range(cfg.depth)
        )
        self.norm = nn.LayerNorm(cfg.dim, eps=cfg.norm_eps)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)

    def position_embedding(self, height: int, width: int) -> torch.Tensor:
        """Position embeddings for a (height, width) patch grid: (1, 1 + height * width, dim)."""
        grid = math.isqrt(self.pos_embed.size(1) - 1)
        if (height, width) == (grid, grid):
            return self.pos_embed
        cls_pos, patch_pos = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        patch_pos = patch_pos.float().reshape(1, grid, grid, -1).permute(0, 3, 1, 2)
        offset = self.cfg.interpolate_offset
        if offset:
            # DINOv2's own rule: a scale factor with a small offset avoids rounding errors.
            size = {"scale_factor": ((height + offset) / grid, (width + offset) / grid)}
        else:
            size = {"size": (height, width)}
        patch_pos = F.interpolate(patch_pos, mode="bicubic", align_corners=False, **size)
        patch_pos = patch_pos.to(self.pos_embed.dtype).permute(0, 2, 3, 1).flatten(1, 2)
        return torch.cat((cls_pos, patch_pos), dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map images (N, 3, S, S) to CLS features (N, dim)."""
        patch = self.cfg.patch_size
        height, width = images.shape[-2] // patch, images.shape[-1] // patch
        x = self.patch_embed(images)  # (N, P, dim)
        x = torch.cat((self.cls_token.expand(x.size(0), -1, -1), x), dim=1)
        x = x + self.position_embedding(height, width)
        for block in self.blocks:
            x = block(x)
        return self.norm(x[:, 0])
