"""Table 1b to the parameter, the shipped configs, presets and the `info` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sign2gpt.cli import main
from sign2gpt.config import load_yaml
from sign2gpt.errors import ConfigError
from sign2gpt.models import PRESETS, Sign2GPT, model_config_from_dict

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "phoenix14t"

PAPER_SPATIAL = {"params": 22_328_448, "trainable": 271_872}
PAPER_ENCODER = {"params": 12_613_632, "trainable": 12_613_632}
PAPER_DECODER = {"params": 1_736_710_528, "trainable": 3_803_520}
PAPER_TOTAL = {"params": 1_771_652_608, "trainable": 16_689_024}


def counts_of(config: str) -> dict:
    data = load_yaml(CONFIGS / config)
    cfg = model_config_from_dict(data["model"], where=config)
    with torch.device("meta"):
        return Sign2GPT(cfg, num_glosses=2533).parameter_counts()


def test_translate_config_reproduces_table_1b_exactly():
    assert counts_of("translate.yaml") == {
        "spatial": PAPER_SPATIAL,
        "sign_encoder": PAPER_ENCODER,
        "decoder": PAPER_DECODER,
        "total": PAPER_TOTAL,
    }


def test_pretrain_config_has_the_same_visual_parts_and_a_prototype_head():
    counts = counts_of("pretrain.yaml")
    assert counts["spatial"] == PAPER_SPATIAL and counts["sign_encoder"] == PAPER_ENCODER
    # Linear(512 -> 300) + 2533 prototypes of 300 + two temperatures.
    head = 512 * 300 + 300 + 2533 * 300 + 2
    assert counts["prototype_head"] == {"params": head, "trainable": head}
    assert "decoder" not in counts
    assert counts["total"]["params"] == PAPER_SPATIAL["params"] + PAPER_ENCODER["params"] + head


def test_frozen_backbones_match_the_published_model_sizes():
    with torch.device("meta"):
        model = Sign2GPT(PRESETS["full"]())
    assert sum(p.numel() for p in model.spatial.vit.parameters() if not p.requires_grad) == (
        22_056_576  # DINOv2 ViT-S/14
    )
    assert sum(p.numel() for p in model.decoder.model.parameters() if not p.requires_grad) == (
        1_732_907_008  # XGLM-1.7B
    )


@pytest.mark.parametrize(
    ("config", "changes"),
    [
        ("xglm-564m.yaml", {"decoder": {"params": 566_365_568, "trainable": 1_901_952}}),
        ("no-spatial-lora.yaml", {"spatial": {"params": 22_254_720, "trainable": 198_144}}),
        ("no-sinusoidal-pe.yaml", {}),
        ("global-attention.yaml", {}),
    ],
)
def test_ablation_configs(config, changes):
    counts = counts_of(f"ablations/{config}")
    expected = {"spatial": PAPER_SPATIAL, "sign_encoder": PAPER_ENCODER, "decoder": PAPER_DECODER}
    expected.update(changes)
    for part, count in expected.items():
        assert counts[part] == count, part
    cfg = model_config_from_dict(load_yaml(CONFIGS / "ablations" / config)["model"])
    switches = (cfg.decoder.d_model, cfg.spatial.lora_blocks, cfg.decoder.sign_pe,
                cfg.sign_encoder.window)  # fmt: skip
    assert (
        switches
        == {
            "xglm-564m.yaml": (1024, 3, True, 7),
            "no-spatial-lora.yaml": (2048, 0, True, 7),
            "no-sinusoidal-pe.yaml": (2048, 3, False, 7),
            "global-attention.yaml": (2048, 3, True, None),
        }[config]
    )


def test_info_command_prints_table_and_json(capsys):
    assert main(["info", "-c", str(CONFIGS / "translate.yaml"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "spatial": PAPER_SPATIAL,
        "sign_encoder": PAPER_ENCODER,
        "decoder": PAPER_DECODER,
        "total": PAPER_TOTAL,
    }
    assert main(["info", "-c", str(CONFIGS / "translate.yaml")]) == 0
    table = capsys.readouterr().out
    assert "1,771,652,608" in table and "16,689,024" in table


def test_info_reports_config_errors_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  spatial:\n    lora_blok: 3\n")
    assert main(["info", "-c", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "lora_blok" in err and str(bad) in err and err.count("\n") == 1


def test_presets_and_overrides():
    cfg = model_config_from_dict({"preset": "synth", "decoder": {"vocab_size": 500}})
    assert cfg.decoder.vocab_size == 500 and cfg.decoder.num_layers == 4
    assert cfg.decoder.d_model == 256 and cfg.spatial.vit.pos_embed_size == 56
    with pytest.raises(ConfigError, match="unknown preset"):
        model_config_from_dict({"preset": "huge"})
    with pytest.raises(ConfigError, match="sign_dim"):
        model_config_from_dict({"preset": "tiny", "decoder": {"sign_dim": 8}})
    other_family = model_config_from_dict({"preset": "tiny", "decoder": {"family": "gptj"}})
    with pytest.raises(ConfigError, match="unknown LM family 'gptj'"):
        Sign2GPT(other_family)


def test_synth_preset_runs_at_56_pixels():
    torch.manual_seed(0)
    model = Sign2GPT(PRESETS["synth"]()).eval()
    video = torch.randn(1, 3, 3, 56, 56)
    mask = torch.ones(1, 3, dtype=torch.bool)
    with torch.no_grad():
        logits = model(video, mask, torch.tensor([[0, 5, 6]]))
    assert logits.shape == (1, 3, 2000)
