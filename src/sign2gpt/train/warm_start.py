"""Stage 2 from a stage-1 model in two steps: Sign(Z)2GPT first, then end to end from it.

Why: stage 2's cross-attention gates start at 0, so at first the LM loss sends the visual side
almost no gradient, and what it sends is noise; Adam scales those tiny gradients up to
full-size steps. On SynthSign `full` (2 CPU epochs at lr 2e-3), end-to-end stage 2 from stage 1
ended not reading the video at all (dev token accuracy 0.3805 with each video's own features
and with another video's), while the same adapters trained on the frozen, extracted stage-1
features read it (0.397 against 0.369) and reached dev BLEU-4 6.2 instead of 3.9. So the
adapters first learn on the frozen features, which is also cheap (no video decoding, no ViT),
and end-to-end training then starts with its gates open.

The same steps by hand: `sign2gpt extract` (train and dev), `sign2gpt train features=...
model.freeze_visual=true --init <stage 1>`, then `sign2gpt train --init <that run's best>`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from sign2gpt.devices import parse_device
from sign2gpt.errors import ConfigError
from sign2gpt.inference.trained import load_trained
from sign2gpt.run_config import RunConfig
from sign2gpt.train.features import extract_features
from sign2gpt.train.run import start_run, train_stage
from sign2gpt.train.run_dir import RunDir
from sign2gpt.train_config import scaled_epochs


@dataclass(frozen=True)
class WarmStart:
    """Epochs of each step (the config's `train.epochs` is not used)."""

    z_epochs: int  # Sign(Z)2GPT on the frozen stage-1 features
    end_to_end_epochs: int  # everything trainable, from the Sign(Z)2GPT run's best checkpoint
    # Learning rate of the end-to-end step (None: the config's). The adapters are trained
    # already, so the end-to-end step fine-tunes: on SynthSign `small` one epoch at 3e-4 lifted
    # dev BLEU-4 24.4 -> 26.4, at 2e-3 it fell to 20.9 first.
    end_to_end_lr: float | None = None

    def scaled(self, factor: float) -> WarmStart:
        """Both epoch counts times `factor` (at least 1 each)."""
        return dataclasses.replace(
            self,
            z_epochs=scaled_epochs(self.z_epochs, factor),
            end_to_end_epochs=scaled_epochs(self.end_to_end_epochs, factor),
        )


def sign_z2gpt_config(cfg: RunConfig, features: Path, epochs: int) -> RunConfig:
    """`cfg` as a Sign(Z)2GPT run on `features` for `epochs` (BLEU once, at the end)."""
    train = dataclasses.replace(cfg.train, epochs=epochs, bleu_every=epochs)
    model = dataclasses.replace(cfg.model, freeze_visual=True)
    return dataclasses.replace(
        cfg, name=f"{cfg.name}-z", features=str(features), model=model, train=train
    )


def train_sign_z2gpt(cfg: RunConfig, features: str | Path, epochs: int) -> RunDir:
    """Extract `cfg.init`'s features of train and dev into `features`, then train Sign(Z)2GPT
    on them for `epochs`; returns its run."""
    if not cfg.init:
        raise ConfigError("a warm start needs a stage-1 checkpoint in `init`")
    features = Path(features)
    stage1 = load_trained(cfg.init, parse_device(cfg.train.accelerator))
    for split in (cfg.data.train_split, cfg.data.dev_split):
        extract_features(stage1, split, features)
    del stage1
    z_cfg = sign_z2gpt_config(cfg, features, epochs)
    z_run = start_run(z_cfg)
    train_stage(z_cfg, z_run)
    return z_run


def train_end_to_end_from(cfg: RunConfig, z_run: RunDir, epochs: WarmStart) -> RunDir:
    """Train `cfg` end to end for `epochs.end_to_end_epochs` (at `epochs.end_to_end_lr`),
    starting from the Sign(Z)2GPT run's best checkpoint."""
    train = dataclasses.replace(
        cfg.train,
        epochs=epochs.end_to_end_epochs,
        lr=epochs.end_to_end_lr or cfg.train.lr,
    )
    end_to_end = dataclasses.replace(cfg, init=str(z_run.checkpoint("best")), train=train)
    run = start_run(end_to_end)
    train_stage(end_to_end, run)
    return run


def train_warm_started(
    cfg: RunConfig, features: str | Path, epochs: WarmStart
) -> tuple[RunDir, RunDir]:
    """Sign(Z)2GPT on `cfg.init`'s frozen features (`train_sign_z2gpt`), then `cfg` end to end
    from its best checkpoint (`train_end_to_end_from`).

    Returns:
        (the Sign(Z)2GPT run, the end-to-end run).
    """
    z_run = train_sign_z2gpt(cfg, features, epochs.z_epochs)
    return z_run, train_end_to_end_from(cfg, z_run, epochs)
