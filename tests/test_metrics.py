"""BLEU-1..4 (cumulative, sacrebleu) and ROUGE-L (beta 1.2) against hand-computed values."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from sign2gpt.cli import main
from sign2gpt.metrics import (
    BleuConvention,
    corpus_bleu,
    lcs_length,
    paired_bleu4,
    sentence_rouge_l,
    split_characters,
    translation_scores,
)


def rouge_f(p: float, r: float, beta: float = 1.2) -> float:
    return (1 + beta**2) * p * r / (r + beta**2 * p)


def test_single_sentence():
    # Matches: 1-grams 4/5, 2-grams 3/4, 3-grams 2/3, 4-grams 1/2; hyp 5 < ref 6 tokens.
    scores = translation_scores(["a b c d e"], ["a b c d f g"])
    bp = math.exp(1 - 6 / 5)
    precisions = [4 / 5, 3 / 4, 2 / 3, 1 / 2]
    for n in range(1, 5):
        expected = 100 * bp * math.prod(precisions[:n]) ** (1 / n)  # cumulative, uniform weights
        assert scores[f"bleu{n}"] == pytest.approx(expected, abs=1e-9)
    assert scores["rouge_l"] == pytest.approx(100 * rouge_f(4 / 5, 4 / 6))
    assert "tok:13a" in scores["sacrebleu_signature"]


def test_corpus_pools_ngram_counts_and_rouge_averages_sentences():
    hyps = ["the cat sat on the mat", "hello world"]
    refs = ["the cat is on the mat", "hello world"]
    scores = translation_scores(hyps, refs)
    # Pooled counts: 1-grams 7/8, 2-grams 4/6, 3-grams 1/4, 4-grams 0/3 -> sacrebleu's "exp"
    # smoothing uses 1 / (2 * 3); lengths 8 = 8, so no brevity penalty.
    assert scores["bleu1"] == pytest.approx(100 * 7 / 8)
    assert scores["bleu2"] == pytest.approx(100 * (7 / 8 * 4 / 6) ** 0.5)
    assert scores["bleu3"] == pytest.approx(100 * (7 / 8 * 4 / 6 * 1 / 4) ** (1 / 3))
    assert scores["bleu4"] == pytest.approx(100 * (7 / 8 * 4 / 6 * 1 / 4 * 1 / 6) ** 0.25)
    assert scores["rouge_l"] == pytest.approx(100 * (5 / 6 + 1) / 2)  # LCS 5 of 6, then exact


def test_empty_hypotheses():
    scores = translation_scores(["", "a b c d"], ["x y", "a b c d"])
    bp = math.exp(1 - 6 / 4)  # all n-grams of the second sentence match; 4 < 6 tokens
    for n in range(1, 5):
        assert scores[f"bleu{n}"] == pytest.approx(100 * bp)
    assert scores["rouge_l"] == pytest.approx(50.0)
    nothing = translation_scores(["", ""], ["a b", "c"])
    assert [nothing[k] for k in ("bleu1", "bleu2", "bleu3", "bleu4", "rouge_l")] == [0.0] * 5
    assert sentence_rouge_l("", "a") == 0.0 and sentence_rouge_l("a", "") == 0.0


def test_chinese_is_scored_by_character():
    # 我 今 天 很 好 vs 我 今 天 不 好: 4/5, 2/4, 1/3, 0/2 (smoothed to 1 / (2 * 2)).
    scores = translation_scores(["我今天很好"], ["我 今天 不 好"], lang="zh")
    p = [4 / 5, 2 / 4, 1 / 3, 1 / 4]
    for n in range(1, 5):
        assert scores[f"bleu{n}"] == pytest.approx(100 * math.prod(p[:n]) ** (1 / n))
    assert scores["rouge_l"] == pytest.approx(80.0)
    assert scores["sacrebleu_signature"].endswith("|chars")
    assert split_characters("我 今天。") == "我 今 天 。"


def test_13a_tokenisation_for_bleu():
    scores = translation_scores(["Hallo, Welt!"], ["Hallo , Welt !"])
    assert scores["bleu4"] == pytest.approx(100.0)


def test_lcs_and_rouge_l_beta():
    assert lcs_length(["a", "b", "c", "d"], ["a", "c", "b", "d"]) == 3
    assert lcs_length([], ["a"]) == 0
    assert sentence_rouge_l("a b", "a b c d") == pytest.approx(rouge_f(1.0, 0.5))
    # beta > 1 weights recall: the same LCS scores higher when recall is the larger value.
    assert sentence_rouge_l("a b", "a b c d") < sentence_rouge_l("a b c d", "a b")


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        translation_scores(["a", "b"], ["a"])


def test_score_command(tmp_path, capsys):
    hyp, ref = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    hyp.write_text("a b c d e\n", encoding="utf-8")
    ref.write_text("a b c d f g\n", encoding="utf-8")
    assert main(["score", "--hyp", str(hyp), "--ref", str(ref), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bleu1"] == pytest.approx(100 * math.exp(-0.2) * 0.8)
    assert set(report) >= {"bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "sentences"}
    assert main(["score", "--hyp", str(hyp), "--ref", str(ref)]) == 0
    assert "rouge_l:  71.55" in capsys.readouterr().out
    ref.write_text("a\nb\n", encoding="utf-8")
    assert main(["score", "--hyp", str(hyp), "--ref", str(ref)]) == 2
    assert "1 lines, but" in capsys.readouterr().err


def test_score_command_against_a_baseline(tmp_path, capsys):
    refs, weak, strong = weather_systems(30, 90)
    files = {}
    for name, lines in (("ref", refs), ("weak", weak), ("strong", strong), ("short", weak[:5])):
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    args = ["score", "--hyp", str(files["strong"]), "--ref", str(files["ref"])]
    assert main([*args, "--against", str(files["weak"]), "--samples", "200", "--json"]) == 0
    against = json.loads(capsys.readouterr().out)["against"]
    assert against == dataclasses.asdict(paired_bleu4(strong, weak, refs, samples=200))
    assert main([*args, "--against", str(files["weak"]), "--samples", "200"]) == 0
    assert f"difference {against['difference']:+.2f}, p = 0.005" in capsys.readouterr().out
    assert main([*args, "--against", str(files["short"])]) == 2
    assert f"{files['short']}: 5 lines, but" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--against", str(files["weak"]), "--samples", "0"])
    assert "must be >= 1, got 0" in capsys.readouterr().err


def weather_systems(correct_a: int, correct_b: int, n: int = 120):
    """References and two systems that get the first `correct_*` sentences right."""
    refs = [f"am tag {i} regen im norden und wind aus west ." for i in range(n)]
    wrong = "morgen sonne im süden ."
    return refs, [r if i < correct_a else wrong for i, r in enumerate(refs)], [
        r if i < correct_b else wrong for i, r in enumerate(refs)]


def test_paired_bleu4_scores_as_corpus_bleu_and_separates_a_clear_gain():
    refs, weak, strong = weather_systems(30, 90)
    result = paired_bleu4(strong, weak, refs, samples=300)
    assert result.system == pytest.approx(corpus_bleu(strong, refs)[0]["bleu4"])
    assert result.baseline == pytest.approx(corpus_bleu(weak, refs)[0]["bleu4"])
    assert result.difference == pytest.approx(result.system - result.baseline)
    assert result.difference > 20 and result.p_value < 0.01
    assert 0 < result.system_ci95 < result.difference and result.samples == 300
    # The same seed gives the same test; swapping the systems flips only the sign.
    assert paired_bleu4(strong, weak, refs, samples=300) == result
    swapped = paired_bleu4(weak, strong, refs, samples=300)
    assert swapped.difference == pytest.approx(-result.difference)
    assert swapped.p_value == pytest.approx(result.p_value)


def test_paired_bleu4_finds_no_difference_between_equal_systems():
    refs, a, _ = weather_systems(60, 60)
    # As many right as `a`, but other ones: as good, not the same outputs.
    b = [r if i >= 60 else "morgen sonne im süden ." for i, r in enumerate(refs)]
    result = paired_bleu4(b, a, refs, samples=300)
    assert abs(result.difference) < 1.0 and result.p_value > 0.3
    # Identical outputs: no difference at all (sacrebleu alone would say p = 1/301).
    same = paired_bleu4(a, list(a), refs, samples=300)
    assert same.difference == 0.0 and same.p_value == 1.0
    # Other outputs with the same n-gram counts in every sentence (a word no reference has,
    # for another such word): every resample differs by 0, as on SynthSign `full`'s plain
    # rows. Still no difference (sacrebleu alone: p = 1/301).
    other = [h.replace("sonne", "nebel") for h in a]
    assert other != a
    alike = paired_bleu4(other, a, refs, samples=300)
    assert alike.difference == 0.0 and alike.p_value == 1.0


def test_paired_bleu4_follows_the_convention_and_checks_lengths():
    refs = ["你好 吗", "今天 下雨"] * 20
    hyps = ["你 好吗", "今天 下 雨"] * 20  # other word splits, the same characters
    char = paired_bleu4(hyps, hyps, refs, lang="zh", samples=50)
    assert char.system == pytest.approx(100.0)
    words = paired_bleu4(hyps, hyps, refs, lang="zh",
                         convention=BleuConvention(tokenize="none"), samples=50)
    assert words.system < 50.0
    with pytest.raises(ValueError, match="2 hypotheses but 40 references"):
        paired_bleu4(hyps[:2], hyps, refs)
