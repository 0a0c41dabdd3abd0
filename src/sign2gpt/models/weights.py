"""Reading pretrained weights from local files, safely (safetensors or weights-only torch.load).

Layouts: the original DINOv2 release (`dinov2_vits14_pretrain.pth`), Hugging Face
`Dinov2Model` folders, and Hugging Face causal-LM folders (config.json + `model.safetensors`,
sharded safetensors, or `pytorch_model.bin`). Every failure is a `CheckpointError` naming the
file and the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sign2gpt.errors import CheckpointError
from sign2gpt.models.adapters import is_adapter_name

StateDict = dict[str, torch.Tensor]


def read_weights(path: str | Path) -> StateDict:
    """Read one weight file: `.safetensors`, else a weights-only torch file (.pth/.pt/.bin)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "weight file does not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = _torch_load(path)
    except CheckpointError:
        raise
    except Exception as exc:  # corrupt or foreign files surface as many exception types
        raise CheckpointError(path, _read_problem(exc)) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(path, "not a flat state dict of tensors")
    return state


def _read_problem(exc: Exception) -> str:
    """One line for a failed read; torch's weights-only refusal gets its own explanation."""
    text = str(exc).strip()
    if "Weights only load failed" in text:
        # Its message suggests weights_only=False, i.e. running the file's code: never do that.
        return (
            "cannot read weights: the file holds pickled Python objects besides tensors, which "
            "weights-only loading refuses (they could run code); convert it to .safetensors"
        )
    first_line = text.splitlines()[0] if text else ""
    return f"cannot read weights ({type(exc).__name__}: {first_line})"


def _torch_load(path: Path) -> Any:
    try:  # memory-map large files when the format allows it
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:
        return torch.load(path, map_location="cpu", weights_only=True)


def hf_vocab_size(folder: str | Path) -> int | None:
    """`vocab_size` of a Hugging Face model folder's config.json; None when there is none
    (not a folder yet, no config.json, no integer there: loading the folder reports those)."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    size = config.get("vocab_size") if isinstance(config, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def read_hf_folder(folder: str | Path) -> tuple[dict[str, Any], StateDict]:
    """Read a Hugging Face model folder: (config.json as a dict, merged state dict)."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise CheckpointError(folder, "not a Hugging Face model folder (no config.json)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(config_path, f"not valid JSON ({exc})") from None
    for single, index in (
        ("model.safetensors", "model.safetensors.index.json"),
        ("pytorch_model.bin", "pytorch_model.bin.index.json"),
    ):
        if (folder / single).is_file():
            return config, read_weights(folder / single)
        if (folder / index).is_file():
            return config, _read_shards(folder / index)
    raise CheckpointError(folder, "no model.safetensors or pytorch_model.bin (or shard index)")


