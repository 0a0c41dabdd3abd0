"""Translation metrics as SLT papers report them: corpus BLEU-1..4 and ROUGE-L (beta 1.2).

BLEU-n is sacrebleu's corpus BLEU with `max_ngram_order=n`: the brevity penalty times the
geometric mean of the 1..n-gram precisions with uniform weights (the cumulative BLEU-n of
SLT papers, not the n-gram precision alone). Two choices change the numbers and are
parameters (`BleuConvention`, `train.bleu_tokenize` / `train.bleu_smooth`, `sign2gpt score
--tokenize/--smooth`):
- tokenize: "13a" (sacrebleu's default, WMT), "none" (whitespace only: signjoey and the
  Sign2GPT authors' code), "zh" (sacrebleu's Chinese tokenizer), "char" (every non-space
  character is a token, then no other tokenisation: the CSL-Daily convention); "auto" =
  "char" for Chinese, else "13a".
- smooth: "exp" (sacrebleu's default; only acts when some n-gram order has no match in the
  whole corpus) or "floor" with value 0 (signjoey's `raw_corpus_bleu`: an order without any
  match makes that BLEU-n 0; sacrebleu's own floor default would be 0.1).

ROUGE-L is the MS-COCO caption evaluation's (pycocoevalcap `Rouge`): per sentence, the longest
common subsequence of the whitespace tokens gives P = LCS/|hyp| and R = LCS/|ref|, and
F = (1 + beta^2) P R / (R + beta^2 P) with beta = 1.2 (0 when P or R is 0); the score is the
mean over sentences (characters for Chinese). All scores are on the 0-100 scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ROUGE_BETA = 1.2
BleuTokenize = Literal["auto", "13a", "none", "zh", "char"]
BleuSmooth = Literal["exp", "floor"]
TOKENIZE_CHOICES: tuple[str, ...] = ("auto", "13a", "none", "zh", "char")
SMOOTH_CHOICES: tuple[str, ...] = ("exp", "floor")
# signjoey's SMOOTH_VALUE_DEFAULT (sacrebleu 1.4.2), which the Sign2GPT authors' BLEU uses.
FLOOR_SMOOTH_VALUE = 0.0


@dataclass(frozen=True)
class BleuConvention:
    """How BLEU is computed: the tokenisation and the smoothing (see the module docstring)."""

    tokenize: BleuTokenize = "auto"
    smooth: BleuSmooth = "exp"

    def __post_init__(self) -> None:
        if self.tokenize not in TOKENIZE_CHOICES:
            raise ValueError(f"tokenize: {self.tokenize!r} is not one of {TOKENIZE_CHOICES}")
        if self.smooth not in SMOOTH_CHOICES:
            raise ValueError(f"smooth: {self.smooth!r} is not one of {SMOOTH_CHOICES}")

    def resolved_tokenize(self, lang: str) -> str:
        """The tokenisation used for `lang`: "auto" is "char" for Chinese, else "13a"."""
        if self.tokenize == "auto":
            return "char" if lang == "zh" else "13a"
        return self.tokenize

    def sacrebleu_args(self, lang: str) -> dict:
        """Keyword arguments of `sacrebleu.metrics.BLEU` for this convention (text already
        split into characters by `corpus_bleu` when the tokenisation is "char")."""
        tokenize = self.resolved_tokenize(lang)
        args: dict = {"tokenize": "none" if tokenize == "char" else tokenize,
                      "smooth_method": self.smooth}  # fmt: skip
        if self.smooth == "floor":
            args["smooth_value"] = FLOOR_SMOOTH_VALUE
        return args


def split_characters(text: str) -> str:
    """"你好 吗" -> "你 好 吗": every non-space character becomes a token."""
    return " ".join("".join(text.split()))


def _prepare(texts: Sequence[str], chars: bool) -> list[str]:
    if chars:
        return [split_characters(t) for t in texts]
    return [" ".join(t.split()) for t in texts]


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[str],
    lang: str = "de",
    convention: BleuConvention | None = None,
):
    """Cumulative corpus BLEU-1..4 (0-100) and the sacrebleu signature.

    Args:
        hypotheses: system outputs, one per sentence.
        references: one reference per sentence.
        lang: with the default convention, "zh" scores characters and any other language
            13a word tokens.
        convention: tokenisation and smoothing; None = `BleuConvention()` (auto, exp).

    Returns:
        ({"bleu1": .., "bleu2": .., "bleu3": .., "bleu4": ..}, signature string)
    """
    from sacrebleu.metrics import BLEU

    _check_lengths(hypotheses, references)
    convention = convention or BleuConvention()
    chars = convention.resolved_tokenize(lang) == "char"
    hyps, refs = _prepare(hypotheses, chars), _prepare(references, chars)
    scores, signature = {}, ""
    for order in range(1, 5):
        # force: SLT corpora are scored as published, already tokenised ("... morgen ."), so
        # sacrebleu's "forgot to detokenize" warning (printed on every call) does not apply.
        bleu = BLEU(**convention.sacrebleu_args(lang), max_ngram_order=order, force=True)
        # sacrebleu fails on an empty corpus; one empty sentence pair scores 0, as ROUGE-L does.
        scores[f"bleu{order}"] = bleu.corpus_score(hyps or [""], [refs or [""]]).score
        signature = str(bleu.get_signature())
    if chars:
        signature += "|chars"
    return scores, signature


@dataclass(frozen=True)
class PairedBleu:
    """Two systems' BLEU-4 on the same sentences, with a paired bootstrap test (0-100 scale)."""

    system: float
    baseline: float
    difference: float  # system - baseline
    p_value: float  # chance of a difference this large if the two systems were equal
    system_ci95: float  # half-width of the 95% bootstrap interval of each score
    baseline_ci95: float
    samples: int


