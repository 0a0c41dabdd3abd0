"""Exported model folders (`sign2gpt export`): their layout, and loading one back.

A folder holds everything a trained stage-2 model needs, in safetensors and JSON only, at
paths relative to the folder (so it can be moved, copied or uploaded to a model hub as it is):

    sign2gpt.json         manifest: format, resolved run config(s), dtype, files + sha256,
                          metrics of the run, date, commit, licence
    model.safetensors     the stage-2 model's weights (all, or only ours with
                          --reference-pretrained; the manifest then names the pretrained files)
    tokenizer/            tokenizer.json + special_tokens.json
    stage1.safetensors    the stage-1 model (pseudo-gloss head) where it differs from stage 2
    glosses/vocab.json    the pseudo-gloss vocabulary
    README.md             the model card
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from sign2gpt.checkpoint import load_model_tensors
from sign2gpt.errors import CheckpointError
from sign2gpt.inference.trained import TrainedModel
from sign2gpt.io import sha256_of
from sign2gpt.models.sign2gpt import Sign2GPT
from sign2gpt.models.tokenizer import TextTokenizer, check_compatible
from sign2gpt.run_config import RunConfig, run_config_from_dict
from sign2gpt.text import PseudoGlossVocab

FORMAT = "sign2gpt-model-v1"
MANIFEST = "sign2gpt.json"
WEIGHTS = "model.safetensors"
STAGE1_WEIGHTS = "stage1.safetensors"
TOKENIZER_DIR = "tokenizer"
GLOSSES_DIR = "glosses"
CARD = "README.md"

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def is_exported(path: str | Path) -> bool:
    """Whether `path` is a folder written by `sign2gpt export`."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The folder's `sign2gpt.json`, checked for its format."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise CheckpointError(folder, f"is not an exported model folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(path, f"cannot be read as JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(path, f"is not a {FORMAT} manifest")
    return manifest


def load_exported(folder: str | Path, device: str | torch.device = "cpu") -> TrainedModel:
    """The stage-2 model of an exported folder, with its stage-1 model as `.stage1` (if any).

    Weights stored in bf16/fp16 are loaded into the float32 model (exact upcast).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    check_pretrained_files(folder, manifest.get("pretrained", {}))
    cfg = _config(manifest["config"], folder)
    tokenizer = TextTokenizer.load(folder / TOKENIZER_DIR)
    check_compatible(tokenizer, cfg.model.decoder, where=f"{folder}/{TOKENIZER_DIR}")
    model = Sign2GPT(cfg.model)
    model.load_pretrained()  # only with --reference-pretrained: those paths are kept
    load_model_tensors(model, _read_weights(folder / WEIGHTS), folder / WEIGHTS)
    device = torch.device(device)
    trained = TrainedModel(folder, cfg, model.to(device).eval(), device, tokenizer)
    if manifest.get("stage1") is not None:
        trained.stage1 = _load_stage1(folder, manifest["stage1"], model, device)
    return trained


def _load_stage1(
    folder: Path, stage1_cfg: dict, stage2: Sign2GPT, device: torch.device
) -> TrainedModel:
    cfg = _config(stage1_cfg, folder)
    vocab = PseudoGlossVocab.load(folder / GLOSSES_DIR)
    model = Sign2GPT(cfg.model, num_glosses=len(vocab))
    model.load_pretrained()
    # Tensors stage 1 shares with stage 2 (e.g. the frozen ViT) are stored once, in stage 2.
    own = model.state_dict()
    shared = {k: v for k, v in stage2.state_dict().items() if k in own}
    load_model_tensors(model, shared, folder / WEIGHTS)
    load_model_tensors(model, _read_weights(folder / STAGE1_WEIGHTS), folder / STAGE1_WEIGHTS)
    return TrainedModel(folder, cfg, model.to(device).eval(), device, vocab=vocab)


def _config(data: dict, folder: Path) -> RunConfig:
    return run_config_from_dict(data, where=f"{folder / MANIFEST}:config")


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(path, "is missing from the exported model folder")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(path, f"not a readable safetensors file ({exc})") from None


def check_pretrained_files(folder: Path, pretrained: dict[str, dict[str, Any]]) -> None:
    """With --reference-pretrained: every referenced file exists with the recorded sha256."""
    for part, entry in pretrained.items():
        for path, digest in entry["sha256"].items():
            if not Path(path).is_file():
                raise CheckpointError(
                    folder / MANIFEST, f"{part}: the referenced pretrained file {path} is missing"
                )
            if sha256_of(path) != digest:
                raise CheckpointError(
                    path, f"its sha256 differs from the one {folder / MANIFEST} records ({part})"
                )
