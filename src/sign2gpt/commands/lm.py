"""Train a small stand-in LM for stage 2 on your training sentences (CPU, minutes).

  sign2gpt lm train --text train.txt --out lm/

--text is a text file (one sentence per line) or a manifest (.csv / .jsonl with a `text`
column; with a `split` column only the `--split` rows). Trains a BPE tokenizer and an
XGLM-architecture decoder (the `--preset` sizes, or the `model.decoder` section of `-c CONFIG`)
on those sentences only, and writes a Hugging Face XGLM folder (config.json,
model.safetensors, tokenizer) to --out. Point `model.decoder.pretrained` at it; the config's
`decoder.vocab_size` is then read from it. A stand-in knows only your sentences: for real
translation use a pretrained XGLM folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.errors import ConfigError, DataError

PRESETS = ("synth", "tiny")  # sizes that train on a CPU; see sign2gpt/models/config.py


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="lm_command", metavar="ACTION", required=True)
    train = sub.add_parser("train", help="train tokenizer + stand-in LM on training sentences")
    train.add_argument("--text", required=True, type=Path, help="training sentences")
    train.add_argument("--out", required=True, type=Path,
                       help="output folder (new, empty, or an earlier LM folder)")
    train.add_argument("--split", default="train", help="manifest split (default: train)")
    train.add_argument("-c", "--config", type=Path,
                       help="run config whose model.decoder sizes the LM takes")
    train.add_argument("--preset", default="synth", choices=PRESETS,
                       help="decoder sizes without -c (default synth: 4 layers, d=256)")
    train.add_argument("--vocab-size", type=int, default=2000,
                       help="tokenizer vocabulary upper bound (default 2000)")
    train.add_argument("--epochs", type=int, default=30, help="passes over the text (default 30)")
    train.add_argument("--batch-size", type=int, default=32, help="sentences per step")
    train.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate")
    train.add_argument("--seed", type=int, default=0, help="seed (default 0)")


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from sign2gpt.synthbench.language_model import LMTraining, train_language_model
    from sign2gpt.text.sentences import read_sentences

    _check_options(args)
    decoder = _decoder_sizes(args)
    texts = [s for s in read_sentences(args.text, args.split).sentences if s.strip()]
    if not texts:
        raise DataError(args.text, "no sentences")
    decoder = dataclasses.replace(decoder, vocab_size=args.vocab_size, pretrained=None)
    settings = LMTraining(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed
    )
    started = time.perf_counter()
    lm = train_language_model(texts, decoder, args.out, settings)
    print(
        f"stand-in LM: {len(texts)} sentences, vocabulary {lm.vocab_size}, {lm.num_layers} "
        f"layers, d={lm.d_model}, {time.perf_counter() - started:.0f} s -> {args.out}"
    )
    print(f"use it with: model.decoder.pretrained={args.out.resolve()}")
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """Every option before any work (a bad --out must not cost a trained LM)."""
    for name in ("vocab_size", "epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
    if args.vocab_size < 8:
        raise ConfigError("--vocab-size must be at least 8 (special tokens and bytes)")
    if not args.lr > 0:
        raise ConfigError("--lr must be > 0")
    if not args.text.is_file():
        raise DataError(args.text, "text file does not exist")
    out = args.out
    if out.exists() and not out.is_dir():
        raise DataError(out, "--out is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        raise DataError(out, "--out is a folder with other files in it (give a new one)")
    parent = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not parent.is_dir() or not _writable(parent):
        raise DataError(parent, "cannot write here (--out)")


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK | os.X_OK)


def _decoder_sizes(args: argparse.Namespace):
    from sign2gpt.models.config import PRESETS as MODEL_PRESETS

    if args.config is None:
        return MODEL_PRESETS[args.preset]().decoder
    from sign2gpt.run_config import load_run_config

    return load_run_config(args.config).model.decoder
