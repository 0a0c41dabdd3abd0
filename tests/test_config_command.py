"""`sign2gpt config`: the fully resolved config as YAML, which loads back to the same config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sign2gpt.cli import main
from sign2gpt.config import to_dict
from sign2gpt.run_config import RunConfig, load_run_config

CONFIGS = sorted(str(p) for p in Path("configs").rglob("*.yaml"))


def dotted_keys(data: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, dict):
            keys |= dotted_keys(value, f"{prefix}{key}.")
    return keys


@pytest.mark.parametrize("path", CONFIGS)
def test_printed_config_has_every_key_and_round_trips(path, tmp_path, capsys):
    overrides = ["train.lr=1e-4", "data.batch_size=3"]
    assert main(["config", "-c", path, *overrides]) == 0
    text = capsys.readouterr().out
    resolved = tmp_path / "resolved.yaml"
    resolved.write_text(text, encoding="utf-8")
    expected = load_run_config(path, overrides)
    assert load_run_config(resolved) == expected
    assert expected.train.lr == 1e-4 and expected.data.batch_size == 3
    printed = yaml.safe_load(text)
    every = dotted_keys(to_dict(RunConfig()))
    assert every <= dotted_keys(printed)


def test_config_command_names_a_bad_override(capsys):
    code = main(["config", "-c", "configs/phoenix14t/translate.yaml", "train.bleu_smooth=add-k"])
    assert code == 2
    err = capsys.readouterr().err
    assert "train.bleu_smooth" in err and "Traceback" not in err