def _read_shards(index_path: Path) -> StateDict:
    try:
        weight_map = json.loads(index_path.read_text(encoding="utf-8"))["weight_map"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointError(index_path, f"not a shard index ({exc})") from None
    state: StateDict = {}
    for shard in sorted(set(weight_map.values())):
        state.update(read_weights(index_path.parent / shard))
    return state


def check_hf_config(path: str | Path, config: dict[str, Any], expected: dict[str, Any]) -> None:
    """Raise unless config.json agrees with our architecture on every `expected` key."""
    for key, value in expected.items():
        if config.get(key) != value:
            raise CheckpointError(
                Path(path) / "config.json",
                f"{key} is {config.get(key)!r} but the model config needs {value!r}",
            )


def load_frozen_weights(
    module: nn.Module,
    state: StateDict,
    path: str | Path,
    ignore: Iterable[str] = (),
    may_be_missing: Callable[[str], bool] = is_adapter_name,
) -> None:
    """Load pretrained weights into `module`; only new (adapter) parameters may be missing.

    Args:
        module: the target (its own names must already match `state`).
        state: the weights.
        path: the source, for error messages.
        ignore: checkpoint keys to drop (e.g. a tied output projection).
        may_be_missing: names the checkpoint cannot have (adapters added on top).
    """
    state = {k: v for k, v in state.items() if k not in set(ignore)}
    own = module.state_dict()
    unexpected = sorted(set(state) - set(own))
    if unexpected:
        raise CheckpointError(
            path, f"unexpected weight {unexpected[0]!r} ({len(unexpected)} in all)"
        )
    missing = sorted(k for k in set(own) - set(state) if not may_be_missing(k))
    if missing:
        raise CheckpointError(path, f"missing weight {missing[0]!r} ({len(missing)} in all)")
    for key, tensor in state.items():
        if tensor.shape != own[key].shape:
            raise CheckpointError(
                path, f"{key} has shape {tuple(tensor.shape)}, model needs {tuple(own[key].shape)}"
            )
    module.load_state_dict(state, strict=False)


def load_hf_model(
    module: nn.Module,
    folder: str | Path,
    expected: dict[str, Any],
    ignore: Iterable[str] = (),
    may_be_missing: Callable[[str], bool] = is_adapter_name,
) -> None:
    """Load a Hugging Face folder whose parameter names already match `module`.

    Args:
        module: the target.
        folder: the checkpoint folder.
        expected: config.json values our architecture needs (checked first).
        ignore: checkpoint keys to drop.
        may_be_missing: names of our parameters the checkpoint cannot have.
    """
    config, state = read_hf_folder(folder)
    check_hf_config(folder, config, expected)
    load_frozen_weights(module, state, folder, ignore, may_be_missing)


# --- DINOv2 ----------------------------------------------------------------------------------

# Hugging Face Dinov2Model names (old and new transformers) -> original DINOv2 names.
_HF_DINOV2_RENAMES = [
    (r"^embeddings\.cls_token$", "cls_token"),
    (r"^embeddings\.mask_token$", "mask_token"),
    (r"^embeddings\.position_embeddings$", "pos_embed"),
    (r"^embeddings\.patch_embeddings\.projection\.", "patch_embed.proj."),
    (r"^encoder\.layer\.(\d+)\.attention\.(output\.dense|o_proj)\.", r"blocks.\1.attn.proj."),
    (r"^encoder\.layer\.(\d+)\.layer_scale(\d)\.lambda1$", r"blocks.\1.ls\2.gamma"),
    (r"^encoder\.layer\.(\d+)\.", r"blocks.\1."),
    (r"^layernorm\.", "norm."),
]
_HF_QKV = re.compile(
    r"^blocks\.(\d+)\.attention\.(?:attention\.)?(query|key|value|q_proj|k_proj|v_proj)"
    r"\.(weight|bias)$"
)
_QKV_ORDER = {"query": 0, "q_proj": 0, "key": 1, "k_proj": 1, "value": 2, "v_proj": 2}


def convert_hf_dinov2(state: StateDict) -> StateDict:
    """Rename a Hugging Face `Dinov2Model` state dict to the original layout (fused qkv)."""
    out: StateDict = {}
    qkv_parts: dict[tuple[str, str], dict[int, torch.Tensor]] = {}
    for key, tensor in state.items():
        key = key.removeprefix("dinov2.")
        for pattern, replacement in _HF_DINOV2_RENAMES:
            key, count = re.subn(pattern, replacement, key)
            if count:
                break
        match = _HF_QKV.match(key)
        if match:
            block, part, kind = match.groups()
            qkv_parts.setdefault((block, kind), {})[_QKV_ORDER[part]] = tensor
        else:
            out[key] = tensor
    for (block, kind), parts in qkv_parts.items():
        out[f"blocks.{block}.attn.qkv.{kind}"] = torch.cat([parts[i] for i in range(3)])
    if "mask_token" in out:
        out["mask_token"] = out["mask_token"].reshape(1, -1)
    return out


def load_dinov2(vit: nn.Module, path: str | Path) -> None:
    """Load DINOv2 weights into our `VisionTransformer`.

    Args:
        vit: the target.
        path: an original checkpoint file (`dinov2_vits14_pretrain.pth` layout) or a Hugging
            Face `Dinov2Model` folder (config.json + safetensors / pytorch_model.bin).
    """
    path = Path(path)
    if path.is_dir():
        config, state = read_hf_folder(path)
        cfg = vit.cfg
        expected = {
            "hidden_size": cfg.dim,
            "num_hidden_layers": cfg.depth,
            "num_attention_heads": cfg.num_heads,
            "patch_size": cfg.patch_size,
            "image_size": cfg.pos_embed_size,
        }
        check_hf_config(path, config, expected)
        if config.get("use_swiglu_ffn"):
            raise CheckpointError(path / "config.json", "SwiGLU DINOv2 models are not supported")
        state = convert_hf_dinov2(state)
    else:
        state = read_weights(path)
    load_frozen_weights(vit, state, path)
