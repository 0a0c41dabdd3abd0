"""Generation: the key/value cache, greedy and beam search."""

from __future__ import annotations

import itertools

import pytest
import torch

from sign2gpt.models.config import tiny_config
from sign2gpt.models.decoder import build_decoder
from sign2gpt.models.decoder.generation import beam_search
from sign2gpt.models.decoder.kv_cache import KVCache


def open_decoder(seed: int = 0):
    """A tiny decoder whose adapters are already 'trained' (non-zero gates and LoRA B)."""
    torch.manual_seed(seed)
    decoder = build_decoder(tiny_config().decoder)
    with torch.no_grad():
        for name, param in decoder.named_parameters():
            if name.endswith(".B") or name.endswith(".gate"):
                param.uniform_(0.2, 0.8)
    return decoder.eval()


def signs(batch: int = 2, length: int = 6, seed: int = 1):
    torch.manual_seed(seed)
    mask = torch.ones(batch, length, dtype=torch.bool)
    mask[-1, length - 2 :] = False
    return torch.randn(batch, length, 32), mask


def test_cached_steps_equal_the_full_forward():
    decoder = open_decoder()
    features, mask = signs()
    tokens = torch.randint(3, 64, (2, 7))
    with torch.no_grad():
        full = decoder(tokens, None, features, mask)
        memory = decoder.encode_signs(features, mask)
        cache = KVCache(decoder.cfg.num_layers)
        stepped = [
            decoder.forward_tokens(tokens[:, i : i + 1], torch.tensor([i]), None, memory, cache)
            for i in range(tokens.size(1))
        ]
    torch.testing.assert_close(torch.cat(stepped, dim=1), full, atol=1e-5, rtol=0)


def naive_greedy(decoder, features, mask, max_new_tokens):
    """Greedy decoding by re-running the whole sequence every step (no cache)."""
    cfg = decoder.cfg
    tokens = torch.full((features.size(0), 1), cfg.bos_id)
    for _ in range(max_new_tokens):
        logits = decoder(tokens, None, features, mask)
        tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    rows = tokens[:, 1:].tolist()
    return [row[: row.index(cfg.eos_id)] if cfg.eos_id in row else row for row in rows]


def test_greedy_generation_equals_uncached_greedy():
    decoder = open_decoder()
    features, mask = signs()
    with torch.no_grad():
        expected = naive_greedy(decoder, features, mask, 12)
    assert decoder.generate(features, mask, num_beams=1, max_new_tokens=12) == expected


def test_beam_search_is_the_same_alone_and_in_a_batch():
    decoder = open_decoder()
    features, mask = signs(batch=3)
    batched = decoder.generate(features, mask, num_beams=4, max_new_tokens=10)
    alone = [
        decoder.generate(features[i : i + 1], mask[i : i + 1], num_beams=4, max_new_tokens=10)[0]
        for i in range(3)
    ]
    assert batched == alone
    assert all(decoder.cfg.eos_id not in row and len(row) <= 10 for row in batched)


def test_wide_beam_search_finds_the_best_sequence():
    # A bigram "LM" over 3 tokens (2 = EOS): with more beams than prefixes, beam search must
    # return the exhaustive optimum of sum(log p) / length.
    torch.manual_seed(0)
    table = torch.randn(3, 3).log_softmax(-1)  # log p(next | last)
    bos, eos, max_len = 0, 2, 4
    state = {}

    def step(tokens):
        return table[tokens[:, -1]]

    def reorder(index):
        state["last"] = index

    best = beam_search(step, reorder, 1, 81, bos, eos, max_len, "cpu")[0]
    candidates = []
    for length in range(1, max_len + 1):
        for body in itertools.product([0, 1], repeat=length - 1):
            seq = [bos, *body, eos]
            score = sum(table[a, b].item() for a, b in itertools.pairwise(seq)) / length
            candidates.append((score, list(body)))
    assert best == max(candidates)[1]
    assert state["last"].shape == (81,)  # the cache was reordered for every beam


def test_beam_search_returns_every_finished_beam_with_its_score():
    # The bigram "LM" again: with more beams than hypotheses, the beams returned are every
    # hypothesis that ends within max_len, ranked by sum(log p) / length, with those scores.
    torch.manual_seed(1)
    table = torch.randn(3, 3).log_softmax(-1)
    bos, eos, max_len = 0, 2, 4

    def step(tokens):
        return table[tokens[:, -1]]

    (beams,) = beam_search(step, lambda index: None, 1, 81, bos, eos, max_len, "cpu",
                           return_beams=True)  # fmt: skip
    expected = {}
    for length in range(1, max_len + 1):
        for body in itertools.product([0, 1], repeat=length - 1):
            seq = [bos, *body, eos]
            expected[body] = sum(table[a, b].item() for a, b in itertools.pairwise(seq)) / length
    assert sorted(tuple(ids) for ids, _ in beams) == sorted(expected)
    for ids, score in beams:  # (some hypotheses tie: same bigrams in another order)
        assert score == pytest.approx(expected[tuple(ids)], abs=1e-5)
    scores = [score for _, score in beams]
    assert scores == sorted(scores, reverse=True)
    assert beams[0][0] == beam_search(step, lambda index: None, 1, 81, bos, eos, max_len, "cpu")[0]


def test_decoder_beams_start_with_the_translation_it_returns():
    decoder = open_decoder()
    features, mask = signs()
    with torch.no_grad():
        plain = decoder.generate(features, mask, num_beams=3, max_new_tokens=5)
        beams = decoder.generate(features, mask, num_beams=3, max_new_tokens=5, return_beams=True)
    assert [found[0][0] for found in beams] == plain
    for found in beams:
        assert 1 <= len(found) <= 3
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
