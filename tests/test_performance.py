"""Activation checkpointing and torch.compile switches; fused decoder projections."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sign2gpt.models.config import tiny_config
from sign2gpt.models.performance import compile_model, enable_activation_checkpointing
from sign2gpt.models.sign2gpt import Sign2GPT


def tiny_model(seed: int = 0) -> Sign2GPT:
    torch.manual_seed(seed)
    model = Sign2GPT(tiny_config("translate"))
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


def test_activation_checkpointing_gives_the_same_gradients_with_dropout():
    plain = tiny_model()
    expected_loss, expected = loss_and_grads(plain)
    checkpointed = tiny_model()
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


def test_compiled_blocks_compute_the_same():
    eager = tiny_model().eval()
    compiled = tiny_model().eval()
    assert compile_model(compiled, backend="eager") == 6
    video = torch.randn(2, 5, 3, 28, 28)
    mask = torch.ones(2, 5, dtype=torch.bool)
    ids = torch.randint(3, 64, (2, 6))
    with torch.no_grad():
        torch.testing.assert_close(compiled(video, mask, ids), eager(video, mask, ids))
    assert set(compiled.state_dict()) == set(eager.state_dict())


def test_generation_with_merged_adapters_equals_the_unmerged_forward():
    model = tiny_model().eval()
    decoder = model.decoder
    torch.manual_seed(5)
    signs, ids = torch.randn(2, 4, 32), torch.randint(3, 64, (2, 5))
    with torch.no_grad():
        expected = decoder(ids, None, signs)
        with decoder.merged_adapters():
            merged = decoder(ids, None, signs)
        after = decoder(ids, None, signs)
    torch.testing.assert_close(merged, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(after, expected, atol=0, rtol=0)  # unmerged on exit
