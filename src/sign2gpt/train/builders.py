"""Build the pieces of a run from its config: glosses, tokenizer, model, stage module."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from sign2gpt.checkpoint import load_checkpoint, load_model_tensors
from sign2gpt.data import VideoDataset
from sign2gpt.data.readers import read_split
from sign2gpt.data.records import VideoRecord
from sign2gpt.errors import CheckpointError, DataError
from sign2gpt.models.performance import (
    cast_frozen_weights,
    compile_model,
    enable_activation_checkpointing,
)
from sign2gpt.models.sign2gpt import VISUAL_PARTS, Sign2GPT, is_pretrained_weight
from sign2gpt.run_config import RunConfig
from sign2gpt.text import (
    PseudoGlossVocab,
    build_prototypes,
    build_pseudo_glosses,
    load_prototypes,
    load_targets,
    save_prototypes,
)
from sign2gpt.train.checkpointing import checkpoint_tensors
from sign2gpt.train_config import TrainConfig

log = logging.getLogger(__name__)


@dataclass
class Glosses:
    """Stage-1 targets: vocabulary, prototype vectors (K, D) and sentence -> pseudo-glosses."""

    vocab: PseudoGlossVocab
    prototypes: torch.Tensor
    targets: dict[str, list[str]]
    folder: Path


def prepare_glosses(cfg: RunConfig, train: VideoDataset, folder: Path) -> Glosses:
    """Load the configured pseudo-glosses, or build them from the training text into `folder`.

    A folder that already holds them (a resumed run) is reused as it is.
    """
    source = Path(cfg.text.glosses) if cfg.text.glosses else folder
    all_words = cfg.text.gloss_tokens == "all_words"
    if not (source / "vocab.json").is_file():
        records = vocabulary_records(cfg, train)
        texts = [record.text for record in records]
        result = build_pseudo_glosses(texts, cfg.text.lang, cfg.text.tagger, all_words=all_words)
        prototypes, origin = build_prototypes(
            result.vocab.words,
            corpus=result.vector_corpus,
            vectors_path=cfg.text.vectors,
            dim=cfg.model.prototype_head.word_dim,
            seed=cfg.train.seed,
        )
        result.save(folder, ids=[record.id for record in records])
        save_prototypes(folder, result.vocab.words, prototypes, origin)
        source = folder
    vocab = PseudoGlossVocab.load(source)
    if vocab.all_words != all_words:
        built = "all words" if vocab.all_words else "pseudo-glosses"
        raise DataError(
            source / "vocab.json",
            f"built from {built}, but text.gloss_tokens is {cfg.text.gloss_tokens}",
        )
    prototypes = load_prototypes(source, vocab.words)
    if cfg.text.max_gloss_frequency is not None:
        try:
            vocab = vocab.without_frequent(cfg.text.max_gloss_frequency)
        except ValueError as exc:
            raise DataError(source / "vocab.json", f"text.max_gloss_frequency: {exc}") from None
        log.info("left %d frequent pseudo-glosses out of the targets: %s",
                 len(vocab.excluded), ", ".join(sorted(vocab.excluded)))  # fmt: skip
    return Glosses(vocab, prototypes, load_targets(source), source)


def vocabulary_records(cfg: RunConfig, train: VideoDataset) -> list[VideoRecord]:
    """The rows whose translations make the pseudo-gloss vocabulary (`text.gloss_vocabulary`)."""
    records = list(train.records)
    if cfg.text.gloss_vocabulary == "all":
        for split in (cfg.data.dev_split, cfg.data.test_split):
            records += read_split(cfg.data, split).records
    return records


def build_model(cfg: RunConfig, glosses: Glosses | None = None) -> Sign2GPT:
    """The stage's model with its frozen pretrained parts loaded (and its `init` checkpoint)."""
    if cfg.stage == "pretrain":
        if glosses is None:
            raise ValueError("the pretrain stage needs its pseudo-glosses")
        model = Sign2GPT(cfg.model, prototypes=glosses.prototypes)
    else:
        model = Sign2GPT(cfg.model)
    model.load_pretrained()
    if cfg.init:
        load_init(model, cfg.init)
    dtype = frozen_weight_dtype(cfg.train)
    if dtype is not None:  # training and validation run under the matching autocast
        cast_frozen_weights(model, dtype, lambda name: is_pretrained_weight(model, name))
    if cfg.train.activation_checkpointing:
        enable_activation_checkpointing(model)
    if cfg.train.compile:
        compile_model(model)
    return model


def frozen_weight_dtype(cfg: TrainConfig) -> torch.dtype | None:
    """The dtype to store frozen pretrained weights in (`train.cast_frozen_weights`), or None.

    None under FSDP: it flattens each wrapped module's parameters into one tensor of one
    dtype, and our trainable adapters stay fp32 beside the frozen weights.
    """
    if not cfg.cast_frozen_weights or cfg.strategy == "fsdp":
        return None
    return {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(cfg.precision)


def load_init(model: Sign2GPT, path: str | Path) -> None:
    """Start from an earlier run's checkpoint.

    A stage-1 checkpoint gives the spatial model and sign encoder (its prototype head is
    dropped). A stage-2 checkpoint (e.g. Sign(Z)2GPT, trained on frozen features) gives those
    and the decoder's adapters, so training goes on end to end from it.
    """
    ckpt = load_checkpoint(path)
    parts = VISUAL_PARTS
    if model.decoder is not None and ckpt.meta.get("stage") == "translate":
        parts += ("decoder.",)
    tensors = {k: v for k, v in ckpt.model.items() if k.startswith(parts)}
    if not any(k.startswith(VISUAL_PARTS) for k in tensors):
        raise CheckpointError(path, "holds no spatial / sign encoder weights (not a trained run?)")
    # Frozen pretrained weights are in the checkpoint only when no pretrained file provided them.
    expected = [k for k in checkpoint_tensors(model) if k.startswith(parts)]
    load_model_tensors(model, tensors, path, expected=expected)
    log.info("initialised %d tensors from %s", len(tensors), path)
