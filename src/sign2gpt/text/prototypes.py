"""Word-vector prototypes of the pseudo-glosses (paper: 300-d fastText, one row per gloss).

Two sources:
- a user's fastText file: `.bin` (Facebook binary, with subword n-grams: an out-of-vocabulary
  pseudo-gloss gets the sum of its n-gram vectors, as fastText itself does) or `.vec` (plain
  text, no subwords: an out-of-vocabulary gloss gets the mean vector of the known words that
  spell it, e.g. "sturm" + "böe" for "sturmböe"; a gloss with no known part is an error, never
  random noise);
- otherwise fastText vectors trained on the training sentences (gensim, one worker, fixed seed:
  the same input gives bit-identical vectors).

Saved as `prototypes.safetensors` next to the vocabulary: tensor "prototypes" (K, D) in
vocabulary order, the word list in the metadata. The extra all-zero "no sign" prototype is the
head's business, not stored here.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sign2gpt.errors import DataError
from sign2gpt.io import atomic_path

if TYPE_CHECKING:
    import numpy as np
    import torch
    from gensim.models.keyedvectors import KeyedVectors

PROTOTYPES_FILE = "prototypes.safetensors"
# How gensim's parsers fail on a file that is not what its suffix says (UnicodeDecodeError is
# a ValueError).
_PARSE_ERRORS = (ValueError, OSError, EOFError, AssertionError, NotImplementedError, struct.error)
DEFAULT_DIM = 300


def train_word_vectors(
    corpus: Sequence[Sequence[str]],
    dim: int = DEFAULT_DIM,
    epochs: int = 10,
    seed: int = 0,
    buckets: int = 100_000,
    progress: bool = True,
) -> KeyedVectors:
    """Train fastText (skip-gram, 3-6 character n-grams) vectors on tokenised sentences.

    Deterministic: one worker thread and a fixed seed.

    Args:
        corpus: token lists (the training sentences; include the pseudo-gloss sequences so that
            every lemma is a vocabulary word).
        dim: vector size (the paper uses 300).
        epochs: passes over the corpus.
        seed: random seed of initialisation and sampling.
        buckets: hash buckets for n-grams (fastText's 2M would take 2.4 GB at 300-d).
        progress: show a tqdm bar over epochs.
    """
    from gensim.models import FastText
    from gensim.models.callbacks import CallbackAny2Vec
    from tqdm import tqdm

    sentences = [list(s) for s in corpus if s]
    if not sentences:
        raise ValueError("cannot train word vectors on an empty corpus")
    bar = tqdm(total=epochs, desc="fastText", unit="epoch", disable=not progress)

    class _EpochBar(CallbackAny2Vec):
        def on_epoch_end(self, model):
            bar.update(1)

    model = FastText(
        vector_size=dim, window=5, min_count=1, sg=1, min_n=3, max_n=6, bucket=buckets,
        epochs=epochs, seed=seed, workers=1,
    )  # fmt: skip
    model.build_vocab(corpus_iterable=sentences)
    model.train(
        corpus_iterable=sentences,
        total_examples=len(sentences),
        epochs=epochs,
        callbacks=[_EpochBar()],
    )
    bar.close()
    return model.wv


def load_word_vectors(path: str | Path) -> KeyedVectors:
    """Load a fastText `.bin` (with subwords) or a `.vec` / `.txt` word2vec text file."""
    from gensim.models.fasttext import load_facebook_vectors
    from gensim.models.keyedvectors import KeyedVectors

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "word-vector file not found")
    try:
        if path.suffix == ".bin":
            return load_facebook_vectors(str(path))
        if path.suffix in (".vec", ".txt"):
            return KeyedVectors.load_word2vec_format(str(path), binary=False)
    except _PARSE_ERRORS as exc:
        problem = f"not a readable fastText file ({type(exc).__name__}: {exc})"
        raise DataError(path, problem) from None
    raise DataError(path, "unknown word-vector format (expected a fastText .bin or a .vec file)")


def vectors_for(words: Sequence[str], vectors: KeyedVectors, source: str = "vectors") -> np.ndarray:
    """(K, D) float32 vectors of `words` (lowercase pseudo-glosses) in order.

    Lookup: the word, then its capitalised form (German nouns in cased vectors); then subword
    n-grams when `vectors` has them (fastText); else the mean of the known words that spell it.

    Raises:
        DataError: naming `source`, when some word has neither a vector nor known parts.
    """
    import numpy as np

    has_subwords = getattr(vectors, "bucket", 0) > 0
    rows, missing = [], []
    for word in words:
        known = _known_form(word, vectors)
        if known is not None:
            rows.append(vectors[known])
        elif has_subwords:
            rows.append(vectors[word])  # built from character n-grams
        else:
            parts = _known_parts(word, vectors)
            if parts:
                rows.append(np.mean([vectors[p] for p in parts], axis=0))
            else:
                missing.append(word)
    if missing:
        examples = ", ".join(missing[:10])
        raise DataError(
            source,
            f"{len(missing)} pseudo-glosses have no vector and no known parts ({examples}); "
            "use a fastText .bin file (it has subword vectors) or leave out --vectors",
        )
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, vectors.vector_size))


def _known_form(word: str, vectors: KeyedVectors) -> str | None:
    for form in (word, word[:1].upper() + word[1:]):
        if form in vectors.key_to_index:
            return form
    return None


def _known_parts(word: str, vectors: KeyedVectors) -> list[str]:
    """Greedy longest-match split of `word` into vocabulary words (letters with no match are
    skipped). Parts are at least 2 characters, except single CJK characters."""
    parts, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end]
            form = _known_form(piece, vectors)
            if form is not None and (len(piece) >= 2 or _is_cjk(piece)):
                parts.append(form)
                start = end
                break
        else:
            start += 1
    return parts


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def build_prototypes(
    words: Sequence[str],
    corpus: Sequence[Sequence[str]] | None = None,
    vectors_path: str | Path | None = None,
    dim: int = DEFAULT_DIM,
    epochs: int = 10,
    seed: int = 0,
    progress: bool = True,
) -> tuple[torch.Tensor, str]:
    """Prototype matrix (K, D) for the pseudo-glosses `words` and a description of its source.

    Args:
        words: the vocabulary, in order.
        corpus: tokenised training sentences, used when `vectors_path` is None.
        vectors_path: a fastText `.bin` / `.vec` file to read vectors from.
        dim, epochs, seed: fastText training settings (ignored with `vectors_path`).
        progress: show tqdm bars.
    """
    import torch

    if vectors_path is not None:
        vectors = load_word_vectors(vectors_path)
        source = f"{Path(vectors_path).name} ({vectors.vector_size}-d)"
        matrix = vectors_for(words, vectors, str(vectors_path))
    else:
        if not corpus:
            raise ValueError("training prototypes needs a corpus of tokenised sentences")
        vectors = train_word_vectors(corpus, dim=dim, epochs=epochs, seed=seed, progress=progress)
        source = f"fastText trained on the training text ({dim}-d, {epochs} epochs, seed {seed})"
        matrix = vectors_for(words, vectors, "trained fastText vectors")
    return torch.from_numpy(matrix), source


def save_prototypes(
    directory: str | Path, words: Sequence[str], prototypes: torch.Tensor, source: str = ""
) -> Path:
    """Write `<directory>/prototypes.safetensors`: tensor "prototypes" (K, D), words in metadata."""
    from safetensors.torch import save_file

    if prototypes.shape[0] != len(words):
        raise ValueError(f"{prototypes.shape[0]} prototypes for {len(words)} words")
    path = Path(directory) / PROTOTYPES_FILE
    metadata = {"words": json.dumps(list(words), ensure_ascii=False), "source": source}
    with atomic_path(path) as tmp:
        save_file({"prototypes": prototypes.float().contiguous()}, str(tmp), metadata=metadata)
    return path


def load_prototypes(directory: str | Path, words: Sequence[str] | None = None) -> torch.Tensor:
    """(K, D) prototypes from `<directory>/prototypes.safetensors`.

    Args:
        directory: the folder `sign2gpt glosses` wrote.
        words: the vocabulary the rows must follow; defaults to the `vocab.json` in `directory`
            when there is one. A different word list is an error (rows would be misassigned).
    """
    from safetensors import SafetensorError, safe_open

    from sign2gpt.text.pseudo_glosses import VOCAB_FILE, PseudoGlossVocab

    path = Path(directory) / PROTOTYPES_FILE
    if not path.is_file():
        raise DataError(path, "file not found (run `sign2gpt glosses` first)")
    try:
        with safe_open(str(path), framework="pt") as handle:
            stored_words = json.loads((handle.metadata() or {}).get("words", "null"))
            prototypes = handle.get_tensor("prototypes")
    except (SafetensorError, OSError, json.JSONDecodeError) as exc:
        raise DataError(path, f"not a prototypes file ({exc})") from None
    if words is None and (Path(directory) / VOCAB_FILE).is_file():
        words = PseudoGlossVocab.load(directory).words
    if words is not None and stored_words != list(words):
        raise DataError(path, "its word list does not match the pseudo-gloss vocabulary")
    return prototypes
