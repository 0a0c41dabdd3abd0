"""Localization scoring against gloss timings, on hand-made cases."""

from __future__ import annotations

import pytest

from sign2gpt.localization_eval import (
    LocalizationCounts,
    dice_alignment,
    frame_interval,
    overlaps,
    score_localization,
    score_video,
)

FPS = 25.0


def test_dice_alignment_picks_the_gloss_that_predicts_the_lemma():
    sentences = [
        (["regen", "morgen"], ["MORGEN", "IX", "REGEN"]),
        (["regen", "nord"], ["IX", "NORD", "REGEN"]),
        (["sonne"], ["IX", "SONNE"]),
        (["es", "sonne"], ["SONNE", "WARM"]),
    ]
    alignment = dice_alignment(sentences, min_dice=0.3)
    # IX co-occurs with `regen` twice too, but is in 3 sentences: Dice 0.8 against REGEN's 1.0.
    assert alignment["regen"] == {"REGEN"}
    assert alignment["sonne"] == {"SONNE"}
    # `es` is in one sentence with SONNE (Dice 2/3) and WARM (Dice 1): WARM wins.
    assert alignment["es"] == {"WARM"}
    assert alignment["morgen"] == {"MORGEN"}


def test_dice_alignment_keeps_ties_and_drops_weak_lemmas():
    sentences = [(["heute", "nacht"], ["HEUTE", "NACHT"]), (["x"], ["A", "B", "C"])] + [
        ([], ["A"])
    ] * 20
    alignment = dice_alignment(sentences, min_dice=0.3)
    assert alignment["heute"] == {"HEUTE", "NACHT"}  # always together: a tie
    # x: Dice with B and C is 2/2 = 1; with A (in 21 sentences) 2/22. B, C tie.
    assert alignment["x"] == {"B", "C"}
    weak = dice_alignment([(["w"], ["G"])] + [([], ["G"])] * 9, min_dice=0.3)
    assert "w" not in weak  # Dice 2/11 < 0.3


def test_intervals():
    assert frame_interval(0, 0, FPS) == (0.0, 0.04)
    assert frame_interval(25, 49, FPS) == (1.0, 2.0)
    assert overlaps((0.0, 1.0), (0.5, 2.0))
    assert not overlaps((0.0, 1.0), (1.0, 2.0))  # touching ends share no time
    assert overlaps((1.0, 1.1), (0.0, 5.0))


def test_score_video_counts_each_rule():
    alignment = {"regen": {"REGEN"}, "sonne": {"SONNE"}, "nord": {"NORD"}}
    timings = [
        {"gloss": "IX", "start": 0, "end": 9},  # no lemma aligns to IX: not counted
        {"gloss": "REGEN", "start": 10, "end": 19},  # 0.40 .. 0.80 s
        {"gloss": "SONNE", "start": 20, "end": 29},  # 0.80 .. 1.20 s
        {"gloss": "NORD", "start": 30, "end": 39},  # 1.20 .. 1.60 s
    ]
    predicted = [
        {"gloss": "regen", "start": 0.32, "end": 0.48},  # overlaps REGEN: correct
        {"gloss": "regen", "start": 0.64, "end": 0.72},  # a second piece: also correct
        {"gloss": "sonne", "start": 1.28, "end": 1.44},  # lies on NORD: wrong
        {"gloss": "es", "start": 0.0, "end": 0.16},  # unaligned lemma: not judged
    ]
    counts = score_video(predicted, timings, alignment, FPS)
    assert counts.predicted_spans == 3
    assert counts.correct_spans == 2
    assert counts.unaligned_spans == 1
    assert counts.true_occurrences == 3  # REGEN, SONNE, NORD
    assert counts.found_occurrences == 1  # only REGEN
    assert counts.precision == pytest.approx(2 / 3)
    assert counts.recall == pytest.approx(1 / 3)
    assert counts.f1 == pytest.approx(2 * (2 / 3) * (1 / 3) / (2 / 3 + 1 / 3))


def test_a_span_just_before_the_gloss_is_wrong():
    timings = [{"gloss": "REGEN", "start": 10, "end": 19}]  # from 0.40 s
    early = [{"gloss": "regen", "start": 0.24, "end": 0.40}]
    counts = score_video(early, timings, {"regen": {"REGEN"}}, FPS)
    assert (counts.correct_spans, counts.found_occurrences) == (0, 0)


def test_score_localization_micro_sums_videos_and_checks_ids():
    alignment = {"regen": {"REGEN"}}
    timings = {
        "a": [{"gloss": "REGEN", "start": 0, "end": 24}],
        "b": [
            {"gloss": "REGEN", "start": 0, "end": 24},
            {"gloss": "REGEN", "start": 50, "end": 74},
        ],
    }
    predicted = {"a": [{"gloss": "regen", "start": 0.2, "end": 0.5}], "b": []}
    total = score_localization(predicted, timings, alignment, FPS)
    assert total == LocalizationCounts(
        predicted_spans=1, correct_spans=1, true_occurrences=3, found_occurrences=1, videos=2
    )
    assert total.as_dict()["precision"] == 1.0
    assert total.as_dict()["recall"] == pytest.approx(1 / 3)
    with pytest.raises(KeyError, match="'c'"):
        score_localization({"c": []}, timings, alignment, FPS)


def test_nothing_predicted_scores_zero_not_nan():
    counts = score_video([], [{"gloss": "REGEN", "start": 0, "end": 3}], {"r": {"REGEN"}}, FPS)
    assert (counts.precision, counts.recall, counts.f1) == (0.0, 0.0, 0.0)
