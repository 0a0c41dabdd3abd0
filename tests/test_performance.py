"""Activation checkpointing and torch.compile switches; fused decoder projections."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from conftest import LM_FAMILIES, tiny_model_config
from sign2gpt.models.layers.fixed_linear import can_pack
from sign2gpt.models.performance import (
    cast_frozen_weights,
    compile_model,
    enable_activation_checkpointing,
)
from sign2gpt.models.sign2gpt import Sign2GPT


def tiny_model(seed: int = 0, family: str = "xglm") -> Sign2GPT:
    torch.manual_seed(seed)
    model = Sign2GPT(tiny_model_config("translate", family))
    with torch.no_grad():  # open the adapters so every trainable part matters
        for name, param in model.named_parameters():
            if name.endswith(".B") or name.endswith(".gate"):
                param.uniform_(0.2, 0.8)
    return model.train()


def loss_and_grads(model: Sign2GPT, seed: int = 3) -> tuple[float, dict[str, torch.Tensor]]:
    torch.manual_seed(seed)
    video = torch.randn(2, 5, 3, 28, 28)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    ids = torch.randint(3, 64, (2, 6))
    logits = model(video, mask, ids)
    loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten())
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return loss.item(), grads


@pytest.mark.parametrize("family", LM_FAMILIES)
def test_activation_checkpointing_gives_the_same_gradients_with_dropout(family):
    plain = tiny_model(family=family)
    expected_loss, expected = loss_and_grads(plain)
    checkpointed = tiny_model(family=family)
    keys = set(checkpointed.state_dict())
    # 2 ViT blocks + 2 sign-encoder blocks + 2 decoder layers.
    assert enable_activation_checkpointing(checkpointed) == 6
    assert set(checkpointed.state_dict()) == keys  # checkpoints load the same
    loss, grads = loss_and_grads(checkpointed)
    assert loss == expected_loss  # dropout masks replayed exactly
    assert grads.keys() == expected.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected[name], atol=1e-6, rtol=1e-5, msg=name)


def test_checkpointed_model_still_generates():
    model = tiny_model()
    enable_activation_checkpointing(model)
    model.eval()
    video = torch.randn(2, 4, 3, 28, 28)
    out = model.translate(video, torch.ones(2, 4, dtype=torch.bool), num_beams=2, max_new_tokens=5)
    assert len(out) == 2 and all(len(row) <= 5 for row in out)


@pytest.mark.parametrize("family", LM_FAMILIES)
def test_compiled_blocks_compute_the_same(family):
    eager = tiny_model(family=family).eval()
    compiled = tiny_model(family=family).eval()
    assert compile_model(compiled, backend="eager") == 6
    video = torch.randn(2, 5, 3, 28, 28)
    mask = torch.ones(2, 5, dtype=torch.bool)
    ids = torch.randint(3, 64, (2, 6))
    with torch.no_grad():
        torch.testing.assert_close(compiled(video, mask, ids), eager(video, mask, ids))
    assert set(compiled.state_dict()) == set(eager.state_dict())


@pytest.mark.parametrize("family", LM_FAMILIES)
def test_generation_with_fixed_weights_equals_the_unmerged_forward(family):
    model = tiny_model(family=family).eval()
    decoder = model.decoder
    torch.manual_seed(5)
    signs, ids = torch.randn(2, 4, 32), torch.randint(3, 64, (2, 5))
    with torch.no_grad():
        expected = decoder(ids, None, signs)
        with decoder.fixed_weights():
            merged = decoder(ids, None, signs)
            # Every layer's attention and FFN and the head hold fixed (on a CPU: packed) weights.
            layer = decoder.model.layers[-1]
            ffn = layer.fixed_ffn if family == "xglm" else layer.mlp.fixed
            fixed = [layer.self_attn.fixed.qkv, layer.self_attn.fixed.out, *ffn, decoder.fixed_head]
            assert all(f.packed == can_pack(layer.self_attn.q_proj.weight) for f in fixed)
        after = decoder(ids, None, signs)
    torch.testing.assert_close(merged, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(after, expected, atol=0, rtol=0)  # unmerged on exit


def backbone_weight_bytes_saved_for_backward(model: Sign2GPT) -> tuple[float, dict, int]:
    """(loss, grads, bytes of tensors autograd saved that are not parameters themselves) of
    one bf16-autocast step."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    extra = 0

    def pack(tensor):
        nonlocal extra
        if tensor.untyped_storage().data_ptr() not in params:
            extra += tensor.untyped_storage().nbytes()
        return tensor

    hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor)
    with hooks, torch.autocast("cpu", dtype=torch.bfloat16):
        loss, grads = loss_and_grads(model)
    return loss, grads, extra


def test_frozen_weights_in_bf16_give_the_same_step_without_their_fp32_copies():
    plain = tiny_model()
    cast = tiny_model()
    count = cast_frozen_weights(cast, torch.bfloat16, lambda name: not cast.is_own(name))
    # Every linear / conv weight and bias of the frozen ViT and LM; nothing of ours, and no
    # embedding, norm or token parameter.
    linears = [
        f"{module_name}.{attr}"
        for module_name, module in cast.named_modules()
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d))
        for attr in ("weight", "bias")
        if not cast.is_own(f"{module_name}.{attr}")
    ]
    assert count == len(linears) > 20
    dtypes = {n: p.dtype for n, p in cast.named_parameters()}
    assert all(dtypes[n] == torch.bfloat16 for n in linears)
    assert all(dtypes[n] == torch.float32 for n in dtypes if n not in linears)
    expected_loss, expected, plain_bytes = backbone_weight_bytes_saved_for_backward(plain)
    loss, grads, cast_bytes = backbone_weight_bytes_saved_for_backward(cast)
    assert loss == expected_loss  # autocast would have rounded those weights the same way
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected[name], atol=0, rtol=0, msg=name)
    # Autocast's bf16 copies of the frozen decoder weights are no longer kept for backward.
    decoder_bf16 = sum(
        2 * p.numel() for n, p in cast.named_parameters() if n in linears and "decoder" in n
    )
    assert plain_bytes - cast_bytes >= decoder_bf16


def test_weights_fixed_once_serve_every_generate_inside_the_block():
    decoder = tiny_model().eval().decoder
    torch.manual_seed(6)
    signs, mask = torch.randn(2, 4, 32), torch.ones(2, 4, dtype=torch.bool)
    expected = decoder.generate(signs, mask, num_beams=2, max_new_tokens=5)
    with decoder.fixed_weights():
        prepared = decoder.model.layers[0].fixed_ffn
        first = decoder.generate(signs, mask, num_beams=2, max_new_tokens=5)
        second = decoder.generate(signs, mask, num_beams=2, max_new_tokens=5)
        assert decoder.model.layers[0].fixed_ffn is prepared  # not prepared again per call
    assert first == second == expected
    assert decoder.model.layers[0].fixed_ffn is None and not decoder.weights_fixed


def test_a_failure_while_fixing_leaves_no_layer_fixed(monkeypatch):
    decoder = tiny_model().eval().decoder
    last = decoder.model.layers[-1]

    def fail(rows, pack):
        raise MemoryError("no room for the packed copies")

    monkeypatch.setattr(last, "fix_weights", fail)
    with pytest.raises(MemoryError), decoder.fixed_weights():
        pass
    assert all(layer.fixed_ffn is None for layer in decoder.model.layers)
    assert all(layer.self_attn.fixed is None for layer in decoder.model.layers)
    assert not decoder.weights_fixed
