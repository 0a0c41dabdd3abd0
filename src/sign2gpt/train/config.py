"""Training settings: the `train:` section of a run config (SPEC.md "Training")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sign2gpt.devices import check_device_name
from sign2gpt.errors import ConfigError
from sign2gpt.generation import GenerationSettings


@dataclass
class TrainConfig:
    """Optimisation, schedule, hardware and logging of one training stage.

    Defaults are the paper's: AdamW lr 3e-4, weight decay 0.001, clip 1.0, 100 epochs,
    one-cycle cosine with 5 warm-up epochs, bf16, batch 8 per GPU (batch size lives in `data`).
    """

    epochs: int = 100
    lr: float = 3e-4
    weight_decay: float = 0.001
    warmup_epochs: float = 5.0
    grad_clip: float = 1.0
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
        if self.validate_every < 1 or self.bleu_every < 1:
            raise ConfigError("train.validate_every and train.bleu_every must be >= 1")
        check_device_name(self.accelerator, "train.accelerator")
        try:
            self.generation  # noqa: B018 (validates num_beams / max_new_tokens)
        except ConfigError as exc:
            raise ConfigError(f"train.{exc}") from None

    @property
    def generation(self) -> GenerationSettings:
        """Beam search settings of the dev BLEU evaluation."""
        return GenerationSettings(self.num_beams, self.max_new_tokens)


def scaled_epochs(epochs: int, factor: float) -> int:
    """`epochs` times `factor`, rounded, at least 1 (longer or shorter runs of a recipe)."""
    return max(1, round(epochs * factor))
