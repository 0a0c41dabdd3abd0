"""Prototypes: fastText .bin / .vec lookup (subwords, cased forms, parts), trained vectors."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from sign2gpt.cli import main
from sign2gpt.errors import DataError
from sign2gpt.text import PseudoGlossVocab, build_prototypes, load_prototypes, save_prototypes
from sign2gpt.text.prototypes import DEFAULT_DIM

CORPUS = [
    s.split()
    for s in [
        "morgen regnet es im norden",
        "im süden bleibt es freundlich",
        "der wind weht schwach",
        "regen und schnee im norden",
        "regen schnee wind norden",
    ]
] * 4
WORDS = ["regen", "schnee", "wind", "norden"]


def test_vec_file_exact_capitalised_and_composed_words(tmp_path):
    path = tmp_path / "tiny.vec"
    path.write_text(
        "5 3\nregen 1 0 0\nSchnee 0 1 0\nsturm 0 0 1\nböe 1 1 0\nwind 0 0 2\n", encoding="utf-8"
    )
    words = ["regen", "schnee", "sturmböe", "wind"]
    prototypes, source = build_prototypes(words, vectors_path=path)
    expected = [[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0.5], [0, 0, 2]]  # sturmböe = mean(sturm, böe)
    torch.testing.assert_close(prototypes, torch.tensor(expected, dtype=torch.float32))
    assert source == "tiny.vec (3-d)"
    with pytest.raises(DataError, match=r"tiny\.vec: 1 pseudo-glosses have no vector.*xyz"):
        build_prototypes(["regen", "xyz"], vectors_path=path)


def test_bin_file_gives_subword_vectors_to_unknown_words(tmp_path):
    from gensim.models import FastText
    from gensim.models.fasttext import load_facebook_vectors, save_facebook_model

    model = FastText(vector_size=8, min_count=1, epochs=2, bucket=1000, seed=0, workers=1)
    model.build_vocab(corpus_iterable=CORPUS)
    model.train(corpus_iterable=CORPUS, total_examples=len(CORPUS), epochs=2)
    path = tmp_path / "tiny.bin"
    save_facebook_model(model, str(path))

    words = ["regen", "regenwind", "nordwind"]  # the last two are not in the .bin vocabulary
    prototypes, _ = build_prototypes(words, vectors_path=path)
    again, _ = build_prototypes(words, vectors_path=path)
    kv = load_facebook_vectors(str(path))
    assert "regenwind" not in kv.key_to_index
    assert prototypes.shape == (3, 8)
    torch.testing.assert_close(prototypes, torch.from_numpy(np.stack([kv[w] for w in words])))
    torch.testing.assert_close(prototypes, again)  # n-gram vectors, not random noise
    assert prototypes[1].norm() > 0


def test_unreadable_vector_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        build_prototypes(WORDS, vectors_path=tmp_path / "none.bin")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(DataError, match=r"bad\.bin: not a readable fastText file"):
        build_prototypes(WORDS, vectors_path=bad)
    other = tmp_path / "vectors.npy"
    other.write_bytes(b"x")
    with pytest.raises(DataError, match="unknown word-vector format"):
        build_prototypes(WORDS, vectors_path=other)


def test_trained_vectors_are_deterministic():
    first, source = build_prototypes(WORDS, CORPUS, dim=16, epochs=2, seed=0, progress=False)
    second, _ = build_prototypes(WORDS, CORPUS, dim=16, epochs=2, seed=0, progress=False)
    other_seed, _ = build_prototypes(WORDS, CORPUS, dim=16, epochs=2, seed=1, progress=False)
    assert first.shape == (4, 16) and first.dtype == torch.float32
    assert torch.equal(first, second)
    assert not torch.equal(first, other_seed)
    assert "16-d" in source and DEFAULT_DIM == 300


def test_trained_vectors_do_not_depend_on_python_hash_seed():
    code = (
        "import hashlib, sys; sys.path[:0] = [sys.argv[1]]; import test_prototypes as t; "
        "from sign2gpt.text import build_prototypes; "
        "p, _ = build_prototypes(t.WORDS, t.CORPUS, dim=16, epochs=2, seed=0, progress=False); "
        "print(hashlib.sha1(p.numpy().tobytes()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # this process has another (random) one
    out = subprocess.run(
        [sys.executable, "-c", code, os.path.dirname(__file__)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    here, _ = build_prototypes(WORDS, CORPUS, dim=16, epochs=2, seed=0, progress=False)
    assert out.stdout.strip() == hashlib.sha1(here.numpy().tobytes()).hexdigest()


def test_save_load_checks_the_word_list(tmp_path):
    prototypes = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    save_prototypes(tmp_path, WORDS, prototypes, source="test")
    torch.testing.assert_close(load_prototypes(tmp_path), prototypes)
    torch.testing.assert_close(load_prototypes(tmp_path, WORDS), prototypes)
    with pytest.raises(DataError, match="does not match"):
        load_prototypes(tmp_path, ["regen", "schnee", "norden", "wind"])
    with pytest.raises(ValueError, match="3 prototypes for 4 words"):
        save_prototypes(tmp_path, WORDS, prototypes[:3])
    with pytest.raises(DataError, match="file not found"):
        load_prototypes(tmp_path / "missing")


def test_glosses_command_writes_prototypes_in_vocabulary_order(tmp_path, capsys):
    train = tmp_path / "train.de"
    train.write_text("\n".join(" ".join(s) for s in CORPUS[:5]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["glosses", "--lang", "de", "--input", str(train), "--out", str(out),
                 "--dim", "8", "--epochs", "1"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    vocab = PseudoGlossVocab.load(out)
    prototypes = load_prototypes(out)  # checked against vocab.json
    assert prototypes.shape == (len(vocab), 8)
    assert f"prototypes: {len(vocab)}x8 from fastText" in printed
    assert "pseudo-glosses: " in printed and "backend: hanta" in printed
