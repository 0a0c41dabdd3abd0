"""Checkpoints as safetensors: model tensors, optimizer state and JSON metadata, no pickle.

A checkpoint holds what cannot be rebuilt from the config: trainable weights, buffers and any
frozen weight that was not loaded from a pretrained file (those are referenced by path in the
config). Optimizer, scheduler and RNG states are stored too so that a killed run resumes to the
same result.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from sign2gpt.errors import CheckpointError
from sign2gpt.io import atomic_path

FORMAT = "sign2gpt-checkpoint-v1"
_MODEL = "model/"
_OPTIM = "optim/"
_RNG = "rng/"


@dataclass
class Checkpoint:
    """The content of one checkpoint file."""

    model: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    rng: dict[str, torch.Tensor] = field(default_factory=dict)


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> None:
    """Write `ckpt` to `path` atomically (temp file + rename)."""
    tensors = {_MODEL + k: v.detach().contiguous().cpu() for k, v in ckpt.model.items()}
    meta = dict(ckpt.meta)
    if ckpt.optimizer is not None:
        optim_tensors, optim_meta = _flatten_optimizer(ckpt.optimizer)
        tensors.update(optim_tensors)
        meta["optimizer"] = optim_meta
    tensors.update({_RNG + k: v.contiguous().cpu() for k, v in ckpt.rng.items()})
    metadata = {"format": FORMAT, "meta": json.dumps(meta, ensure_ascii=False)}
    try:
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)
    except (OSError, SafetensorError) as exc:
        if not _is_disk_full(exc):
            raise
        raise CheckpointError(
            path, "no space left on the device while writing it; the previous file is intact"
        ) from None


def _is_disk_full(exc: BaseException) -> bool:
    """ENOSPC from Python (OSError) or from safetensors' Rust writer (`Os { code: 28 ... }`)."""
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    return f"code: {errno.ENOSPC}," in str(exc) or "No space left" in str(exc)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`; anything else is a CheckpointError."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(path, "is a folder; give the checkpoint file (e.g. best.safetensors)")
    if not path.exists():
        raise CheckpointError(path, "checkpoint file does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            if metadata.get("format") != FORMAT:
                raise CheckpointError(path, "not a sign2gpt checkpoint (no sign2gpt metadata)")
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
        meta = json.loads(metadata.get("meta", "{}"))  # a JSON error is a ValueError
        if not isinstance(meta, dict):
            raise ValueError("its metadata is not a JSON object")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(path, f"not a readable safetensors checkpoint ({exc})") from None
    optim_meta = meta.pop("optimizer", None)
    model = {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    rng = {k[len(_RNG) :]: v for k, v in tensors.items() if k.startswith(_RNG)}
    optimizer = None
    if optim_meta is not None:
        optimizer = _unflatten_optimizer(tensors, optim_meta)
    return Checkpoint(model=model, meta=meta, optimizer=optimizer, rng=rng)


def load_model_tensors(
    module: torch.nn.Module,
    tensors: dict[str, torch.Tensor],
    path: str | Path,
    expected: Iterable[str] | None = None,
) -> None:
    """Copy checkpoint tensors into `module`, naming any mismatch (another model size?).

    Args:
        module: the model, already holding its pretrained frozen weights.
        tensors: the checkpoint's model tensors.
        path: the checkpoint, for messages.
        expected: the tensors the checkpoint must hold; any absent is an error. Callers
            leave out frozen parts that a pretrained file referenced by path provides. None:
            no check (a partial load that other files complete).
    """
    own = module.state_dict()
    unknown = sorted(set(tensors) - set(own))
    if unknown:
        raise CheckpointError(
            path, f"holds {len(unknown)} tensors this model does not have: {_first(unknown)}"
        )
    missing = sorted(set(expected or ()) - set(tensors))
    if missing:  # loading anyway would translate with random weights, silently
        raise CheckpointError(
            path,
            f"lacks {len(missing)} tensors the model needs: {_first(missing)} "
            "(a damaged checkpoint, or one from another model config)",
        )
    for name, value in tensors.items():
        if own[name].shape != value.shape:
            raise CheckpointError(
                path,
                f"tensor {name!r} has shape {tuple(value.shape)} but the model expects "
                f"{tuple(own[name].shape)}: the checkpoint is from another model size",
            )
    module.load_state_dict(tensors, strict=False)


def _first(names: list[str], count: int = 3) -> str:
    """The first `count` names, quoted, and how many more."""
    shown = ", ".join(repr(name) for name in names[:count])
    return shown + (f" and {len(names) - count} more" if len(names) > count else "")


def _flatten_optimizer(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict]:
    """Split a torch optimizer state dict into tensors and JSON-able metadata."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, state in state_dict["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{_OPTIM}{index}/{key}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(_OPTIM):
            index, name = key[len(_OPTIM) :].split("/", 1)
            state.setdefault(int(index), {})[name] = value
    for index, values in meta["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}
