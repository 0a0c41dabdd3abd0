"""Translation metrics as SLT papers report them: corpus BLEU-1..4 and ROUGE-L (beta 1.2).

BLEU-n is sacrebleu's corpus BLEU with `max_ngram_order=n`: the brevity penalty times the
geometric mean of the 1..n-gram precisions with uniform weights (the cumulative BLEU-n of
SLT papers, not the n-gram precision alone), sacrebleu's default "exp" smoothing (it only acts
when some n-gram order has no match in the whole corpus) and 13a tokenisation. Chinese
is scored at character level: every non-space character is split off before scoring (the
CSL-Daily convention), so 13a sees single characters.

ROUGE-L is the MS-COCO caption evaluation's (pycocoevalcap `Rouge`): per sentence, the longest
common subsequence of the whitespace tokens gives P = LCS/|hyp| and R = LCS/|ref|, and
F = (1 + beta^2) P R / (R + beta^2 P) with beta = 1.2 (0 when P or R is 0); the score is the
mean over sentences. All scores are on the 0-100 scale.
"""

from __future__ import annotations

from collections.abc import Sequence

ROUGE_BETA = 1.2
_WORD_LEVEL_TOKENIZE = "13a"


def split_characters(text: str) -> str:
    """"你好 吗" -> "你 好 吗": every non-space character becomes a token."""
    return " ".join("".join(text.split()))


def _prepare(texts: Sequence[str], lang: str) -> list[str]:
    if lang == "zh":
        return [split_characters(t) for t in texts]
    return [" ".join(t.split()) for t in texts]


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str], lang: str = "de"):
    """Cumulative corpus BLEU-1..4 (0-100) and the sacrebleu signature.

    Args:
        hypotheses: system outputs, one per sentence.
        references: one reference per sentence.
        lang: "zh" scores characters; any other language scores 13a word tokens.

    Returns:
        ({"bleu1": .., "bleu2": .., "bleu3": .., "bleu4": ..}, signature string)
    """
    from sacrebleu.metrics import BLEU

    _check_lengths(hypotheses, references)
    hyps, refs = _prepare(hypotheses, lang), _prepare(references, lang)
    scores, signature = {}, ""
    for order in range(1, 5):
        # force: SLT corpora are scored as published, already tokenised ("... morgen ."), so
        # sacrebleu's "forgot to detokenize" warning (printed on every call) does not apply.
        bleu = BLEU(tokenize=_WORD_LEVEL_TOKENIZE, max_ngram_order=order, force=True)
        # sacrebleu fails on an empty corpus; one empty sentence pair scores 0, as ROUGE-L does.
        scores[f"bleu{order}"] = bleu.corpus_score(hyps or [""], [refs or [""]]).score
        signature = str(bleu.get_signature())
    if lang == "zh":
        signature += "|chars"
    return scores, signature


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
    hyps, refs = _prepare(hypotheses, lang), _prepare(references, lang)
    return 100.0 * sum(map(sentence_rouge_l, hyps, refs)) / len(hyps)


def translation_scores(
    hypotheses: Sequence[str], references: Sequence[str], lang: str = "de"
) -> dict[str, float | str]:
    """All reported metrics: keys bleu1..bleu4, rouge_l (0-100) and sacrebleu_signature.

    Args:
        hypotheses: system outputs, one per sentence.
        references: one reference per sentence, same order.
        lang: "zh" for character-level scores (CSL-Daily); otherwise word level.
    """
    bleu, signature = corpus_bleu(hypotheses, references, lang)
    return {**bleu, "rouge_l": corpus_rouge_l(hypotheses, references, lang),
            "sacrebleu_signature": signature}  # fmt: skip


def _check_lengths(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
