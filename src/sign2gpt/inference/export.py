"""`sign2gpt export`: a trained stage-2 checkpoint -> a self-contained, movable model folder.

The layout is described in `sign2gpt.inference.exported`. The run folder, the stage-1 run,
its pseudo-gloss folder and the LM / ViT folders can all be deleted afterwards (unless
`reference_pretrained`, which keeps the large pretrained files where they are and records
their sha256 instead of copying them).
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from sign2gpt import __version__
from sign2gpt.checkpoint import load_checkpoint
from sign2gpt.config import to_dict
from sign2gpt.errors import CheckpointError, ConfigError
from sign2gpt.inference.exported import (
    CARD,
    DTYPES,
    FORMAT,
    GLOSSES_DIR,
    MANIFEST,
    STAGE1_WEIGHTS,
    TOKENIZER_DIR,
    WEIGHTS,
)
from sign2gpt.inference.model_card import model_card
from sign2gpt.inference.trained import TrainedModel, load_trained, stage1_of
from sign2gpt.io import atomic_path, sha256_of, write_json, write_text
from sign2gpt.models.sign2gpt import is_pretrained_weight


def export_model(
    checkpoint: str | Path,
    out: str | Path,
    *,
    dtype: str = "fp32",
    reference_pretrained: bool = False,
    licence: str = "other",
) -> Path:
    """Write the model of stage-2 `checkpoint` (and its stage 1, if it has one) into `out`.

    Args:
        checkpoint: a stage-2 checkpoint file.
        out: the new folder (must not exist, or be empty).
        dtype: "fp32", "bf16" or "fp16": how floating-point weights are stored.
        reference_pretrained: record the frozen pretrained files (paths + sha256) instead of
            copying their weights.
        licence: the model card's licence field (a model-hub licence id, e.g. "cc-by-nc-4.0").
    Returns:
        the folder.
    """
    if dtype not in DTYPES:
        raise ConfigError(f"--dtype: {dtype!r} is not one of {', '.join(DTYPES)}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out}: already exists and is not an empty folder")
    trained = load_trained(checkpoint)
    if trained.cfg.stage != "translate":
        raise CheckpointError(checkpoint, "is a stage-1 checkpoint; export needs stage 2")
    stage1 = stage1_of(trained) if trained.cfg.init else None
    # Written next to `out` and renamed at the end: a failed export leaves no half folder.
    tmp = out.with_name(f".{out.name}.export-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        manifest = _write_folder(tmp, Path(checkpoint), trained, stage1, dtype,
                                 reference_pretrained, licence)  # fmt: skip
        write_text(tmp / CARD, model_card(manifest))
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _write_folder(
    folder: Path,
    checkpoint: Path,
    trained: TrainedModel,
    stage1: TrainedModel | None,
    dtype: str,
    reference: bool,
    licence: str,
) -> dict[str, Any]:
    _save(folder / WEIGHTS, _stored(trained, reference, dtype))
    trained.tokenizer.save(folder / TOKENIZER_DIR)
    stage1_config = None
    if stage1 is not None:
        # Tensors equal to stage 2's (the frozen ViT, a frozen encoder) are stored once.
        shared = trained.model.state_dict()
        _save(folder / STAGE1_WEIGHTS, _stored(stage1, reference, dtype, shared))
        stage1.vocab.save(folder / GLOSSES_DIR)
        stage1_config = portable_config(stage1, reference)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    manifest = {
        "format": FORMAT,
        "config": portable_config(trained, reference),
        "stage1": stage1_config,
        "dtype": dtype,
        "pretrained": _pretrained_files(trained, stage1) if reference else {},
        "files": {p.relative_to(folder).as_posix(): sha256_of(p) for p in files},
        "metrics": run_metrics(checkpoint),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "sign2gpt_version": __version__,
        "commit": source_commit(),
        "licence": licence,
        "source_checkpoint": str(checkpoint.resolve()),
    }
    write_json(folder / MANIFEST, manifest)
    return manifest


def _stored(
    trained: TrainedModel,
    reference: bool,
    dtype: str,
    stored_already: dict[str, torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """The weights to write: all of the model's (or, referencing, all but the pretrained),
    less those equal to a tensor of the same name in `stored_already` (stage 1 beside 2)."""
    model = trained.model
    stored_already = stored_already or {}
    return {
        name: tensor.detach().to(DTYPES[dtype] if tensor.is_floating_point() else tensor.dtype)
        for name, tensor in model.state_dict().items()
        if not (reference and is_pretrained_weight(model, name))
        and not _same(stored_already.get(name), tensor)
    }


def _same(a: torch.Tensor | None, b: torch.Tensor) -> bool:
    return a is not None and a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)


def _save(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    # clone: tied weights share storage, which safetensors refuses to write.
    with atomic_path(path) as tmp:
        save_file({k: v.cpu().clone().contiguous() for k, v in tensors.items()}, str(tmp))


def portable_config(trained: TrainedModel, reference: bool) -> dict[str, Any]:
    """The run config with every path that pointed outside the folder cleared.

    The pretrained ViT / LM paths stay (absolute) only when they are referenced.
    """
    data = to_dict(trained.cfg)
    data["init"] = data["features"] = None
    data["text"].update(glosses=None, vectors=None, tokenizer=None)
    data["data"]["cache_dir"] = None
    for part in ("spatial", "decoder"):
        path = data["model"][part].get("pretrained")
        keep = reference and path is not None
        data["model"][part]["pretrained"] = str(Path(path).resolve()) if keep else None
    return data


def _pretrained_files(trained: TrainedModel, stage1: TrainedModel | None) -> dict[str, Any]:
    """part -> {"path", "sha256": {file: digest}} of the referenced pretrained weights."""
    found: dict[str, Any] = {}
    for model in (trained, stage1):
        if model is None:
            continue
        for part in ("spatial", "decoder"):
            path = getattr(model.cfg.model, part, None)
            path = getattr(path, "pretrained", None)
            if path is None or part in found:
                continue
            path = Path(path).resolve()
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            found[part] = {"path": str(path), "sha256": {str(p): sha256_of(p) for p in files}}
    return found


def run_metrics(checkpoint: Path) -> dict[str, Any]:
    """What the run measured: its best dev BLEU-4 (and epoch), and any `evaluate` results."""
    meta = load_checkpoint(checkpoint).meta
    metrics: dict[str, Any] = {
        "selection": {"metric": "dev bleu4", "value": meta.get("best_metric"),
                      "epoch": meta.get("best_epoch")},
    }  # fmt: skip
    evaluations = {}
    for path in sorted((checkpoint.resolve().parent.parent / "eval").glob("*.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a stray or half-written file is not a metric
        keys = ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "videos", "num_beams")
        if isinstance(result, dict) and "bleu4" in result:
            evaluations[path.stem] = {k: result[k] for k in keys if k in result}
    if evaluations:
        metrics["evaluate"] = evaluations
    return metrics


def source_commit() -> str | None:
    """The git commit of the sign2gpt source tree, when it is a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
            text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
