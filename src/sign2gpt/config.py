"""Typed configs: dataclasses filled from YAML files and `key.sub=value` overrides.

Unknown keys and wrong types are errors that name the key and the file, so a typo in a
config never silently falls back to a default.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml

from sign2gpt.errors import ConfigError

T = TypeVar("T")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping with the safe loader."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file does not exist") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file is not valid UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def config_dir() -> Path:
    """The folder of the shipped configs: `$SIGN2GPT_CONFIG_DIR`, else the repository's
    `configs/` (an editable install from a clone, the supported way to install)."""
    configured = os.environ.get("SIGN2GPT_CONFIG_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "configs"


def find_base(path: Path, base: str) -> Path:
    """The file a `base:` names: a file relative to `path`'s folder, else a shipped config
    name (`phoenix14t/translate`, `.yaml` optional) under `config_dir()`, so that a copy of a
    template works wherever it lives."""
    relative = path.parent / base
    if relative.is_file():
        return relative.resolve()
    shipped = config_dir() / base
    for candidate in (shipped, shipped.with_name(shipped.name + ".yaml")):
        if candidate.is_file():
            return candidate.resolve()
    raise ConfigError(
        f"{path}: base {base!r} is neither a file next to it ({relative}) nor a shipped config "
        f"under {config_dir()} (e.g. base: phoenix14t/translate)"
    )


def load_config(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a YAML config; a top-level `base:` (see `find_base`) is read first and this file's
    keys are merged over it, so a variant states only what differs."""
    path = Path(path)
    data = load_yaml(path)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{path}: base must be a file or config name, got {base!r}")
    base_path = find_base(path, base)
    if base_path in _seen or base_path == path.resolve():
        raise ConfigError(f"{path}: base files form a cycle through {base_path}")
    return merge(load_config(base_path, (*_seen, path.resolve())), data)


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with `a.b.c=value` overrides applied (values parsed as YAML).

    Setting a `preset` drops the sub-sections the section had so far (see `merge`).
    """
    result = _deep_copy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected KEY=VALUE, e.g. train.lr=1e-4")
        value = _parse_scalar(raw)
        node = result
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = child
        if parts[-1] == "preset":
            node = _restart_at_preset(node)
        node[parts[-1]] = value
    return result


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursively merge `update` into a copy of `base` (mappings merge, other values replace).

    A section of `update` that names a `preset` starts over from that preset: the base's
    sub-sections there (e.g. the paper's explicit sizes) are dropped and only its plain keys
    (`stage`, `freeze_visual`) are inherited, so a preset given later always wins.
    """
    result = _deep_copy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            inherited = _restart_at_preset(result[key]) if "preset" in value else result[key]
            result[key] = merge(inherited, value)
        else:
            result[key] = _deep_copy(value)
    return result


def _restart_at_preset(section: dict[str, Any]) -> dict[str, Any]:
    """`section` without its sub-mappings, in place (what a newly named preset replaces)."""
    for key in [k for k, v in section.items() if isinstance(v, dict)]:
        del section[key]
    return section


# Which override set which key path ("train.epochs" -> "train.epochs=ten") while a config
# is being built, so that an error about that key names the override, not the file.
_OVERRIDDEN: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "overridden", default=None
)


@contextlib.contextmanager
def blaming_overrides(overrides: list[str]) -> Iterator[None]:
    """Within the block, errors about a key set by one of `overrides` name that override."""
    named = {item.partition("=")[0]: item for item in overrides}
    token = _OVERRIDDEN.set(named)
    try:
        yield
    finally:
        _OVERRIDDEN.reset(token)


def key_where(where: str, name: str) -> str:
    """The location of key `name` inside `where`: `file.yaml:train.epochs` (one separator
    between the file and the key path, dots inside the key path), or the override that set it.
    """
    child = f"{where}{name}" if where.endswith(":") else f"{where}.{name}"
    if where.startswith("override "):
        return child
    item = (_OVERRIDDEN.get() or {}).get(child.rpartition(":")[2])
    return f"override {item!r}" if item is not None else child


def _label(where: str) -> str:
    return where.rstrip(":")


def from_dict(cls: type[T], data: dict[str, Any] | None, *, where: str = "config") -> T:
    """Build dataclass `cls` from a mapping, checking keys and types recursively.

    Args:
        cls: the dataclass type to build.
        data: the mapping (from YAML); missing keys take the dataclass defaults.
        where: the location used in error messages: `file.yaml:` for a whole file, or a
            file and key path (`file.yaml:model`); see `key_where`.
    """
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{_label(where)}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        blamed = key_where(where, unknown[0])
        prefix = blamed if blamed.startswith("override ") else _label(where)
        raise ConfigError(
            f"{prefix}: unknown key {unknown[0]!r} (known keys: {', '.join(sorted(fields))})"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {
        name: _convert(hints[name], value, key_where(where, name)) for name, value in data.items()
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{_label(where)}: {exc}") from None


def to_dict(obj: Any) -> Any:
    """Turn a (nested) config dataclass into plain YAML/JSON-safe data."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def dump_yaml(obj: Any) -> str:
    """Render a config (dataclass or mapping) as YAML text."""
    return yaml.safe_dump(to_dict(obj), sort_keys=False, allow_unicode=True)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where=where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value, where)
            except ConfigError as exc:
                errors.append(str(exc))
        if len(errors) == 1:
            raise ConfigError(errors[0])
        raise ConfigError(f"{where}: {value!r} fits none of {hint}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item = args[0] if args else Any
        return type(value)(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if hint is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a path, got {value!r}")
        return Path(value)
    raise ConfigError(f"{where}: unsupported config type {hint}")


def _parse_scalar(raw: str) -> Any:
    """Parse an override value as YAML; also accept `2e-4`, which YAML 1.1 reads as a string."""
    value = yaml.safe_load(raw) if raw else ""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
