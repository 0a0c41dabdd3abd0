"""The Llama / Qwen2 configs: pinned parameter counts, the LM part equal to `transformers`'
own count, and the released models' config.json accepted by `load_pretrained`'s check.

The config.json values below are those of the released `meta-llama/Llama-3.2-1B` and
`Qwen/Qwen2.5-1.5B` folders (written out here; nothing is downloaded).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from sign2gpt.cli import main
from sign2gpt.config import load_yaml
from sign2gpt.errors import CheckpointError
from sign2gpt.models import Sign2GPT, model_config_from_dict
from sign2gpt.models.weights import check_hf_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

LLAMA_3_2_1B = {
    "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
    "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
    "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama",
    "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
    "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
    "use_cache": True, "vocab_size": 128256,
}  # fmt: skip
QWEN2_5_1_5B = {
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 1536,
    "initializer_range": 0.02, "intermediate_size": 8960, "max_position_embeddings": 131072,
    "max_window_layers": 28, "model_type": "qwen2", "num_attention_heads": 12,
    "num_hidden_layers": 28, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": 131072, "tie_word_embeddings": True,
    "torch_dtype": "bfloat16", "use_cache": True, "use_mrope": False,
    "use_sliding_window": False, "vocab_size": 151936,
}  # fmt: skip

SPATIAL = {"params": 22_328_448, "trainable": 271_872}
ENCODER = {"params": 12_613_632, "trainable": 12_613_632}
# config -> (released config.json, LM parameters, decoder counts: LM + sign projection + adapters)
CASES = {
    "phoenix14t/llama-3.2-1b.yaml": (
        LLAMA_3_2_1B,
        1_235_814_400,
        {"params": 1_238_307_328, "trainable": 2_492_928},
    ),
    "phoenix14t/qwen2.5-1.5b.yaml": (
        QWEN2_5_1_5B,
        1_543_714_304,
        {"params": 1_546_337_616, "trainable": 2_623_312},
    ),
    "csl-daily/qwen2.5-1.5b.yaml": (
        QWEN2_5_1_5B,
        1_543_714_304,
        {"params": 1_546_337_616, "trainable": 2_623_312},
    ),
}


def meta_model(config: str) -> Sign2GPT:
    cfg = model_config_from_dict(load_yaml(CONFIGS / config)["model"], where=config)
    with torch.device("meta"):
        return Sign2GPT(cfg)


@pytest.mark.parametrize("config", sorted(CASES))
def test_counts_are_pinned_and_the_lm_is_the_released_size(config):
    _, lm_params, decoder = CASES[config]
    model = meta_model(config)
    counts = model.parameter_counts()
    assert counts["spatial"] == SPATIAL and counts["sign_encoder"] == ENCODER
    assert counts["decoder"] == decoder
    frozen = sum(p.numel() for p in model.decoder.parameters() if not p.requires_grad)
    assert frozen == lm_params
    total = SPATIAL["params"] + ENCODER["params"] + decoder["params"]
    trainable = SPATIAL["trainable"] + ENCODER["trainable"] + decoder["trainable"]
    assert counts["total"] == {"params": total, "trainable": trainable}


@pytest.mark.parametrize("config", sorted(CASES))
def test_lm_count_equals_transformers_own_for_the_released_config(config):
    transformers = pytest.importorskip("transformers")
    released, lm_params, _ = CASES[config]
    kind = {"llama": "Llama", "qwen2": "Qwen2"}[released["model_type"]]
    hf_config = getattr(transformers, f"{kind}Config")(**released)
    with torch.device("meta"):
        reference = getattr(transformers, f"{kind}ForCausalLM")(hf_config)
    assert sum(p.numel() for p in reference.parameters()) == lm_params


@pytest.mark.parametrize("config", sorted(CASES))
def test_the_released_config_json_passes_the_load_check(config, tmp_path):
    released = CASES[config][0]
    decoder = meta_model(config).decoder
    path = tmp_path / "config.json"
    check_hf_config(tmp_path, decoder.hf_config_view(released, path), decoder.hf_expected())
    # ... and a folder of another size is refused, naming the key.
    other = {**released, "num_key_value_heads": 4}
    with pytest.raises(CheckpointError, match="num_key_value_heads is 4"):
        check_hf_config(tmp_path, decoder.hf_config_view(other, path), decoder.hf_expected())


def test_info_prints_the_llama_and_qwen_counts(capsys):
    for config, (_, _, decoder) in CASES.items():
        assert main(["info", "-c", str(CONFIGS / config), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["decoder"] == decoder
    assert main(["info", "-c", str(CONFIGS / "phoenix14t/llama-3.2-1b.yaml")]) == 0
    table = capsys.readouterr().out
    assert "1,238,307,328" in table and "2,492,928" in table