def paired_bleu4(
    system: Sequence[str],
    baseline: Sequence[str],
    references: Sequence[str],
    lang: str = "de",
    convention: BleuConvention | None = None,
    samples: int = 1000,
) -> PairedBleu:
    """Is `system`'s BLEU-4 really above (or below) `baseline`'s, or within resampling noise?

    sacrebleu's paired bootstrap resampling (Koehn 2004; Moses' bootstrap-hypothesis-
    difference-significance.pl): `samples` resamples of the sentences, the same for both
    systems, scored with the BLEU of `corpus_bleu` (same tokenisation and smoothing). The
    resampling seed is sacrebleu's (12345 unless $SACREBLEU_SEED says otherwise), so the
    p-value is reproducible. Equal BLEU-4 gets p = 1: where the outputs are identical, or
    differ only in words that match no reference (the same n-gram counts in every sentence),
    every resample differs by 0 and sacrebleu gives its smallest p-value, 1 / (samples + 1),
    which would read as a significant difference."""
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    _check_lengths(system, references)
    _check_lengths(baseline, references)
    if not references:
        raise ValueError("paired_bleu4 needs at least one sentence")
    convention = convention or BleuConvention()
    chars = convention.resolved_tokenize(lang) == "char"
    prepared = [_prepare(texts, chars) for texts in (baseline, system, references)]
    bleu = BLEU(**convention.sacrebleu_args(lang), max_ngram_order=4, force=True)
    test = PairedTest([("baseline", prepared[0]), ("system", prepared[1])], {"BLEU": bleu},
                      [prepared[2]], test_type="bs", n_samples=samples)  # fmt: skip
    base, ours = test()[1]["BLEU"]
    p_value = 1.0 if ours.score == base.score else ours.p_value
    return PairedBleu(
        system=ours.score, baseline=base.score, difference=ours.score - base.score,
        p_value=p_value, system_ci95=ours.ci, baseline_ci95=base.ci, samples=samples,
    )  # fmt: skip


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (O(|a| |b|) DP)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def sentence_rouge_l(hypothesis: str, reference: str, beta: float = ROUGE_BETA) -> float:
    """ROUGE-L F (0-1) of one whitespace-tokenised sentence pair, as in pycocoevalcap."""
    hyp, ref = hypothesis.split(), reference.split()
    lcs = lcs_length(hyp, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return (1 + beta**2) * precision * recall / (recall + beta**2 * precision)


def corpus_rouge_l(hypotheses: Sequence[str], references: Sequence[str], lang: str = "de") -> float:
    """Mean sentence ROUGE-L F with beta 1.2, on the 0-100 scale (characters for "zh")."""
    _check_lengths(hypotheses, references)
    if not hypotheses:
        return 0.0
    hyps, refs = _prepare(hypotheses, lang == "zh"), _prepare(references, lang == "zh")
    return 100.0 * sum(map(sentence_rouge_l, hyps, refs)) / len(hyps)


def translation_scores(
    hypotheses: Sequence[str],
    references: Sequence[str],
    lang: str = "de",
    convention: BleuConvention | None = None,
) -> dict[str, float | str]:
    """All reported metrics: keys bleu1..bleu4, rouge_l (0-100) and sacrebleu_signature.

    Args:
        hypotheses: system outputs, one per sentence.
        references: one reference per sentence, same order.
        lang: "zh" for character-level ROUGE-L (and BLEU, by default; CSL-Daily); otherwise
            word level.
        convention: BLEU tokenisation and smoothing; None = the default (auto, exp).
    """
    bleu, signature = corpus_bleu(hypotheses, references, lang, convention)
    return {**bleu, "rouge_l": corpus_rouge_l(hypotheses, references, lang),
            "sacrebleu_signature": signature}  # fmt: skip


def _check_lengths(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
