"""Greedy and beam search over a step function that keeps its own key/value cache.

`step(tokens (N, 1)) -> log_probs (N, V)` advances every row by one token; `reorder(index)`
makes row i continue row `index[i]` of the previous step. Both searches work on whole batches
with tensor operations only (no Python loop over samples or candidates), and both drop the
rows of finished samples through `reorder`, so the batch shrinks as sentences end and the
search stops as soon as every sample is finished.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

Step = Callable[[torch.Tensor], torch.Tensor]
Reorder = Callable[[torch.Tensor], None]


def _forbid_eos(log_probs: torch.Tensor, eos_id: int, length: int, min_new_tokens: int) -> None:
    """Before `min_new_tokens` tokens exist, EOS cannot be chosen (in place)."""
    if length <= min_new_tokens:
        log_probs[:, eos_id] = float("-inf")


def greedy_search(
    step: Step, reorder: Reorder, batch_size: int, bos_id: int, eos_id: int,
    max_new_tokens: int, device: torch.device | str, min_new_tokens: int = 0,
) -> list[list[int]]:  # fmt: skip
    """Pick the most likely token each step; return ids per sample without BOS/EOS."""
    out = torch.full((batch_size, max_new_tokens), eos_id, dtype=torch.long, device=device)
    alive = torch.arange(batch_size, device=device)  # samples still generating
    tokens = torch.full((batch_size, 1), bos_id, dtype=torch.long, device=device)
    for length in range(1, max_new_tokens + 1):
        log_probs = step(tokens)  # (A, V)
        _forbid_eos(log_probs, eos_id, length, min_new_tokens)
        next_tokens = log_probs.argmax(dim=-1)  # (A,)
        out[alive, length - 1] = next_tokens
        running = next_tokens != eos_id
        if length == max_new_tokens or not bool(running.any()):
            break
        if not bool(running.all()):
            keep = running.nonzero().squeeze(1)
            alive, next_tokens = alive[keep], next_tokens[keep]
            reorder(keep)
        tokens = next_tokens[:, None]
    return [_until_eos(row, eos_id) for row in out.tolist()]


def beam_search(
    step: Step, reorder: Reorder, batch_size: int, num_beams: int, bos_id: int, eos_id: int,
    max_new_tokens: int, device: torch.device | str, length_penalty: float = 1.0,
    min_new_tokens: int = 0, return_beams: bool = False,
) -> list[list[int]] | list[list[tuple[list[int], float]]]:  # fmt: skip
    """Batched beam search; rows of `step` are laid out sample-major (sample b: b*K .. b*K+K-1).

    Each step takes the top 2K of the K x V continuations of every sample at once. An EOS among
    the best K ends a hypothesis, scored sum(log p) / length ** length_penalty (length counts
    EOS); the best K non-EOS continuations go on. A sample stops once it holds K finished
    hypotheses and the worst of them beats its best running beam (the usual heuristic); then
    its rows leave the batch. The best finished hypothesis is returned without BOS/EOS (the
    best running beam if none finished within `max_new_tokens`). With `return_beams`, each
    sample gets its finished hypotheses instead, best first, as (ids, normalised score).
    """
    beams, width = num_beams, 2 * num_beams
    alive = torch.arange(batch_size, device=device)  # samples still searching
    scores = torch.zeros(batch_size, beams, device=device)  # running sums of log p
    scores[:, 1:] = float("-inf")  # all beams start identical: expand only the first
    tokens = torch.full((batch_size * beams, 1), bos_id, dtype=torch.long, device=device)
    history = torch.empty(batch_size * beams, 0, dtype=torch.long, device=device)
    # The K best finished hypotheses of every sample, best first: normalised score and ids.
    done_scores = torch.full((batch_size, beams), float("-inf"), device=device)
    done_ids = torch.full((batch_size, beams, max_new_tokens), eos_id, device=device)
    fallback = torch.full((batch_size, max_new_tokens), eos_id, device=device)
    fallback_scores = torch.full((batch_size,), float("-inf"), device=device)
    rank = torch.arange(width, device=device)
    any_done = False  # whether any hypothesis has finished yet
    for length in range(1, max_new_tokens + 1):
        log_probs = step(tokens)  # (A * K, V)
        _forbid_eos(log_probs, eos_id, length, min_new_tokens)
        num_alive, vocab = alive.numel(), log_probs.size(-1)
        candidates = (scores.view(-1, 1) + log_probs).view(num_alive, beams * vocab)
        top_scores, top_ids = candidates.topk(width, dim=1)  # (A, 2K)
        top_token = top_ids % vocab
        rows = torch.arange(num_alive, device=device)[:, None] * beams + top_ids // vocab
        is_eos = top_token == eos_id

        # EOS among the best K ends a hypothesis (-inf: an unused start beam, not one).
        ends = is_eos[:, :beams] & top_scores[:, :beams].isfinite()
        if bool(ends.any()):  # rare: skip the bookkeeping on most steps
            any_done = True
            new_scores = top_scores[:, :beams] / length**length_penalty
            new_scores = new_scores.masked_fill(~ends, -torch.inf)
            new_ids = F.pad(
                history[rows[:, :beams]], (0, max_new_tokens - length + 1), value=eos_id
            )
            merged_scores = torch.cat((done_scores[alive], new_scores), dim=1)  # (A, 2K)
            merged_ids = torch.cat((done_ids[alive], new_ids), dim=1)  # (A, 2K, M)
            best = merged_scores.sort(dim=1, descending=True, stable=True).indices[:, :beams]
            done_scores[alive] = merged_scores.gather(1, best)
            done_ids[alive] = merged_ids.gather(1, best[..., None].expand(-1, -1, max_new_tokens))

        # The best K candidates that do not end go on (at most K of the 2K can be EOS).
        keep = rank.masked_fill(is_eos, width).argsort(dim=1)[:, :beams]  # (A, K)
        scores = top_scores.gather(1, keep)
        source = rows.gather(1, keep)  # (A, K) rows of the previous step
        tokens = top_token.gather(1, keep).view(-1, 1)
        history = torch.cat((history[source.view(-1)], tokens), dim=1)  # (A * K, length)

        finished = torch.zeros(num_alive, dtype=torch.bool, device=device)
        if any_done:
            worst_done = done_scores[alive, -1]
            finished = worst_done.isfinite() & (worst_done >= scores[:, 0] / length**length_penalty)
        if length == max_new_tokens or bool(finished.all()):
            running = ~finished
            fallback[alive[running], :length] = history.view(num_alive, beams, -1)[running, 0]
            fallback_scores[alive[running]] = scores[running, 0] / length**length_penalty
            break
        if any_done and bool(finished.any()):
            still = (~finished).nonzero().squeeze(1)
            alive, scores, source = alive[still], scores[still], source[still]
            rows_kept = (still[:, None] * beams + torch.arange(beams, device=device)).view(-1)
            tokens, history = tokens[rows_kept], history[rows_kept]
        reorder(source.view(-1))
    if return_beams:
        return [
            _ranked(ids, row_scores, fallback_row, fallback_score, eos_id)
            for ids, row_scores, fallback_row, fallback_score in zip(
                done_ids.tolist(), done_scores.tolist(), fallback.tolist(),
                fallback_scores.tolist(), strict=True,
            )
        ]  # fmt: skip
    chosen = torch.where(done_scores[:, :1].isfinite(), done_ids[:, 0], fallback)  # (B, M)
    return [_until_eos(row, eos_id) for row in chosen.tolist()]


def _ranked(
    ids: list[list[int]], scores: list[float], fallback: list[int], fallback_score: float,
    eos_id: int,
) -> list[tuple[list[int], float]]:  # fmt: skip
    """One sample's finished hypotheses (kept best first), else its best running beam."""
    found = [(_until_eos(row, eos_id), s) for row, s in zip(ids, scores, strict=True)
             if math.isfinite(s)]  # fmt: skip
    return found or [(_until_eos(fallback, eos_id), fallback_score)]


def source_videos(index: torch.Tensor, group: int) -> torch.Tensor:
    """The video each group of rows continues after `reorder(index)` (rows are sample-major,
    `group` per video), i.e. which videos' sign memory to keep when some have finished."""
    return index.view(-1, group)[:, 0] // group


def _until_eos(row: list[int], eos_id: int) -> list[int]:
    return row[: row.index(eos_id)] if eos_id in row else row
