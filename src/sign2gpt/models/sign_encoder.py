"""Sign encoder: post-norm transformer blocks with rotary, local attention and a temporal pool."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sign2gpt.models.config import SignEncoderConfig
from sign2gpt.models.layers.drop_path import DropPath
from sign2gpt.models.layers.layer_scale import LayerScale
from sign2gpt.models.layers.mlp import Mlp
from sign2gpt.models.layers.rotary import RotaryEmbedding
from sign2gpt.models.layers.sinusoidal import interleaved_sinusoidal_encoding
from sign2gpt.models.layers.temporal_pool import masked_avg_pool, zero_padded_avg_pool

POOLS = {"real_frames": masked_avg_pool, "zero_padded": zero_padded_avg_pool}


def attention_mask(mask: torch.Tensor, window: int | None) -> torch.Tensor:
    """Boolean SDPA mask (B, 1, T, T): real keys within the local window (or all, if None).

    Each query also always sees itself, so rows of padded queries are never empty (no NaN).
    """
    length = mask.size(1)
    positions = torch.arange(length, device=mask.device)
    distance = (positions[:, None] - positions[None, :]).abs()  # (T, T)
    allowed = mask[:, None, None, :]  # (B, 1, 1, T)
    if window is not None:
        allowed = allowed & (distance <= window // 2)
    return allowed | torch.eye(length, dtype=torch.bool, device=mask.device)


class RotaryAttention(nn.Module):
    """Multi-head self-attention with rotary position embeddings on queries and keys."""

    def __init__(self, cfg: SignEncoderConfig):
        super().__init__()
        self.num_heads = cfg.num_heads
        self.dropout = cfg.dropout
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.rotary = RotaryEmbedding(cfg.dim // cfg.num_heads, cfg.rotary_base)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.num_heads, dim // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, H, T, head_dim)
        out = F.scaled_dot_product_attention(
            self.rotary(q), self.rotary(k), v, attn_mask=attn_mask,
            dropout_p=self.dropout if self.training else 0.0,
        )  # fmt: skip
        return self.proj(out.transpose(1, 2).reshape(batch, length, dim))


class SignEncoderBlock(nn.Module):
    """Post-norm block: x = norm(x + drop_path(layer_scale(sublayer(x)))), twice."""

    def __init__(self, cfg: SignEncoderConfig, drop_path: float):
        super().__init__()
        self.attn = RotaryAttention(cfg)
        self.ls1 = LayerScale(cfg.dim, cfg.layer_scale_init)
        self.norm1 = nn.LayerNorm(cfg.dim)
        self.mlp = Mlp(cfg.dim, cfg.ffn_dim, dropout=cfg.dropout)
        self.ls2 = LayerScale(cfg.dim, cfg.layer_scale_init)
        self.norm2 = nn.LayerNorm(cfg.dim)
        self.drop_path = DropPath(drop_path)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.drop_path(self.ls1(self.dropout(self.attn(x, attn_mask)))))
        return self.norm2(x + self.drop_path(self.ls2(self.dropout(self.mlp(x)))))


class SignEncoder(nn.Module):
    """Optional input encoding, `blocks_before` blocks, temporal average pool (k3 s2 p1;
    optional), `blocks_after` blocks. With no blocks, no pool and no input encoding it is the
    identity (the paper's "no sign encoder" localization ablation)."""

    def __init__(self, cfg: SignEncoderConfig):
        super().__init__()
        self.cfg = cfg
        self.pool = POOLS[cfg.temporal_pool]
        rates = cfg.drop_path_rates()
        before, after = rates[: cfg.blocks_before], rates[cfg.blocks_before :]
        self.blocks_before = nn.ModuleList(SignEncoderBlock(cfg, p) for p in before)
        self.blocks_after = nn.ModuleList(SignEncoderBlock(cfg, p) for p in after)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode frame features (B, T, dim) with mask (B, T) -> ((B, T', dim), (B, T'))."""
        if self.cfg.input_pe:
            positions = torch.arange(x.size(1), device=x.device)
            x = x + interleaved_sinusoidal_encoding(positions, x.size(-1)).to(x.dtype)
        attn_mask = attention_mask(mask, self.cfg.window)
        for block in self.blocks_before:
            x = block(x, attn_mask)
        if self.cfg.downsample:
            x, mask = self.pool(x, mask)
            attn_mask = attention_mask(mask, self.cfg.window)
        for block in self.blocks_after:
            x = block(x, attn_mask)
        return x, mask
