"""The config of one run: `model`, `data`, `text` and `train` sections plus run-level keys.

Read from YAML (`-c file.yaml`), then `key.sub=value` overrides from the command line; every
key is checked (unknown keys and wrong types name the file and the key).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sign2gpt.config import (
    apply_overrides,
    blaming_overrides,
    from_dict,
    key_where,
    load_config,
    to_dict,
)
from sign2gpt.data.config import DataConfig
from sign2gpt.errors import ConfigError
from sign2gpt.models.config import ModelConfig, model_config_from_dict
from sign2gpt.models.weights import hf_vocab_size
from sign2gpt.train_config import TrainConfig


@dataclass
class TextConfig:
    """Text side: language, pseudo-glosses + prototypes (stage 1) and tokenizer (stage 2)."""

    lang: Literal["de", "zh"] = "de"
    # Folder written by `sign2gpt glosses` (vocab.json + prototypes.safetensors); None = build
    # them from the training translations into the run folder.
    glosses: str | None = None
    # fastText .bin/.vec for the prototypes when they are built here; None = train fastText.
    vectors: str | None = None
    tagger: Literal["auto", "spacy", "hanta", "jieba"] = "auto"
    # Tokenizer folder; None = the decoder's pretrained folder.
    tokenizer: str | None = None
    # Stage-1 dev pseudo-gloss decision threshold on the summed scores.
    gloss_threshold: float = 0.5
    # Sentences the pseudo-gloss vocabulary is built from: `train` (ours), or `all`: the
    # train, dev and test splits (the authors' code; it reads the test translations).
    gloss_vocabulary: Literal["train", "all"] = "train"
    # Stage-1 tokens: `pseudo_glosses` (the content words, the paper's) or `all_words` (every
    # lemmatised word: the paper's token ablation).
    gloss_tokens: Literal["pseudo_glosses", "all_words"] = "pseudo_glosses"
    # Leave out of the stage-1 targets every pseudo-gloss in at least this share of the
    # vocabulary's sentences (authors: 0.4); null = keep all.
    max_gloss_frequency: float | None = None

    def __post_init__(self) -> None:
        if self.max_gloss_frequency is not None and not 0.0 < self.max_gloss_frequency <= 1.0:
            raise ValueError(
                f"text.max_gloss_frequency must be in (0, 1], got {self.max_gloss_frequency}"
            )


@dataclass
class RunConfig:
    """Everything one `pretrain` or `train` run needs."""

    name: str = "run"
    out_dir: str = "runs"
    # Checkpoint that starts stage 2: stage 1 (spatial + sign encoder) or stage 2 (those and
    # the decoder adapters, e.g. a Sign(Z)2GPT run to go on end to end).
    init: str | None = None
    # Sign(Z)2GPT: folder of features from `sign2gpt extract`; stage 2 trains on them.
    features: str | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=lambda: DataConfig(root="."))
    text: TextConfig = field(default_factory=TextConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if self.features and (self.stage != "translate" or not self.model.freeze_visual):
            raise ConfigError(
                "features (Sign(Z)2GPT) needs model.stage: translate and model.freeze_visual: true"
            )

    @property
    def stage(self) -> str:
        return self.model.stage


def run_config_from_dict(data: dict[str, Any], where: str = "config") -> RunConfig:
    """Build a `RunConfig` from a (merged) mapping; `model:` may start from a named preset."""
    data = dict(data)
    if not data.get("data"):
        raise ConfigError(
            f"{where.rstrip(':')}: the `data:` section is missing (data.root at least)"
        )
    # Resolve the model preset first; from_dict then checks the result like any other section.
    model_where = key_where(where, "model")
    model = to_dict(model_config_from_dict(data.get("model"), where=model_where))
    decoder = model["decoder"]
    given = "vocab_size" in ((data.get("model") or {}).get("decoder") or {})
    if not given and decoder["pretrained"] is not None:
        # The LM folder knows its embedding size: a stand-in from `sign2gpt lm train` has
        # its tokenizer's, the real XGLM 256008.
        decoder["vocab_size"] = hf_vocab_size(decoder["pretrained"]) or decoder["vocab_size"]
    data["model"] = model
    return from_dict(RunConfig, data, where=where)


def load_run_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML config and apply `key.sub=value` overrides; relative paths become absolute
    (relative to the working directory, as documented), so that the run folder's config and
    its checkpoints work from any other folder."""
    overrides = overrides or []
    data = apply_overrides(load_config(path), overrides)
    with blaming_overrides(overrides):
        return absolute_paths(run_config_from_dict(data, where=f"{path}:"))


def absolute_paths(cfg: RunConfig) -> RunConfig:
    """`cfg` with every path it names made absolute (symlinks kept as given)."""

    def absolute(path):
        return None if path is None else type(path)(os.path.abspath(path))

    model = dataclasses.replace(
        cfg.model,
        spatial=dataclasses.replace(
            cfg.model.spatial, pretrained=absolute(cfg.model.spatial.pretrained)
        ),
        decoder=dataclasses.replace(
            cfg.model.decoder, pretrained=absolute(cfg.model.decoder.pretrained)
        ),
    )
    text = dataclasses.replace(
        cfg.text,
        glosses=absolute(cfg.text.glosses),
        vectors=absolute(cfg.text.vectors),
        tokenizer=absolute(cfg.text.tokenizer),
    )
    data = dataclasses.replace(
        cfg.data, root=absolute(cfg.data.root), cache_dir=absolute(cfg.data.cache_dir)
    )
    return dataclasses.replace(
        cfg,
        out_dir=absolute(cfg.out_dir),
        init=absolute(cfg.init),
        features=absolute(cfg.features),
        model=model,
        data=data,
        text=text,
    )
