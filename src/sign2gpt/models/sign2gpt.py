"""The composed model: spatial backbone -> sign encoder -> prototype head or LM decoder."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from sign2gpt.errors import CheckpointError
from sign2gpt.models.config import ModelConfig
from sign2gpt.models.decoder import build_decoder
from sign2gpt.models.pose import PoseBackbone
from sign2gpt.models.prototype_head import PrototypeHead, PrototypeOutput
from sign2gpt.models.sign_encoder import SignEncoder
from sign2gpt.models.spatial import SpatialBackbone

# The visual side: what stage 1 trains and stage 2 starts from.
VISUAL_PARTS = ("spatial.", "sign_encoder.")
# The word-vector prototypes, frozen when `prototype_head.trainable_prototypes` is false.
FIXED_PROTOTYPES = "prototype_head.prototypes"


def count_parameters(module: nn.Module) -> dict[str, int]:
    """{"params": all parameters (tied ones once), "trainable": those with requires_grad}."""
    params = list(module.parameters())
    return {
        "params": sum(p.numel() for p in params),
        "trainable": sum(p.numel() for p in params if p.requires_grad),
    }


class Sign2GPT(nn.Module):
    """Sign2GPT for one stage: `pretrain` (prototype head) or `translate` (LM decoder).

    Args:
        cfg: the model config.
        num_glosses: pseudo-gloss vocabulary size (pretrain stage; defaults to len(prototypes)).
        prototypes: (K, word_dim) initial prototype word vectors (pretrain stage), or None.

    Built with random weights; `load_pretrained()` then fills the frozen parts from the paths
    in the config. `is_trainable` is the single rule for what trains and what
    `trainable_state_dict` saves.
    """

    def __init__(
        self,
        cfg: ModelConfig,
        *,
        num_glosses: int | None = None,
        prototypes: torch.Tensor | None = None,
    ):
        super().__init__()
        self.cfg = cfg
        pose = cfg.spatial.kind == "pose"
        self.spatial = PoseBackbone(cfg.spatial) if pose else SpatialBackbone(cfg.spatial)
        self.sign_encoder = SignEncoder(cfg.sign_encoder)
        self.prototype_head: PrototypeHead | None = None
        self.decoder = None
        if cfg.stage == "pretrain":
            if num_glosses is None:
                if prototypes is None:
                    raise ValueError("the pretrain stage needs num_glosses or prototypes")
                num_glosses = prototypes.size(0)
            self.prototype_head = PrototypeHead(
                cfg.prototype_head, cfg.sign_encoder.dim, num_glosses, prototypes
            )
        else:
            self.decoder = build_decoder(cfg.decoder)
        self.mark_trainable()

    # --- running ----------------------------------------------------------------------------

    def encode(self, video: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Videos (B, T, 3, S, S) (pose: joints (B, T, J, 3)) with mask (B, T) -> sign
        features (B, T', D) and their mask (B, T')."""
        return self.sign_encoder(self.spatial.encode_video(video, mask), mask)

    def forward(
        self,
        video: torch.Tensor,
        mask: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> PrototypeOutput | torch.Tensor:
        """Pretrain: the head's `PrototypeOutput`. Translate: logits (B, L, V) for input_ids."""
        features, feature_mask = self.encode(video, mask)
        if self.prototype_head is not None:
            return self.prototype_head(features, feature_mask)
        if input_ids is None:
            raise ValueError("the translate stage needs input_ids")
        return self.decoder(input_ids, attention_mask, features, feature_mask)

    @torch.no_grad()
    def translate(
        self, video: torch.Tensor, mask: torch.Tensor, num_beams: int = 4, max_new_tokens: int = 64
    ) -> list[list[int]]:
        """Token ids (without BOS/EOS) for each video."""
        if self.decoder is None:
            raise ValueError("translate needs a model built with stage: translate")
        features, feature_mask = self.encode(video, mask)
        return self.decoder.generate(features, feature_mask, num_beams, max_new_tokens)

    # --- weights and adapters ---------------------------------------------------------------

    def load_pretrained(self) -> None:
        """Load the frozen DINOv2 and LM weights from the config's `pretrained` paths."""
        self.spatial.load_pretrained()
        if self.decoder is not None and self.cfg.decoder.pretrained is not None:
            self.decoder.load_pretrained(self.cfg.decoder.pretrained)

    def is_trainable(self, name: str) -> bool:
        """Whether the parameter or buffer `name` trains (and so goes in adapter checkpoints)."""
        if self.cfg.freeze_visual and name.startswith(VISUAL_PARTS):
            return False
        if name == FIXED_PROTOTYPES and not self.cfg.prototype_head.trainable_prototypes:
            return False  # still ours: checkpoints keep them (see `is_own`)
        return self.is_own(name)

    def is_own(self, name: str) -> bool:
        """Whether `name` is ours (adapters, heads, sign encoder), not a pretrained backbone's.

        Unlike `is_trainable` this ignores `freeze_visual`: frozen stage-1 adapters are still
        ours, and a checkpoint must hold them (no pretrained file has them).
        """
        part, _, rest = name.partition(".")
        child = getattr(self, part)
        return child.is_trainable(rest) if hasattr(child, "is_trainable") else True

    def mark_trainable(self) -> None:
        """Set requires_grad from `is_trainable` on every parameter."""
        for name, param in self.named_parameters():
            param.requires_grad_(self.is_trainable(name))

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """The adapter checkpoint: trainable parameters and their modules' buffers (BatchNorm)."""
        return {k: v for k, v in self.state_dict().items() if self.is_trainable(k)}

    def load_trainable_state_dict(
        self, state: dict[str, torch.Tensor], *, source: str = "checkpoint", strict: bool = True
    ) -> list[str]:
        """Load an adapter checkpoint; return the trainable keys it did not have.

        Args:
            state: from `trainable_state_dict` (possibly of a model of the other stage).
            source: where it came from, for error messages.
            strict: fail when a trainable key is missing. Keys that are not ours are skipped
                only when not strict (e.g. the stage-1 prototype head in stage 2).
        """
        own = self.trainable_state_dict()
        unknown = sorted(set(state) - set(own))
        missing = sorted(set(own) - set(state))
        if strict and (unknown or missing):
            what = f"unexpected key {unknown[0]!r}" if unknown else f"missing key {missing[0]!r}"
            raise CheckpointError(source, f"does not fit this model: {what}")
        for key in set(own) & set(state):
            if state[key].shape != own[key].shape:
                raise CheckpointError(
                    source,
                    f"{key} has shape {tuple(state[key].shape)}, "
                    f"model needs {tuple(own[key].shape)}",
                )
        self.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
        return missing

    def parameter_counts(self) -> dict[str, dict[str, Any]]:
        """Table 1b: params and trainable params per part and in total."""
        parts = {"spatial": self.spatial, "sign_encoder": self.sign_encoder}
        if self.prototype_head is not None:
            parts["prototype_head"] = self.prototype_head
        if self.decoder is not None:
            parts["decoder"] = self.decoder
        counts = {name: count_parameters(module) for name, module in parts.items()}
        counts["total"] = count_parameters(self)
        return counts


def is_pretrained_weight(model: Sign2GPT, name: str) -> bool:
    """Whether `name` is a frozen backbone weight that a configured pretrained file provides
    (so a checkpoint does not copy it)."""
    cfg = model.cfg
    external = []
    if cfg.spatial.pretrained is not None:
        external.append("spatial.")
    if model.decoder is not None and cfg.decoder.pretrained is not None:
        external.append("decoder.")
    return name.startswith(tuple(external)) and not model.is_own(name)


def checkpoint_tensors(model: Sign2GPT) -> dict[str, torch.Tensor]:
    """Our weights and buffers (adapters, heads, sign encoder: also when frozen, as the stage-1
    parts of Sign(Z)2GPT), plus frozen parts that no pretrained file provides.

    Frozen weights loaded from a pretrained path (DINOv2, XGLM) are referenced by that path in
    the stored config instead of being copied; randomly initialised frozen parts (tests,
    ablations) must be stored or the checkpoint could not be rebuilt.
    """
    return {
        name: tensor
        for name, tensor in model.state_dict().items()
        if not is_pretrained_weight(model, name)
    }
