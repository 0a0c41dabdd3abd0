"""Config loading (strict keys and types), overrides, atomic writes and the CLI shell."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Literal

import pytest

from sign2gpt.cli import main
from sign2gpt.config import apply_overrides, from_dict, load_yaml, to_dict
from sign2gpt.errors import ConfigError
from sign2gpt.io import atomic_open, write_json


@dataclasses.dataclass
class Inner:
    width: int = 4
    rate: float = 0.1
    kind: Literal["a", "b"] = "a"


@dataclasses.dataclass
class Outer:
    name: str = "x"
    inner: Inner = dataclasses.field(default_factory=Inner)
    sizes: list[int] = dataclasses.field(default_factory=list)
    path: str | None = None


def test_from_dict_fills_nested_and_converts_ints_to_floats():
    cfg = from_dict(Outer, {"inner": {"width": 8, "rate": 1}, "sizes": [1, 2]})
    assert cfg.inner.width == 8 and cfg.inner.rate == 1.0 and isinstance(cfg.inner.rate, float)
    assert cfg.sizes == [1, 2]
    assert to_dict(cfg)["inner"] == {"width": 8, "rate": 1.0, "kind": "a"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"inner": {"widht": 3}}, "unknown key 'widht'"),
        ({"inner": {"width": "3"}}, "expected an integer"),
        ({"inner": {"width": True}}, "expected an integer"),
        ({"inner": {"kind": "c"}}, "not one of"),
        ({"sizes": 3}, "expected a list"),
        ({"inner": 5}, "expected a mapping"),
    ],
)
def test_from_dict_rejects_bad_keys_and_types(data, message):
    with pytest.raises(ConfigError, match=message) as info:
        from_dict(Outer, data, where="my.yaml")
    assert "my.yaml" in str(info.value)


def test_overrides_parse_yaml_values_and_create_sections():
    data = apply_overrides({"inner": {"width": 4}}, ["inner.width=16", "inner.rate=2e-4", "name=z"])
    assert data == {"inner": {"width": 16, "rate": 2e-4}, "name": "z"}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        apply_overrides({}, ["novalue"])


def test_load_yaml_errors_name_the_file(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        load_yaml(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("a: 'wärme'".encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_yaml(latin)


def _slow_writer(path: str) -> None:
    with atomic_open(path) as handle:
        handle.write("new-partial")
        handle.flush()
        time.sleep(30)


def test_killed_writer_leaves_previous_file_intact(tmp_path: Path):
    target = tmp_path / "result.json"
    write_json(target, {"version": 1})
    proc = multiprocessing.get_context("spawn").Process(target=_slow_writer, args=(str(target),))
    proc.start()
    deadline = time.time() + 20
    while time.time() < deadline and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        time.sleep(0.05)
    os.kill(proc.pid, 9)
    proc.join()
    assert json.loads(target.read_text()) == {"version": 1}


def test_cli_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "sign2gpt" in capsys.readouterr().out


def test_base_configs_merge_and_cycles_are_errors(tmp_path: Path):
    from sign2gpt.config import load_config

    (tmp_path / "base.yaml").write_text("model: {a: 1, b: {c: 2, d: 3}}\nname: x\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "v.yaml").write_text("base: ../base.yaml\nmodel: {b: {d: 4}}\n")
    assert load_config(tmp_path / "sub" / "v.yaml") == {
        "model": {"a": 1, "b": {"c": 2, "d": 4}},
        "name": "x",
    }
    (tmp_path / "loop.yaml").write_text("base: loop.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "loop.yaml")
