"""Parity with the reference implementations in `transformers` (float32, atol 1e-5).

Tiny random-init Hugging Face models are saved with `save_pretrained` and loaded into ours.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from conftest import assert_gates_closed_parity
from sign2gpt.errors import CheckpointError
from sign2gpt.models.config import DecoderConfig, LoRAConfig, ViTConfig
from sign2gpt.models.decoder.xglm import XGLMSignDecoder
from sign2gpt.models.vit import VisionTransformer
from sign2gpt.models.weights import load_dinov2

transformers = pytest.importorskip("transformers")

ATOL = 1e-5


@pytest.fixture(scope="module")
def hf_xglm(tmp_path_factory):
    torch.manual_seed(0)
    config = transformers.XGLMConfig(
        vocab_size=96, d_model=32, num_layers=2, attention_heads=4, ffn_dim=64,
        max_position_embeddings=64, dropout=0.0, attention_dropout=0.0,
    )  # fmt: skip
    model = transformers.XGLMForCausalLM(config).eval()
    folder = tmp_path_factory.mktemp("xglm")
    model.save_pretrained(folder)
    return model, folder


def xglm_config(**changes) -> DecoderConfig:
    cfg = DecoderConfig(
        vocab_size=96, d_model=32, num_layers=2, num_heads=4, ffn_dim=64, max_positions=64,
        sign_dim=16,
    )  # fmt: skip
    return dataclasses.replace(cfg, **changes)


def load_ours(folder, **changes) -> XGLMSignDecoder:
    torch.manual_seed(1)
    ours = XGLMSignDecoder(xglm_config(**changes))
    ours.load_pretrained(folder)
    return ours.eval()


def test_xglm_logits_match_transformers_with_gates_closed(hf_xglm):
    reference, folder = hf_xglm
    assert_gates_closed_parity(load_ours(folder), reference, vocab=96, sign_dim=16)


def test_xglm_right_padding_matches_transformers(hf_xglm):
    reference, folder = hf_xglm
    ours = load_ours(folder)
    input_ids = torch.randint(3, 96, (2, 7))
    attention_mask = torch.ones(2, 7, dtype=torch.long)
    attention_mask[1, 4:] = 0
    with torch.no_grad():
        expected = reference(input_ids=input_ids, attention_mask=attention_mask).logits
        logits = ours(input_ids, attention_mask)
    torch.testing.assert_close(logits[0], expected[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(logits[1, :4], expected[1, :4], atol=ATOL, rtol=0)


def test_xglm_loads_pytorch_model_bin(hf_xglm, tmp_path):
    reference, folder = hf_xglm
    (tmp_path / "config.json").write_text((folder / "config.json").read_text())
    torch.save(reference.state_dict(), tmp_path / "pytorch_model.bin")
    ours = load_ours(tmp_path)
    input_ids = torch.randint(3, 96, (1, 5))
    with torch.no_grad():
        torch.testing.assert_close(
            ours(input_ids), reference(input_ids=input_ids).logits, atol=ATOL, rtol=0
        )


def test_xglm_config_mismatch_is_a_clear_error(hf_xglm):
    _, folder = hf_xglm
    with pytest.raises(CheckpointError, match="d_model"):
        XGLMSignDecoder(xglm_config(d_model=64)).load_pretrained(folder)


# --- DINOv2 ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hf_dinov2(tmp_path_factory):
    torch.manual_seed(0)
    config = transformers.Dinov2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=4,
        image_size=42, patch_size=14, layerscale_value=0.5,
    )  # fmt: skip
    model = transformers.Dinov2Model(config).eval()
    with torch.no_grad():  # random layer scales and norms, so a wrong mapping shows
        for name, param in model.named_parameters():
            if "lambda1" in name or "norm" in name:
                param.uniform_(0.5, 1.5)
    folder = tmp_path_factory.mktemp("dinov2")
    model.save_pretrained(folder)
    return model, folder


def tiny_vit(offset: float = 0.0) -> VisionTransformer:
    cfg = ViTConfig(pos_embed_size=42, dim=32, depth=2, num_heads=2, interpolate_offset=offset)
    return VisionTransformer(cfg, LoRAConfig(), lora_blocks=1).eval()


@pytest.mark.parametrize("size", [42, 56])  # 56: position embeddings get interpolated
def test_dinov2_cls_matches_transformers(hf_dinov2, size):
    reference, folder = hf_dinov2
    ours = tiny_vit()
    load_dinov2(ours, folder)
    images = torch.randn(3, 3, size, size)
    with torch.no_grad():
        expected = reference(pixel_values=images).pooler_output
        torch.testing.assert_close(ours(images), expected, atol=ATOL, rtol=0)


def original_layout(hf_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Write the HF weights under the key names of `dinov2_vits14_pretrain.pth`, by hand."""
    out = {
        "cls_token": hf_state["embeddings.cls_token"],
        "pos_embed": hf_state["embeddings.position_embeddings"],
        "mask_token": hf_state["embeddings.mask_token"].reshape(1, -1),
        "patch_embed.proj.weight": hf_state["embeddings.patch_embeddings.projection.weight"],
        "patch_embed.proj.bias": hf_state["embeddings.patch_embeddings.projection.bias"],
        "norm.weight": hf_state["layernorm.weight"],
        "norm.bias": hf_state["layernorm.bias"],
    }
    for i in range(2):
        hf = f"encoder.layer.{i}."
        ours = f"blocks.{i}."
        for kind in ("weight", "bias"):
            out[ours + f"attn.qkv.{kind}"] = torch.cat(
                [hf_state[hf + f"attention.{p}_proj.{kind}"] for p in "qkv"]
            )
            out[ours + f"attn.proj.{kind}"] = hf_state[hf + f"attention.o_proj.{kind}"]
            for name in ("norm1", "norm2", "mlp.fc1", "mlp.fc2"):
                out[ours + f"{name}.{kind}"] = hf_state[hf + f"{name}.{kind}"]
        out[ours + "ls1.gamma"] = hf_state[hf + "layer_scale1.lambda1"]
        out[ours + "ls2.gamma"] = hf_state[hf + "layer_scale2.lambda1"]
    return out


def test_dinov2_original_pth_layout_loads(hf_dinov2, tmp_path):
    reference, _ = hf_dinov2
    path = tmp_path / "dinov2_vits14_pretrain.pth"
    torch.save(original_layout(reference.state_dict()), path)
    ours = tiny_vit()
    load_dinov2(ours, path)
    images = torch.randn(2, 3, 42, 42)
    with torch.no_grad():
        expected = reference(pixel_values=images).pooler_output
        torch.testing.assert_close(ours(images), expected, atol=ATOL, rtol=0)


def test_dinov2_original_interpolation_uses_the_offset(hf_dinov2):
    _, folder = hf_dinov2
    with_offset, without = tiny_vit(offset=0.1), tiny_vit(offset=0.0)
    load_dinov2(with_offset, folder)
    load_dinov2(without, folder)
    same_size = with_offset.position_embedding(3, 3)
    torch.testing.assert_close(same_size, without.position_embedding(3, 3))
    assert with_offset.position_embedding(4, 4).shape == (1, 17, 32)
    assert not torch.allclose(
        with_offset.position_embedding(4, 4), without.position_embedding(4, 4)
    )


def test_dinov2_bad_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"broken\.pth"):
        load_dinov2(tiny_vit(), path)
    torch.save({"cls_token": torch.zeros(1, 1, 32)}, path)
    with pytest.raises(CheckpointError, match="missing weight"):
        load_dinov2(tiny_vit(), path)
