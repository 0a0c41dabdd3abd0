"""Score stage-1 localization against true gloss timings: precision, recall and F1.

The stage-1 model localizes *pseudo-glosses* (German lemmas, e.g. `regen`), while SynthSign's
ground truth times *sign glosses* (e.g. `REGEN`, `IX`). The two are linked by an alignment
learned from co-occurrence on the training split, then spans are matched by time overlap:

1. Alignment (`dice_alignment`). Over the training sentences, count for every lemma w and
   gloss g the sentences holding w among their pseudo-glosses (n_w), g in their gloss sequence
   (n_g) and both (n_wg). Dice(w, g) = 2 n_wg / (n_w + n_g). A lemma is aligned to the
   gloss(es) of highest Dice, provided that Dice is at least `min_dice` (default 0.3); other
   lemmas (pronouns, function-like words with no sign of their own) stay unaligned.
2. Intervals. A predicted span is [start, end) in seconds (`sign2gpt.localization.gloss_spans`:
   the feature steps above the threshold). A true gloss occupies frames f0..f1 (inclusive,
   0-based, original frame rate), i.e. [f0 / fps, (f1 + 1) / fps) seconds. Two intervals
   match when they overlap by more than zero time.
3. Per video, micro-summed over videos:
   - precision: a predicted span of an aligned lemma w is correct when it overlaps a true
     occurrence of a gloss aligned to w in the same video. Spans of unaligned lemmas cannot be
     judged; they are counted apart (`unaligned_spans`) and left out of precision.
   - recall: a true occurrence of a gloss that some lemma is aligned to is found when a
     predicted span of such a lemma overlaps it. Occurrences of glosses no lemma aligns to
     (e.g. the pointing sign IX) are left out.
   Several spans may match the same occurrence (no one-to-one assignment): a span split in two
   by a dip under the threshold is still two correct spans.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

DEFAULT_MIN_DICE = 0.3

Alignment = dict[str, set[str]]  # lemma -> the glosses it is aligned to


def dice_alignment(
    sentences: Iterable[tuple[Sequence[str], Sequence[str]]], min_dice: float = DEFAULT_MIN_DICE
) -> Alignment:
    """Align each lemma to the gloss(es) of highest sentence-level Dice coefficient.

    Args:
        sentences: per training sentence, (its pseudo-glosses, its gloss sequence).
        min_dice: lemmas whose best Dice is below this stay unaligned.
    """
    lemma_count: Counter[str] = Counter()
    gloss_count: Counter[str] = Counter()
    pair_count: Counter[tuple[str, str]] = Counter()
    for lemmas, glosses in sentences:
        lemma_set, gloss_set = set(lemmas), set(glosses)
        lemma_count.update(lemma_set)
        gloss_count.update(gloss_set)
        pair_count.update((w, g) for w in lemma_set for g in gloss_set)
    dice: dict[str, dict[str, float]] = {}
    for (w, g), both in pair_count.items():
        dice.setdefault(w, {})[g] = 2 * both / (lemma_count[w] + gloss_count[g])
    alignment: Alignment = {}
    for w, scores in dice.items():
        best = max(scores.values())
        if best >= min_dice:
            alignment[w] = {g for g, s in scores.items() if math.isclose(s, best)}
    return alignment


def frame_interval(start_frame: int, end_frame: int, fps: float) -> tuple[float, float]:
    """Inclusive frame indices -> half-open [start, end) seconds."""
    return start_frame / fps, (end_frame + 1) / fps


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two half-open intervals share more than zero time."""
    return a[0] < b[1] and b[0] < a[1]


@dataclass
class LocalizationCounts:
    """Micro counts behind precision and recall (see the module docstring)."""

    predicted_spans: int = 0  # spans of aligned lemmas
    correct_spans: int = 0
    true_occurrences: int = 0  # occurrences of aligned glosses
    found_occurrences: int = 0
    unaligned_spans: int = 0  # spans of lemmas with no aligned gloss (not judged)
    videos: int = 0

    def __iadd__(self, other: LocalizationCounts) -> LocalizationCounts:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)
        return self

    @property
    def precision(self) -> float:
        return self.correct_spans / self.predicted_spans if self.predicted_spans else 0.0

    @property
    def recall(self) -> float:
        return self.found_occurrences / self.true_occurrences if self.true_occurrences else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, **asdict(self)}


@dataclass
class JudgedVideo:
    """What is judged in one video: spans of aligned lemmas and occurrences of aligned glosses.

    Attributes:
        judged: (glosses aligned to the span's lemma, (start, end) in seconds) per span.
        truth: (gloss, (start, end) in seconds) per true occurrence.
        unaligned_spans: spans of lemmas with no aligned gloss (not judged).
    """

    judged: list[tuple[set[str], tuple[float, float]]]
    truth: list[tuple[str, tuple[float, float]]]
    unaligned_spans: int


def judge_video(
    predicted: Sequence[Mapping],
    timings: Sequence[Mapping],
    alignment: Alignment,
    fps: float,
) -> JudgedVideo:
    """The spans and occurrences of one video that localization is scored on.

    Args:
        predicted: spans {"gloss": lemma, "start": s, "end": s} in seconds, end exclusive.
        timings: true glosses {"gloss": G, "start": f0, "end": f1}, inclusive frame indices.
        alignment: from `dice_alignment`.
        fps: frame rate of the timings.
    """
    aligned_glosses = set().union(*alignment.values()) if alignment else set()
    truth = [
        (t["gloss"], frame_interval(t["start"], t["end"], fps))
        for t in timings
        if t["gloss"] in aligned_glosses
    ]
    spans = [(p["gloss"], (float(p["start"]), float(p["end"]))) for p in predicted]
    judged = [(alignment[w], span) for w, span in spans if w in alignment]
    return JudgedVideo(judged, truth, len(spans) - len(judged))


def score_video(
    predicted: Sequence[Mapping],
    timings: Sequence[Mapping],
    alignment: Alignment,
    fps: float,
) -> LocalizationCounts:
    """Counts of one video (arguments as `judge_video`)."""
    video = judge_video(predicted, timings, alignment, fps)
    judged, truth = video.judged, video.truth
    counts = LocalizationCounts(videos=1, unaligned_spans=video.unaligned_spans)
    counts.predicted_spans = len(judged)
    counts.correct_spans = sum(
        any(g in glosses and overlaps(span, when) for g, when in truth) for glosses, span in judged
    )
    counts.true_occurrences = len(truth)
    counts.found_occurrences = sum(
        any(g in glosses and overlaps(span, when) for glosses, span in judged) for g, when in truth
    )
    return counts


def score_localization(
    predicted: Mapping[str, Sequence[Mapping]],
    timings: Mapping[str, Sequence[Mapping]],
    alignment: Alignment,
    fps: float = 25.0,
) -> LocalizationCounts:
    """Micro counts over every video of `predicted` (video id -> spans).

    Args:
        predicted: e.g. `sign2gpt.inference.predict.localize_dataset`'s result.
        timings: the corpus's `timings/<split>.json` (video id -> true glosses).
        alignment: from `dice_alignment`.
        fps: frame rate of the timings (SynthSign: 25).
    """
    missing = sorted(set(predicted) - set(timings))
    if missing:
        raise KeyError(f"no gloss timings for {len(missing)} videos, e.g. {missing[0]!r}")
    total = LocalizationCounts()
    for video_id, spans in predicted.items():
        total += score_video(spans, timings[video_id], alignment, fps)
    return total
