"""Build the pseudo-gloss vocabulary, per-sentence targets and prototypes (stage-1 targets).

Pseudo-glosses are the content words of the training translations: tokens tagged NOUN, NUM,
ADV, PRON, PROPN, ADJ or VERB, lowercased, lemmatised for German and word-segmented for
Chinese. Taggers: spaCy when a pipeline is installed (de_core_news_lg / zh_core_web_sm, the
paper's choice), else HanTa (German) or jieba (Chinese), which ship their models.

--input is a text file (one sentence per line) or a manifest (.csv / .jsonl with a `text` or
`translation` column; with a `split` column only the --split rows are used). Writes to --out:
  vocab.json               pseudo-glosses with their training sentence counts, backend
  targets.json             each input sentence with its pseudo-glosses, in order
  prototypes.safetensors   (K, 300) word vectors: from --vectors (fastText .bin or .vec) or
                           fastText trained on the input sentences (deterministic, --seed)
--eval files (dev/test) report how much of their pseudo-glosses the vocabulary covers.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sign2gpt.errors import ConfigError, DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", required=True, choices=("de", "zh"), help="text language")
    parser.add_argument("--input", required=True, type=Path, help="training sentences")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument(
        "--split", default="train", help="manifest split to build from (default: train)"
    )
    parser.add_argument(
        "--eval",
        nargs="+",
        default=[],
        type=Path,
        metavar="FILE",
        help="held-out sentence files (dev/test) to report coverage for; a manifest with a "
        "split column reports each split other than --split",
    )
    parser.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "spacy", "hanta", "jieba"),
        help="tagger (default auto: spaCy if a pipeline is installed, else HanTa / jieba)",
    )
    parser.add_argument(
        "--all-words",
        action="store_true",
        help="every word is a token, not only the content words (the paper's 'all words as "
        "tokens' ablation; the folder is then for text.gloss_tokens: all_words)",
    )
    parser.add_argument(
        "--vectors", type=Path, help="fastText .bin or .vec file for the prototypes"
    )
    parser.add_argument(
        "--no-prototypes", action="store_true", help="skip the word-vector prototypes"
    )
    parser.add_argument("--dim", type=int, default=300, help="trained vector size (default 300)")
    parser.add_argument("--epochs", type=int, default=10, help="fastText epochs (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="fastText seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from sign2gpt.text.prototypes import build_prototypes, save_prototypes
    from sign2gpt.text.pseudo_glosses import build_pseudo_glosses, coverage
    from sign2gpt.text.sentences import read_sentence_files, read_sentences

    if args.dim < 1 or args.epochs < 1:
        raise ConfigError("--dim and --epochs must be positive")
    start = time.perf_counter()
    train = read_sentences(args.input, args.split)
    if not any(s.strip() for s in train.sentences):
        raise DataError(args.input, "no sentences")
    held_out = [f for path in args.eval for f in read_sentence_files(path) if f.split != args.split]
    result = build_pseudo_glosses(
        train.sentences, args.lang, args.backend, all_words=args.all_words
    )
    if not result.vocab.words:
        raise DataError(args.input, "no pseudo-glosses found (is --lang right?)")
    written = result.save(args.out, ids=train.ids)
    stats = result.stats()
    stats["coverage"] = {f.label: coverage(result.vocab, f.sentences) for f in held_out}
    if not args.no_prototypes:
        prototypes, source = build_prototypes(
            result.vocab.words, result.vector_corpus, args.vectors, args.dim, args.epochs, args.seed
        )
        written.append(save_prototypes(args.out, result.vocab.words, prototypes, source))
        stats["prototypes"] = {"shape": list(prototypes.shape), "source": source}
    stats["seconds"] = round(time.perf_counter() - start, 1)
    stats["written"] = [str(p) for p in written]
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
    else:
        _print_report(stats, train.label, "characters" if args.lang == "zh" else "words")
    return 0


def _print_report(stats: dict, source: str, units: str) -> None:
    print(f"sentences ({source}): {stats['sentences']:,}")
    print(f"backend: {stats['backend']} ({stats['tagger']})")
    print(f"vocabulary (distinct {units}): {stats['vocabulary']:,}")
    print(f"pseudo-glosses: {stats['pseudo_glosses']:,}")
    print(f"mean pseudo-glosses per sentence: {stats['mean_per_sentence']:.2f}")
    for label, cov in stats["coverage"].items():
        print(
            f"coverage of {label} pseudo-glosses by the vocabulary: "
            f"{100 * cov['tokens']:.2f}% of occurrences, {100 * cov['types']:.2f}% of distinct"
        )
    if "prototypes" in stats:
        shape = "x".join(map(str, stats["prototypes"]["shape"]))
        print(f"prototypes: {shape} from {stats['prototypes']['source']}")
    print(f"wrote: {', '.join(stats['written'])} ({stats['seconds']} s)")
