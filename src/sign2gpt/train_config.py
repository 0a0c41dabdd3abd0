"""Training settings: the `train:` section of a run config (SPEC.md "Training")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sign2gpt.devices import check_device_name
from sign2gpt.errors import ConfigError
from sign2gpt.generation import GenerationSettings
from sign2gpt.metrics import BleuConvention, BleuSmooth, BleuTokenize
from sign2gpt.models.parts import PART_NAMES


@dataclass
class TrainConfig:
    """Optimisation, schedule, hardware and logging of one training stage.

    Defaults are the paper's: AdamW lr 3e-4, weight decay 0.001, clip 1.0, 100 epochs,
    one-cycle cosine with 5 warm-up epochs, bf16, batch 8 per GPU (batch size lives in `data`).
    Where the authors' code differs from the paper text (warm-up start and end lr, weight
    decay only on weights, clipping by value, selection metrics, BLEU convention), the
    defaults here are ours and `configs/phoenix14t` sets the authors' values.
    """

    epochs: int = 100
    lr: float = 3e-4
    weight_decay: float = 0.001
    warmup_epochs: float = 5.0
    # Per-iteration schedule: linear warm-up over `warmup_epochs` from `warmup_start_lr`
    # (None: from lr / (warm-up steps + 1)) to `lr`, then cosine down to `final_lr`.
    warmup_start_lr: float | None = None
    final_lr: float = 0.0
    # Weight decay on "all" trainable parameters, or on "weights" only: weight matrices of
    # modules that are not norms or embeddings, and LoRA factors (the authors' rule); biases,
    # norms, embeddings, gates, layer scales, temperatures and prototypes get none.
    weight_decay_on: Literal["all", "weights"] = "all"
    # A learning rate per part: part -> factor on `lr` (and on the schedule's ends), e.g.
    # {gates: 10}; parts as in `sign2gpt.models.parts` (gates, cross_attention_lora,
    # decoder_lora, sign_projection, sign_encoder, spatial_lora, spatial, other).
    lr_scale: dict[str, float] = field(default_factory=dict)
    grad_clip: float = 1.0  # max gradient norm (0 = off)
    grad_clip_value: float = 0.0  # clip every gradient entry to [-v, v] before the norm (0 = off)
    # DDP: SyncBatchNorm for the spatial head's BatchNorm (statistics over all processes).
    sync_batchnorm: bool = False
    # Which dev metric selects the best checkpoint. Stage 1: micro or macro (mean over the
    # pseudo-glosses present in dev) F1 at `text.gloss_threshold`. Stage 2: generated
    # (beam-search) BLEU-4 every `bleu_every` epochs, or teacher-forced argmax BLEU-4 every
    # validation (cheap: no generation).
    pretrain_selection: Literal["micro_f1", "macro_f1"] = "micro_f1"
    translate_selection: Literal["beam_bleu", "teacher_forced_bleu"] = "beam_bleu"
    # BLEU convention of dev selection and `sign2gpt evaluate` (sign2gpt.metrics).
    bleu_tokenize: BleuTokenize = "auto"
    bleu_smooth: BleuSmooth = "exp"
    label_smoothing: float = 0.1
    seed: int = 0
    # Lightning Fabric settings: one GPU, several (ddp / fsdp) or several nodes from one config.
    # accelerator: auto, cpu, cuda (gpu), cuda:N (that GPU alone) or mps; `--device` sets it.
    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    strategy: Literal["auto", "ddp", "ddp_spawn", "fsdp"] = "auto"
    precision: Literal["32-true", "bf16-mixed", "16-mixed"] = "bf16-mixed"
    # How often to validate: cheap metrics every epoch, generated BLEU every `bleu_every` epochs.
    validate_every: int = 1
    bleu_every: int = 5
    # Stop once this many validations in a row that computed the selection metric did not
    # beat its best (0 = train all `epochs`): "until dev BLEU-4 stops rising".
    patience: int = 0
    num_beams: int = 4
    max_new_tokens: int = 64
    # Mid-epoch checkpoints (0 = only at epoch ends) so that a killed run loses little work.
    checkpoint_every_steps: int = 200
    log_every_steps: int = 10
    compile: bool = False
    activation_checkpointing: bool = False
    # With a mixed precision, store the frozen pretrained linear weights (DINOv2, the LM) in
    # its 16-bit type: the same products, without their fp32 copies (XGLM-1.7B: 4.8 GB).
    # Not under FSDP (one dtype per flattened module).
    cast_frozen_weights: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"train.epochs must be >= 1, got {self.epochs}")
        if self.lr <= 0:
            raise ConfigError(f"train.lr must be > 0, got {self.lr}")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(
                f"train.label_smoothing must be in [0, 1), got {self.label_smoothing}"
            )
        if self.devices < 1 or self.num_nodes < 1:
            raise ConfigError("train.devices and train.num_nodes must be >= 1")
        if self.patience < 0:
            raise ConfigError(f"train.patience must be >= 0, got {self.patience}")
        if self.validate_every < 1 or self.bleu_every < 1:
            raise ConfigError("train.validate_every and train.bleu_every must be >= 1")
        for name in ("warmup_start_lr", "final_lr"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= self.lr:
                raise ConfigError(f"train.{name} must be in [0, train.lr={self.lr}], got {value}")
        for part, factor in self.lr_scale.items():
            if part not in PART_NAMES:
                raise ConfigError(
                    f"train.lr_scale: unknown part {part!r}; parts: {', '.join(PART_NAMES)}"
                )
            if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
                raise ConfigError(f"train.lr_scale.{part} must be a number > 0, got {factor!r}")
        if self.grad_clip < 0 or self.grad_clip_value < 0:
            raise ConfigError("train.grad_clip and train.grad_clip_value must be >= 0 (0 = off)")
        if self.grad_clip_value > 0 and self.precision == "16-mixed":
            raise ConfigError(
                "train.grad_clip_value needs precision 32-true or bf16-mixed (16-mixed's "
                "gradient scaler unscales once per step, for one clipping only)"
            )
        check_device_name(self.accelerator, "train.accelerator")
        try:
            self.generation  # noqa: B018 (validates num_beams / max_new_tokens)
        except ConfigError as exc:
            raise ConfigError(f"train.{exc}") from None

    @property
    def generation(self) -> GenerationSettings:
        """Beam search settings of the dev BLEU evaluation."""
        return GenerationSettings(self.num_beams, self.max_new_tokens)

    @property
    def bleu_convention(self) -> BleuConvention:
        """The BLEU tokenisation and smoothing of dev selection and evaluation."""
        return BleuConvention(tokenize=self.bleu_tokenize, smooth=self.bleu_smooth)


def scaled_epochs(epochs: int, factor: float) -> int:
    """`epochs` times `factor`, rounded, at least 1 (longer or shorter runs of a recipe)."""
    return max(1, round(epochs * factor))
