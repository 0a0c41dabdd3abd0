"""Part-of-speech taggers behind the pseudo-gloss rule: spaCy, HanTa (German), jieba (Chinese).

Every tagger turns one sentence into `Token`s with a lowercase surface form, a lemma (German) or
the word itself (Chinese), and a Universal POS tag. Tagging is deterministic: the same sentence
always gives the same tokens, whatever else was tagged before.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from dataclasses import dataclass
from typing import Protocol

from sign2gpt.errors import ConfigError
from sign2gpt.text.tagsets import jieba_to_upos, stts_to_upos

LANGUAGES = ("de", "zh")
BACKENDS = ("auto", "spacy", "hanta", "jieba")
# Pipelines tried in this order when spaCy is asked for (the paper used spaCy).
SPACY_PIPELINES = {
    "de": ("de_core_news_lg", "de_core_news_md", "de_core_news_sm"),
    "zh": ("zh_core_web_lg", "zh_core_web_md", "zh_core_web_sm"),
}
OFFLINE_BACKEND = {"de": "hanta", "zh": "jieba"}

# Words and numbers (with inner hyphens/apostrophes) or single punctuation marks.
_WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Token:
    """One tagged word: lowercase surface form, lemma and Universal POS tag."""

    text: str
    lemma: str
    upos: str


class Tagger(Protocol):
    """What `build_pseudo_glosses` needs from a backend."""

    name: str
    version: str  # library (and pipeline) version, recorded next to the vocabulary

    def tag(self, sentence: str) -> list[Token]: ...


class HanTaTagger:
    """German tagger and lemmatiser from HanTa (ships its own model; no download).

    Phoenix translations are all lowercase, so HanTa runs case-insensitively (its capitalisation
    feature would otherwise read every noun as "not a noun"). Measured on the Phoenix14T train
    text: case-insensitive gives 2,066 distinct pseudo-glosses with fewer nouns mistaken for
    proper nouns than case-sensitive tagging of the lowercase text (2,080).
    """

    name = "hanta"

    def __init__(self) -> None:
        from HanTa import HanoverTagger

        # HanTa's bundled model file (its own format; we never unpickle anything ourselves).
        self._hanta = HanoverTagger.HanoverTagger("morphmodel_ger.pgz")
        self.version = f"HanTa {_package_version('HanTa')}"
        self._lemmas: dict[tuple[str, str], str] = {}

    def tag(self, sentence: str) -> list[Token]:
        words = _WORD_RE.findall(sentence.lower())
        if not words:
            return []
        tags = self._hanta.tag_sent(words, taglevel=0, casesensitive=False)
        return [
            Token(word, self._lemma(word, tag), stts_to_upos(tag))
            for word, tag in zip(words, tags, strict=True)
        ]

    def _lemma(self, word: str, tag: str) -> str:
        key = (word, tag)
        if key not in self._lemmas:
            self._lemmas[key] = self._compute_lemma(word, tag)
        return self._lemmas[key]

    def _analyze(self, word: str, tag: str) -> tuple[str, str]:
        lemma, found_tag = self._hanta.analyze(word, pos=tag, taglevel=1)
        return lemma.lower(), found_tag

    def _compute_lemma(self, word: str, tag: str) -> str:
        if tag == "NNI":
            # A nominalised infinitive is its own lemma ("abklingen"); HanTa's noun analysis
            # mangles some ("schneien" -> "schnei").
            return word
        if tag == "NNA":
            # Lowercase text hides whether an adjective is nominalised: lemmatise it as one.
            for adj_tag in ("ADJ(A)", "ADJ(D)"):
                lemma, found = self._analyze(word, adj_tag)
                if found != "UNKNOWN":
                    return _respell(word, lemma)
            return word
        lemma, _ = self._analyze(word, tag)
        if tag in ("NN", "NE") and word.endswith("ern") and lemma == word[:-3]:
            # Dative plural "-n" of a noun ending in "-er": HanTa strips "-ern" ("schauern" ->
            # "schau"); keep "schauer" when HanTa itself reads "schauer" as a base form (but not
            # for true "-er" plurals: "feldern" -> "felder" -> "feld").
            singular = word[:-1]
            if self._analyze(singular, "NN")[0] == singular:
                lemma = singular
        return _respell(word, lemma)


def _respell(word: str, lemma: str) -> str:
    """Undo HanTa's old-orthography lemmas when the text is written in the new one.

    HanTa's model predates the 1996 spelling reform: "schluss" -> "schluß", and a lemma ending
    in "ss" loses one "s" ("einfluss" -> "einflus").
    """
    if "ss" in word and "ß" not in word:
        lemma = lemma.replace("ß", "ss")
    if lemma.endswith("s") and not lemma.endswith("ss") and word.startswith(lemma + "s"):
        lemma += "s"
    return lemma


class JiebaTagger:
    """Chinese word segmentation and POS tags from jieba.posseg (dictionary ships with jieba)."""

    name = "jieba"

    def __init__(self) -> None:
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict..." chatter
        self._posseg = jieba.posseg.POSTokenizer(jieba.Tokenizer())
        self.version = f"jieba {_package_version('jieba')}"

    def tag(self, sentence: str) -> list[Token]:
        tokens = []
        for pair in self._posseg.cut("".join(sentence.split()), HMM=True):
            word = pair.word.lower()
            tokens.append(Token(word, word, jieba_to_upos(pair.flag)))
        return tokens


class SpacyTagger:
    """spaCy pipeline (the paper's choice): German lemmas, Chinese words."""

    name = "spacy"

    def __init__(self, lang: str, pipeline: str) -> None:
        import spacy

        self.lang = lang
        self.pipeline = pipeline
        self._nlp = spacy.load(pipeline, exclude=["parser", "ner"])
        self.version = f"spaCy {spacy.__version__}, {pipeline} {self._nlp.meta.get('version', '?')}"

    def tag(self, sentence: str) -> list[Token]:
        tokens = []
        for tok in self._nlp(" ".join(sentence.split())):
            lemma = tok.lemma_ if self.lang == "de" else tok.text
            tokens.append(Token(tok.text.lower(), lemma.lower(), tok.pos_))
        return tokens


def _package_version(name: str) -> str:
    return importlib.metadata.version(name)


def installed_spacy_pipeline(lang: str) -> str | None:
    """Name of the first installed spaCy pipeline for `lang`, or None (also without spaCy)."""
    try:
        import spacy.util
    except ImportError:
        return None
    return next((p for p in SPACY_PIPELINES[lang] if spacy.util.is_package(p)), None)


def make_tagger(lang: str, backend: str = "auto") -> Tagger:
    """Build the tagger for `lang`.

    Args:
        lang: "de" or "zh".
        backend: "spacy", "hanta" (German), "jieba" (Chinese), or "auto": spaCy when a pipeline
            for the language is installed, else the offline backend of the language.
    """
    if lang not in LANGUAGES:
        raise ConfigError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    if backend not in BACKENDS:
        raise ConfigError(f"unknown tagger backend {backend!r}; expected one of {BACKENDS}")
    if backend in ("auto", "spacy"):
        pipeline = installed_spacy_pipeline(lang)
        if pipeline is not None:
            return SpacyTagger(lang, pipeline)
        if backend == "spacy":
            names = " or ".join(SPACY_PIPELINES[lang])
            raise ConfigError(f"backend 'spacy' needs spaCy with the pipeline {names} installed")
        backend = OFFLINE_BACKEND[lang]
    if backend != OFFLINE_BACKEND[lang]:
        raise ConfigError(f"backend {backend!r} does not tag language {lang!r}")
    return HanTaTagger() if backend == "hanta" else JiebaTagger()
