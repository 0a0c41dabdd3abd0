"""Greedy and beam search over a step function that keeps its own key/value cache.

`step(tokens (N, 1)) -> log_probs (N, V)` advances every row by one token; `reorder(index)`
makes row i continue hypothesis `index[i]` (beam search). Both work on whole batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Step = Callable[[torch.Tensor], torch.Tensor]
Reorder = Callable[[torch.Tensor], None]


def greedy_search(
    step: Step, batch_size: int, bos_id: int, eos_id: int, max_new_tokens: int,
    device: torch.device | str,
) -> list[list[int]]:  # fmt: skip
    """Pick the most likely token each step; return ids per sample without BOS/EOS."""
    tokens = torch.full((batch_size, 1), bos_id, dtype=torch.long, device=device)
    finished = torch.zeros(batch_size, dtype=torch.bool, device=device)
    generated = []
    for _ in range(max_new_tokens):
        next_tokens = step(tokens).argmax(dim=-1).masked_fill(finished, eos_id)  # (B,)
        generated.append(next_tokens)
        finished |= next_tokens == eos_id
        if bool(finished.all()):
            break
        tokens = next_tokens[:, None]
    rows = torch.stack(generated, dim=1).tolist() if generated else [[]] * batch_size
    return [_until_eos(row, eos_id) for row in rows]


def beam_search(
    step: Step, reorder: Reorder, batch_size: int, num_beams: int, bos_id: int, eos_id: int,
    max_new_tokens: int, device: torch.device | str, length_penalty: float = 1.0,
) -> list[list[int]]:  # fmt: skip
    """Batched beam search; rows of `step` are laid out sample-major (sample b: b*K .. b*K+K-1).

    Finished hypotheses are scored sum(log p) / length ** length_penalty (length counts EOS).
    A sample stops once it holds `num_beams` finished hypotheses that no running beam can beat
    (the usual heuristic); the best finished hypothesis is returned without BOS/EOS.
    """
    beams = num_beams
    scores = torch.zeros(batch_size, beams, device=device)
    scores[:, 1:] = float("-inf")  # all beams start identical: expand only the first
    tokens = torch.full((batch_size * beams, 1), bos_id, dtype=torch.long, device=device)
    history = torch.empty(batch_size * beams, 0, dtype=torch.long, device=device)
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(batch_size)]
    done = [False] * batch_size
    offsets = torch.arange(batch_size, device=device)[:, None] * beams  # (B, 1)
    for length in range(1, max_new_tokens + 1):
        log_probs = step(tokens)  # (B * K, V)
        vocab = log_probs.size(-1)
        candidates = (scores.view(-1, 1) + log_probs).view(batch_size, beams * vocab)
        top_scores, top_ids = candidates.topk(2 * beams, dim=1)  # (B, 2K)
        top_beam, top_token = top_ids // vocab, top_ids % vocab
        is_eos = top_token == eos_id
        # EOS among the best K candidates ends a hypothesis.
        for b, c in is_eos[:, :beams].nonzero().tolist():
            score = top_scores[b, c].item()
            if not done[b] and math.isfinite(score):  # -inf: an unused start beam
                row = history[offsets[b, 0] + top_beam[b, c]].tolist()
                finished[b].append((score / length**length_penalty, row))
        # The best K candidates that do not end go on (at most K of the 2K can be EOS).
        rank = torch.arange(2 * beams, device=device).expand(batch_size, -1)
        keep = rank.masked_fill(is_eos, 2 * beams).argsort(dim=1)[:, :beams]  # (B, K)
        scores = top_scores.gather(1, keep)
        source = (offsets + top_beam.gather(1, keep)).view(-1)  # (B * K,)
        tokens = top_token.gather(1, keep).view(-1, 1)
        history = torch.cat((history[source], tokens), dim=1)
        reorder(source)
        best_running = (scores[:, 0] / length**length_penalty).tolist()
        for b in range(batch_size):
            if not done[b] and len(finished[b]) >= beams:
                finished[b] = sorted(finished[b], key=lambda item: item[0], reverse=True)[:beams]
                done[b] = finished[b][-1][0] >= best_running[b]
        if all(done):
            break
    for b in range(batch_size):
        if not finished[b]:  # nothing ended within max_new_tokens: take the running beams
            rows = history[b * beams : (b + 1) * beams].tolist()
            finished[b] = [(scores[b, k].item(), rows[k]) for k in range(beams)]
    return [max(hyps, key=lambda item: item[0])[1] for hyps in finished]


def _until_eos(row: list[int], eos_id: int) -> list[int]:
    return row[: row.index(eos_id)] if eos_id in row else row
