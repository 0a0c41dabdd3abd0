"""Pseudo-glosses (paper section "pseudo-gloss pretraining", Table 1a).

A sentence's pseudo-glosses are its content words: tokens whose Universal POS tag is one of
NOUN, NUM, ADV, PRON, PROPN, ADJ, VERB, lowercased, lemmatised for German (the word itself for
Chinese), each kept once in sentence order. The vocabulary is every pseudo-gloss of the
training sentences; `PseudoGlossVocab.multi_hot` turns targets into the (B, K) matrix that the
prototype head's BCE loss needs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sign2gpt.errors import DataError
from sign2gpt.io import write_json
from sign2gpt.text.taggers import Tagger, Token, make_tagger

if TYPE_CHECKING:
    import torch

KEEP_UPOS = frozenset({"NOUN", "NUM", "ADV", "PRON", "PROPN", "ADJ", "VERB"})
VOCAB_FILE = "vocab.json"
TARGETS_FILE = "targets.json"
_FORMAT = "sign2gpt-pseudo-glosses"


def pseudo_glosses_of(tokens: Iterable[Token], all_words: bool = False) -> list[str]:
    """The pseudo-glosses of one tagged sentence: kept POS, lemma, lowercase, first occurrence.

    `all_words`: keep every word whatever its POS (the paper's "all words as tokens" ablation;
    still lemmatised, so only the POS selection differs).
    """
    glosses: dict[str, None] = {}  # an ordered set
    for token in tokens:
        gloss = token.lemma.lower()
        if (all_words or token.upos in KEEP_UPOS) and any(ch.isalnum() for ch in gloss):
            glosses.setdefault(gloss)
    return list(glosses)


def count_words(sentences: Iterable[str], lang: str) -> int:
    """Size of the plain text vocabulary (Table 1a "vocabulary").

    German: distinct lowercase whitespace tokens that contain a letter or digit (the Phoenix
    text is pre-tokenised). Chinese: distinct characters, as the paper counts CSL-Daily.
    """
    if lang == "zh":
        units = {ch for s in sentences for ch in s if ch.isalnum()}
    else:
        units = {w for s in sentences for w in s.lower().split() if any(c.isalnum() for c in w)}
    return len(units)


@dataclass
class PseudoGlossVocab:
    """The pseudo-gloss vocabulary: words in a fixed order, with their training counts.

    `counts[i]` is the number of training sentences whose targets contain `words[i]`, out of
    `sentences` (None in files written before it was stored). The order (most frequent first,
    ties alphabetical) is the column order of `multi_hot` and the row order of the prototypes.
    `excluded` words stay in the vocabulary (and keep their prototype) but are never a target;
    see `without_frequent`. `all_words`: built from every word, not only the content words
    (`text.gloss_tokens: all_words`).
    """

    words: list[str]
    counts: list[int]
    lang: str
    backend: str
    sentences: int | None = None
    excluded: frozenset[str] = frozenset()
    all_words: bool = False
    index: dict[str, int] = field(init=False, repr=False)
    _tagger: Tagger | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.words) != len(self.counts):
            raise ValueError("words and counts differ in length")
        self.index = {word: i for i, word in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("pseudo-gloss vocabulary has duplicate words")

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    @classmethod
    def from_targets(
        cls,
        targets: Iterable[Sequence[str]],
        lang: str,
        backend: str,
        all_words: bool = False,
    ) -> PseudoGlossVocab:
        """Vocabulary of all glosses in `targets`, ordered by sentence count then alphabet."""
        targets = list(targets)
        counts = Counter(g for sentence in targets for g in set(sentence))
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        words, numbers = [w for w, _ in ordered], [c for _, c in ordered]
        return cls(words, numbers, lang, backend, sentences=len(targets), all_words=all_words)

    def without_frequent(self, max_frequency: float) -> PseudoGlossVocab:
        """This vocabulary with the words in >= `max_frequency` of its sentences excluded from
        the targets (the authors' stage-1 filter: 0.4). K and the prototypes do not change.

        Raises:
            ValueError: the vocabulary does not know its sentence count.
        """
        if self.sentences is None:
            raise ValueError("it has no sentence count (rebuild it with `sign2gpt glosses`)")
        frequent = {w for w, c in zip(self.words, self.counts, strict=True)
                    if c >= max_frequency * self.sentences}  # fmt: skip
        return replace(self, excluded=frozenset(frequent))

    def target_counts(self) -> list[int]:
        """`counts` with the excluded words at 0: how often each column is a target."""
        pairs = zip(self.words, self.counts, strict=True)
        return [0 if w in self.excluded else c for w, c in pairs]

    def multi_hot(self, targets: Sequence[Sequence[str]]) -> torch.Tensor:
        """(B, K) float 0/1 matrix: row b marks the glosses of sentence b (unknown and excluded
        ones ignored).

        Args:
            targets: one list of pseudo-glosses per sentence.
        """
        import torch

        out = torch.zeros(len(targets), len(self.words))  # (B, K)
        for row, glosses in enumerate(targets):
            cols = [self.index[g] for g in glosses if g in self.index and g not in self.excluded]
            out[row, cols] = 1.0
        return out

    @property
    def tagger(self) -> Tagger:
        """The tagger of the backend this vocabulary was built with (created on first use)."""
        if self._tagger is None:
            self._tagger = make_tagger(self.lang, self.backend)
        return self._tagger

    def extract(self, sentence: str) -> list[str]:
        """Pseudo-glosses of a new sentence that are in this vocabulary, in sentence order."""
        glosses = pseudo_glosses_of(self.tagger.tag(sentence), self.all_words)
        return [g for g in glosses if g in self.index]

    def save(self, directory: str | Path) -> Path:
        """Write `<directory>/vocab.json`; returns its path."""
        path = Path(directory) / VOCAB_FILE
        write_json(
            path,
            {
                "format": _FORMAT,
                "lang": self.lang,
                "backend": self.backend,
                "sentences": self.sentences,
                "tokens": "all_words" if self.all_words else "pseudo_glosses",
                "vocabulary": dict(zip(self.words, self.counts, strict=True)),
            },
        )
        return path

    @classmethod
    def load(cls, directory: str | Path) -> PseudoGlossVocab:
        """Read the vocabulary that `save` (or `sign2gpt glosses`) wrote into `directory`."""
        path = Path(directory) / VOCAB_FILE
        data = _read_json(path)
        try:
            vocabulary = data["vocabulary"]
            words, counts = list(vocabulary), [int(c) for c in vocabulary.values()]
            sentences = data.get("sentences")
            sentences = None if sentences is None else int(sentences)
            all_words = data.get("tokens", "pseudo_glosses") == "all_words"
            lang, backend = str(data["lang"]), str(data["backend"])
            return cls(words, counts, lang, backend, sentences, all_words=all_words)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise DataError(path, f"not a pseudo-gloss vocabulary ({exc})") from None


@dataclass
class PseudoGlossResult:
    """Pseudo-glosses of a list of training sentences.

    `tokens[i]` is the segmentation of sentence i (all words, lowercase), `targets[i]` its
    pseudo-glosses in sentence order.
    """

    sentences: list[str]
    tokens: list[list[str]]
    targets: list[list[str]]
    vocab: PseudoGlossVocab
    tagger_version: str

    @property
    def vector_corpus(self) -> list[list[str]]:
        """Sentences to train word vectors on: every segmentation plus every target list, so
        that each pseudo-gloss (a lemma, often not a surface form) is a vocabulary word."""
        return self.tokens + self.targets

    @property
    def mean_per_sentence(self) -> float:
        return sum(map(len, self.targets)) / max(len(self.targets), 1)

    def stats(self) -> dict[str, object]:
        """The Table 1a numbers: text vocabulary, pseudo-gloss count, mean per sentence."""
        return {
            "sentences": len(self.sentences),
            "vocabulary": count_words(self.sentences, self.vocab.lang),
            "pseudo_glosses": len(self.vocab),
            "mean_per_sentence": round(self.mean_per_sentence, 4),
            "backend": self.vocab.backend,
            "tagger": self.tagger_version,
        }

    def save(self, directory: str | Path, ids: Sequence[str] | None = None) -> list[Path]:
        """Write `vocab.json` and `targets.json` (one entry per sentence, in input order)."""
        ids = list(ids) if ids is not None else [str(i) for i in range(len(self.sentences))]
        entries = [
            {"id": i, "text": text, "pseudo_glosses": glosses}
            for i, text, glosses in zip(ids, self.sentences, self.targets, strict=True)
        ]
        targets_path = Path(directory) / TARGETS_FILE
        write_json(
            targets_path,
            {
                "format": _FORMAT,
                "lang": self.vocab.lang,
                "backend": self.vocab.backend,
                "tagger": self.tagger_version,
                "sentences": entries,
            },
        )
        return [self.vocab.save(directory), targets_path]


def tag_sentences(sentences: Sequence[str], tagger: Tagger, progress: bool = True):
    """Tag each distinct sentence once; returns one token list per input sentence."""
    from tqdm import tqdm

    distinct = list(dict.fromkeys(sentences))
    tagged = {
        s: tagger.tag(s)
        for s in tqdm(distinct, desc=f"tagging ({tagger.name})", unit="sent", disable=not progress)
    }
    return [tagged[s] for s in sentences]


def build_pseudo_glosses(
    sentences: Sequence[str],
    lang: str,
    backend: str = "auto",
    progress: bool = True,
    all_words: bool = False,
) -> PseudoGlossResult:
    """Pseudo-gloss targets and vocabulary of training sentences.

    Args:
        sentences: training translations, one sentence each.
        lang: "de" (lemmatised) or "zh" (word-segmented).
        backend: "auto", "spacy", "hanta" or "jieba" (see `taggers.make_tagger`).
        progress: show a tqdm bar while tagging.
        all_words: every word is a target, not only the content words (ablation).
    """
    tagger = make_tagger(lang, backend)
    tagged = tag_sentences(sentences, tagger, progress)
    targets = [pseudo_glosses_of(tokens, all_words) for tokens in tagged]
    vocab = PseudoGlossVocab.from_targets(targets, lang, tagger.name, all_words)
    vocab._tagger = tagger  # extract() on this vocabulary reuses the warm tagger
    return PseudoGlossResult(
        sentences=list(sentences),
        tokens=[[t.text for t in tokens] for tokens in tagged],
        targets=targets,
        vocab=vocab,
        tagger_version=tagger.version,
    )


def coverage(
    vocab: PseudoGlossVocab, sentences: Sequence[str], progress: bool = True
) -> dict[str, float]:
    """Share of the pseudo-glosses of (held-out) `sentences` that the vocabulary contains.

    Returns `tokens`: fraction of all pseudo-gloss occurrences, `types`: fraction of distinct
    pseudo-glosses (both 0..1; 1.0 when there are none).
    """
    tagged = tag_sentences(sentences, vocab.tagger, progress)
    occurrences = [g for tokens in tagged for g in pseudo_glosses_of(tokens, vocab.all_words)]
    distinct = set(occurrences)
    return {
        "tokens": _share_known(vocab, occurrences),
        "types": _share_known(vocab, distinct),
    }


def _share_known(vocab: PseudoGlossVocab, glosses: Sequence[str] | set[str]) -> float:
    return sum(g in vocab for g in glosses) / len(glosses) if glosses else 1.0


def normalize_text(text: str) -> str:
    """The key of a sentence in `load_targets`: whitespace runs collapsed, ends stripped."""
    return " ".join(text.split())


def load_targets(directory: str | Path) -> dict[str, list[str]]:
    """Sentence -> pseudo-glosses, from the `targets.json` that `glosses` wrote.

    Keys are `normalize_text(sentence)`; for a sentence that is not there (a new corpus), use
    `PseudoGlossVocab.extract`.
    """
    path = Path(directory) / TARGETS_FILE
    data = _read_json(path)
    try:
        return {normalize_text(e["text"]): list(e["pseudo_glosses"]) for e in data["sentences"]}
    except (KeyError, TypeError) as exc:
        raise DataError(path, f"not a pseudo-gloss targets file ({exc})") from None


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise DataError(path, "file not found (run `sign2gpt glosses` first)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise DataError(path, f"not a {_FORMAT} file")
    return data
