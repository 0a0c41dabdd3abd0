"""Model configuration: typed dataclasses for every network part, plus named size presets.

A YAML `model:` section maps onto `ModelConfig`. It may start from a named preset
(`preset: full`, `synth`, `tiny`, `xglm-564m`) and override single keys; see
`model_config_from_dict`. Paths to pretrained weights are config keys (`null` = random init).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sign2gpt.config import from_dict, key_where, merge, to_dict
from sign2gpt.errors import ConfigError


@dataclass
class LoRAConfig:
    """Low-rank adapter: delta W = B A * alpha / r, with A ~ N(0, init_std) and B = 0."""

    r: int = 4
    alpha: float = 4.0
    dropout: float = 0.1
    init_std: float = 0.2

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ValueError(f"lora.r must be >= 1, got {self.r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"lora.dropout must be in [0, 1), got {self.dropout}")

    @property
    def scale(self) -> float:
        return self.alpha / self.r


@dataclass
class ViTConfig:
    """A ViT with the DINOv2 architecture (ViT-S/14 by default)."""

    patch_size: int = 14
    # Size the position embedding was trained at (518 = 37 x 37 patches for DINOv2).
    pos_embed_size: int = 518
    dim: int = 384
    depth: int = 12
    num_heads: int = 6
    mlp_ratio: float = 4.0
    layer_scale_init: float = 1e-5
    norm_eps: float = 1e-6
    # DINOv2's own code interpolates position embeddings with this offset (0.1); the Hugging
    # Face port uses 0.0. Only matters when the input size differs from `pos_embed_size`.
    interpolate_offset: float = 0.1

    def __post_init__(self) -> None:
        if self.dim % self.num_heads:
            raise ValueError(f"vit.dim {self.dim} is not divisible by num_heads {self.num_heads}")
        if self.pos_embed_size % self.patch_size:
            raise ValueError("vit.pos_embed_size must be a multiple of vit.patch_size")

    @property
    def mlp_dim(self) -> int:
        return int(self.dim * self.mlp_ratio)


@dataclass
class PoseEncoderConfig:
    """`spatial.kind: pose`: a per-part keypoint encoder (docs/pose.md) fused to out_dim."""

    # Each part (body, left hand, right hand, face) on its own: an MLP over its flattened
    # joints, or a spatial graph convolution over its skeleton (measured in docs/pose.md).
    encoder: Literal["mlp", "gcn"] = "mlp"
    hidden_dim: int = 256
    part_dim: int = 128  # each part's feature size before the fusion Linear(4 x part_dim)
    gcn_layers: int = 2
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if min(self.hidden_dim, self.part_dim, self.gcn_layers) < 1:
            raise ValueError("spatial.pose: hidden_dim, part_dim and gcn_layers must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"spatial.pose.dropout must be in [0, 1), got {self.dropout}")


@dataclass
class SpatialConfig:
    """Frozen ViT + LoRA on its top blocks + Linear(vit.dim -> out_dim) + BatchNorm1d.

    `kind: pose` reads keypoints instead (`pose`; the ViT keys are then unused).
    """

    # Per-frame network: `vit` (the DINOv2 ViT below, frozen, LoRA on top blocks), `pose`
    # (keypoints, the `pose` encoder) or `resnet18` (the paper's backbone ablation: an ImageNet
    # ResNet18 without its fc head, all of it trained; `vit` and `lora` are then unused).
    kind: Literal["vit", "pose", "resnet18"] = "vit"
    pose: PoseEncoderConfig = field(default_factory=PoseEncoderConfig)
    vit: ViTConfig = field(default_factory=ViTConfig)
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    # LoRA goes on qkv/proj/fc1/fc2 of the top `lora_blocks` blocks (0 = no spatial adapters).
    lora_blocks: int = 3
    out_dim: int = 512
    # Frames per ViT call in `encode_video`: bounds the frozen blocks' transient memory (and,
    # with activation checkpointing, the recomputed blocks'). Each call costs the host ~600
    # operator dispatches, so larger chunks launch less: 256 instead of 64 cuts a paper-shape
    # training step's dispatches by 44% (8 x 128 frames, `bench/host_ops.py`).
    chunk_size: int = 256
    # DINOv2 weights: an original `.pth` file or a Hugging Face `Dinov2Model` folder;
    # resnet18: torchvision's ImageNet file (`resnet18-f37072fd.pth`) or its .safetensors.
    pretrained: Path | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.lora_blocks <= self.vit.depth:
            raise ValueError(f"spatial.lora_blocks must be in [0, {self.vit.depth}]")
        if self.chunk_size < 1:
            raise ValueError("spatial.chunk_size must be >= 1")


@dataclass
class ContrastiveConfig:
    """SignCL: neighbouring frames' features closer than `max_distance`, distant ones farther.

    For each real frame (the anchor), `positive_samples` frames within `positive_distance`
    steps and `negative_samples` frames more than the margin away are drawn at random; the
    loss is mean softplus(d(a, p) - max_distance) + mean softplus(max_distance - d(a, n)), d
    the L1 distance, averaged over anchors, and added to the stage's loss times `weight`.
    """

    enabled: bool = False
    weight: float = 0.01
    positive_distance: int = 1
    positive_samples: int = 2
    negative_samples: int = 4
    # Frames (of the encoder's output) between an anchor and its negatives; `auto`: the
    # paper's rule from the video's length T and its sentence's word count W:
    # min(max(10, int((T // W + 1) * 2.3)) * 2, (T - negative_samples) // 2).
    negative_margin: int | Literal["auto"] = "auto"
    max_distance: float = 32.0

    def __post_init__(self) -> None:
        if self.weight < 0:
            raise ValueError(f"contrastive.weight must be >= 0, got {self.weight}")
        if self.positive_distance < 1 or self.positive_samples < 1 or self.negative_samples < 1:
            raise ValueError("contrastive: positive_distance and the sample counts must be >= 1")
        if self.negative_margin != "auto" and self.negative_margin < self.positive_distance:
            raise ValueError("contrastive.negative_margin must be >= positive_distance")
        if self.max_distance <= 0:
            raise ValueError("contrastive.max_distance must be > 0")

    @property
    def active(self) -> bool:
        """Whether the loss is computed at all (off, or weight 0: today's loss exactly)."""
        return self.enabled and self.weight > 0


@dataclass
class SignEncoderConfig:
    """Post-norm transformer: `blocks_before` blocks, temporal pool (k3 s2), `blocks_after`."""

    dim: int = 512
    num_heads: int = 8
    ffn_dim: int = 2048
    blocks_before: int = 2
    blocks_after: int = 2
    # Local attention: each frame sees `window` frames centred on it; null = global attention.
    window: int | None = 7
    layer_scale_init: float = 1e-5
    drop_path: float = 0.1
    # `constant`: every block drops its branches with `drop_path`; `linear`: block i of n uses
    # drop_path * i / (n - 1), from 0 at the input to `drop_path` at the last block (authors).
    drop_path_schedule: Literal["constant", "linear"] = "constant"
    dropout: float = 0.1
    rotary_base: float = 10000.0
    # Add a fixed sinusoidal position encoding (interleaved sin/cos) to the frame features
    # before the first block, besides the rotary one inside attention (authors' code).
    input_pe: bool = False
    # The k3 s2 temporal pool. `real_frames`: mean over a window's real frames, valid when its
    # centre frame is. `zero_padded`: avg_pool1d over frames with padding zeroed, always / 3;
    # valid when any frame of the window is, the first step always (authors' code).
    temporal_pool: Literal["real_frames", "zero_padded"] = "real_frames"
    # The temporal pool between the two block groups; false = keep the frame rate (ablation).
    downsample: bool = True
    # SignCL (Ye et al., NeurIPS 2024) on this encoder's output features.
    contrastive: ContrastiveConfig = field(default_factory=ContrastiveConfig)

    def __post_init__(self) -> None:
        if self.blocks_before < 0 or self.blocks_after < 0:
            raise ValueError("sign_encoder.blocks_before / blocks_after must be >= 0")
        if self.dim % self.num_heads or (self.dim // self.num_heads) % 2:
            raise ValueError("sign_encoder.dim / num_heads must be an even integer (rotary)")
        if self.window is not None and (self.window < 1 or self.window % 2 == 0):
            raise ValueError(f"sign_encoder.window must be odd and >= 1, got {self.window}")
        if not 0.0 <= self.drop_path < 1.0:
            raise ValueError(f"sign_encoder.drop_path must be in [0, 1), got {self.drop_path}")

    def drop_path_rates(self) -> list[float]:
        """Stochastic-depth rate of each block, input to output (before and after the pool)."""
        blocks = self.blocks_before + self.blocks_after
        if self.drop_path_schedule == "constant":
            return [self.drop_path] * blocks
        return [self.drop_path * i / max(blocks - 1, 1) for i in range(blocks)]


@dataclass
class PrototypeHeadConfig:
    """Stage-1 pseudo-gloss head: cosine similarity to word-vector prototypes."""

    dropout: float = 0.2
    word_dim: int = 300
    temperature_init: float = 0.1
    temperature_min: float = 0.01
    temperature_max: float = 1.0
    loss_weight: float = 10.0
    # Train the word-vector prototypes (ours) or keep them fixed at their fastText values
    # (`false`: the authors' released configs, `trainable_emb=False`).
    trainable_prototypes: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.temperature_min <= self.temperature_init <= self.temperature_max:
            raise ValueError("prototype_head: need 0 < temperature_min <= init <= max")


@dataclass
class RopeScalingConfig:
    """Llama 3.1/3.2's `llama3` rotary scaling: low frequencies slowed by `factor`, high ones
    kept, the band between blended (config.json `rope_scaling` / `rope_parameters`)."""

    rope_type: Literal["llama3"] = "llama3"
    factor: float = 8.0
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0
    original_max_position_embeddings: int = 8192

    def __post_init__(self) -> None:
        if not 0 < self.low_freq_factor < self.high_freq_factor:
            raise ValueError("rope_scaling: need 0 < low_freq_factor < high_freq_factor")


@dataclass
class DecoderConfig:
    """A frozen decoder-only LM with sign adapters (LoRA + gated cross-attention)."""

    # LM family: a file under models/decoder/ registers each (`xglm`, `llama`, `qwen2` ship).
    family: str = "xglm"
    vocab_size: int = 256008
    d_model: int = 2048
    num_layers: int = 24
    num_heads: int = 16
    ffn_dim: int = 8192
    max_positions: int = 2048
    # XGLM only: embeddings times sqrt(d_model), and residual / post-activation dropout
    # (Llama and Qwen2 have neither; all families use attention_dropout).
    scale_embedding: bool = True
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation_dropout: float = 0.0
    norm_eps: float = 1e-5
    # Key/value heads: fewer than num_heads = grouped-query attention (null = num_heads; XGLM
    # checkpoints need null). For the rotary families (llama, qwen2; XGLM ignores these):
    # rotary base, `llama3` scaling (null = none) and whether the output projection is the
    # token embedding (tie_word_embeddings).
    num_kv_heads: int | None = None
    rope_theta: float = 10000.0
    rope_scaling: RopeScalingConfig | None = None
    tie_embeddings: bool = True
    # Token ids (XGLM convention: `</s>` starts every sequence and ends it).
    bos_id: int = 2
    eos_id: int = 2
    pad_id: int = 1
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    # Dimension of the sign features fed in (the sign encoder's width).
    sign_dim: int = 512
    # Add a position encoding to the sign features before Linear(sign_dim -> d): `sign_pe_kind`
    # `sinusoidal` (fixed, the paper's), `learned_zero` / `learned_random` (a trained
    # (sign_pe_max_len, sign_dim) table starting at 0 / N(0, 0.02): the paper's ablations).
    sign_pe: bool = True
    sign_pe_kind: Literal["sinusoidal", "learned_zero", "learned_random"] = "sinusoidal"
    # Longest sign sequence a learned table covers (after the sign encoder's pool).
    sign_pe_max_len: int = 512
    # Init of the cross-attention LoRA'_k and LoRA'_v: `zero_b` (A ~ N(0, lora.init_std),
    # B = 0, like every other LoRA) or `linear` (PyTorch's default Linear init for both A and
    # B, so B is not zero: the authors' code). LoRA'_q is always N(0, init_std) / 0; the zero
    # gates keep a fresh model equal to the LM either way.
    sign_kv_lora_init: Literal["zero_b", "linear"] = "zero_b"
    # Dropout on the cross-attention probabilities (authors: attention_dropout, 0.1).
    sign_attention_dropout: float = 0.0
    # One LoRA dropout mask for q, k, v and the cross-attention q (ours: one stacked matmul);
    # false: each LoRA draws its own mask (authors' code).
    lora_shared_dropout: bool = True
    # LoRA dropout on the self-attention out-projection too (authors' code: none there).
    out_proj_lora_dropout: bool = True
    # Hugging Face checkpoint folder (config.json + safetensors or pytorch_model.bin).
    pretrained: Path | None = None

    def __post_init__(self) -> None:
        if self.d_model % self.num_heads:
            raise ValueError("decoder.d_model must be divisible by decoder.num_heads")
        if self.kv_heads < 1 or self.num_heads % self.kv_heads:
            raise ValueError("decoder.num_heads must be divisible by decoder.num_kv_heads")
        if max(self.bos_id, self.eos_id, self.pad_id) >= self.vocab_size:
            raise ValueError("decoder bos/eos/pad ids must be < vocab_size")
        if not 0.0 <= self.sign_attention_dropout < 1.0:
            raise ValueError("decoder.sign_attention_dropout must be in [0, 1)")
        if self.sign_pe_max_len < 1:
            raise ValueError("decoder.sign_pe_max_len must be >= 1")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.num_heads

    @property
    def kv_heads(self) -> int:
        """Key/value heads (fewer than `num_heads` with grouped-query attention)."""
        return self.num_heads if self.num_kv_heads is None else self.num_kv_heads


@dataclass
class ModelConfig:
    """The whole model. `stage: pretrain` adds the prototype head, `translate` the decoder."""

    stage: Literal["pretrain", "translate"] = "translate"
    spatial: SpatialConfig = field(default_factory=SpatialConfig)
    sign_encoder: SignEncoderConfig = field(default_factory=SignEncoderConfig)
    prototype_head: PrototypeHeadConfig = field(default_factory=PrototypeHeadConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    # Sign(Z)2GPT: keep the spatial model and sign encoder frozen as well.
    freeze_visual: bool = False

    def __post_init__(self) -> None:
        if self.spatial.out_dim != self.sign_encoder.dim:
            raise ValueError("spatial.out_dim must equal sign_encoder.dim")
        if self.decoder.sign_dim != self.sign_encoder.dim:
            raise ValueError("decoder.sign_dim must equal sign_encoder.dim")


# ---------------------------------------------------------------------------------------------
# Presets: small named factories (the dinov2 `vit_small` habit).


def full_config(stage: str = "translate") -> ModelConfig:
    """The paper's model: DINOv2 ViT-S/14 + 4-block sign encoder + XGLM-1.7B."""
    return ModelConfig(stage=stage)


def xglm_564m_config(stage: str = "translate") -> ModelConfig:
    """The paper's ablation with the smaller XGLM-564M decoder."""
    decoder = DecoderConfig(d_model=1024, ffn_dim=4096)
    return ModelConfig(stage=stage, decoder=decoder)


def synth_config(stage: str = "translate") -> ModelConfig:
    """The synthetic benchmark: a 4-block ViT at 56x56 and a 4-layer d=256 XGLM decoder."""
    vit = ViTConfig(pos_embed_size=56, dim=192, depth=4, num_heads=3)
    spatial = SpatialConfig(vit=vit, lora_blocks=2, out_dim=256)
    encoder = SignEncoderConfig(dim=256, num_heads=4, ffn_dim=1024)
    decoder = DecoderConfig(
        vocab_size=2000, d_model=256, num_layers=4, num_heads=4, ffn_dim=1024,
        max_positions=256, bos_id=0, eos_id=2, pad_id=1, sign_dim=256,
    )  # fmt: skip
    return ModelConfig(stage=stage, spatial=spatial, sign_encoder=encoder, decoder=decoder)


def tiny_config(stage: str = "translate") -> ModelConfig:
    """A minute model for unit tests (runs in milliseconds on CPU)."""
    vit = ViTConfig(pos_embed_size=28, dim=32, depth=2, num_heads=2)
    spatial = SpatialConfig(vit=vit, lora_blocks=1, out_dim=32, chunk_size=3)
    encoder = SignEncoderConfig(dim=32, num_heads=4, ffn_dim=64, blocks_before=1, blocks_after=1)
    head = PrototypeHeadConfig(word_dim=16)
    decoder = DecoderConfig(
        vocab_size=64, d_model=32, num_layers=2, num_heads=4, ffn_dim=64,
        max_positions=64, bos_id=0, eos_id=2, pad_id=1, sign_dim=32,
    )  # fmt: skip
    return ModelConfig(
        stage=stage, spatial=spatial, sign_encoder=encoder, prototype_head=head, decoder=decoder
    )


def untrained_paper_parts(cfg: ModelConfig) -> list[str]:
    """A warning per paper-sized frozen part without pretrained weights: at that size it only
    makes sense pretrained, and random frozen weights never learn (LoRA adapts them a little)."""
    warnings = []
    vit = cfg.spatial.vit
    if cfg.spatial.pretrained is None and vit.dim >= 384 and vit.depth >= 12:
        warnings.append(
            f"model.spatial.pretrained is null: the frozen ViT (dim {vit.dim}, {vit.depth} "
            "blocks, the paper's DINOv2 ViT-S/14) keeps random weights; set it to "
            "dinov2_vits14_pretrain.pth, or use a small model (model.preset: synth)"
        )
    dec = cfg.decoder
    if cfg.stage == "translate" and dec.pretrained is None and dec.d_model >= 1024:
        warnings.append(
            f"model.decoder.pretrained is null: the frozen LM (d_model {dec.d_model}, "
            f"{dec.num_layers} layers, XGLM-sized) keeps random weights; set it to an XGLM "
            "folder, or to a small stand-in from `sign2gpt lm train`"
        )
    return warnings


PRESETS = {
    "full": full_config,
    "xglm-564m": xglm_564m_config,
    "synth": synth_config,
    "tiny": tiny_config,
}


def model_config_from_dict(data: dict[str, Any] | None, *, where: str = "model") -> ModelConfig:
    """Build a `ModelConfig` from a YAML `model:` mapping.

    Args:
        data: the mapping. An optional `preset` key names a starting point from `PRESETS`;
            the other keys override it. Without `preset`, the dataclass defaults (= `full`) apply.
        where: location for error messages, e.g. "configs/x.yaml:model" (see `key_where`).
    """
    data = dict(data or {})
    preset = data.pop("preset", None)
    if preset is None:
        return from_dict(ModelConfig, data, where=where)
    if preset not in PRESETS:
        raise ConfigError(
            f"{key_where(where, 'preset')}: unknown preset {preset!r} (known: {', '.join(PRESETS)})"
        )
    stage = data.get("stage", "translate")
    base = to_dict(PRESETS[preset](stage))
    return from_dict(ModelConfig, merge(base, data), where=where)
