"""Fingerspelling from real human motion: the pose pipeline on words it has never seen.

Words are built from the real MediaPipe Holistic recordings of German (gsg) and American (ase)
fingerspelled letters that the `spoken-to-signed` package ships
(`sign2gpt.synthbench.fingerspelling`: letters trimmed, each at its own speed, joined by
interpolated transitions). The words of each language are split into train / dev / test word
lists, so every test word is new: it can only be read letter by letter. Then
  1. Sign2GPT from keypoints: `model.spatial.kind: pose` + sign encoder + decoder with its
     adapters on a frozen stand-in LM trained on the training words' spellings (one token
     per letter), trained on the training words (`--train-draws` renderings of each);
  2. the nearest-neighbour baseline: the training word whose clip is nearest by dynamic time
     warping over the normalised arm and hand joints.
Both on the test words: character error rate, letter BLEU-1 / BLEU-4 (sacrebleu over the
letters as tokens), whole-word accuracy, per language and overall. Writes
bench/results/fingerspelling.{json,md}.

    python bench/fingerspelling.py                                  # a few minutes on 2 cores
    python bench/fingerspelling.py --limit 6 --epochs-scale 0.05    # smoke run

The recordings are read from the installed package (pip install spoken-to-signed==0.4.0);
the word clips go to the work folder (default runs/bench-fingerspelling/), not to the repo.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from common import git_commit, machine_info, markdown_table, save_results
from sign2gpt.config import load_yaml
from sign2gpt.data.keypoints.layout import PARTS
from sign2gpt.data.keypoints.transform import normalise_clips
from sign2gpt.inference.evaluation import evaluate_checkpoint
from sign2gpt.metrics import corpus_bleu
from sign2gpt.run_config import run_config_from_dict
from sign2gpt.synth.grammar import generate_sentences
from sign2gpt.synthbench.benchmark import StageMeter
from sign2gpt.synthbench.fingerspelling import (
    FPS,
    LANGUAGES,
    WordStyle,
    build_word,
    load_letters,
    spellable,
    spelled,
)
from sign2gpt.synthbench.language_model import LMTraining, train_language_model
from sign2gpt.train.run import start_run, train_stage
from sign2gpt.train_config import scaled_epochs

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "fingerspelling" / "translate.yaml"
SPLITS = ("train", "dev", "test")
WORD_LENGTH = (3, 8)  # letters per word: long enough to need spelling, short enough to train
LM_EPOCHS = 30
# English words for the American letters (common, weather and everyday; no proper names).
_ENGLISH_TEXT = """
able about above after again air also always animal apple april arm autumn baby back bad
ball bank bear bed before begin bird black blue boat body book born box boy bread bring
brother brown build busy buy cake call car care cat chair change child city class clean
clear clock close cloud coat cold come cook cool corn cow cry cup dark day dear desk dog
door down draw dream dress drink drive dry duck early earth east easy eat egg end evening
eye face fall family farm fast father field find fire fish floor flower fly fog food foot
forest free friend frost front fruit full game garden girl give glass gold good grass great
green ground grow hair half hand happy hard hat head hear heat help hill hold home horse
hot house hungry ice idea jump keep key kind king kitchen know lake large late laugh learn
leaf left light like line lion listen little long look love low lunch make many milk mind
moon morning mother mountain mouth move music name near never new nice night north nose
number ocean open orange paper park party people pink place plant play pretty quick quiet
rain read red rest rich right river road rock room round run sad salt sand school sea
season seed shirt shoe short show sing sister sit sky sleep slow small smile snow soft song
soon south speak spring star start stone storm story street strong summer sun sweet table
talk tall tea tell thank think today tomorrow tree truck under warm wash watch water week
west wet white wind window winter word work world write year yellow young zero
"""
ENGLISH = _ENGLISH_TEXT.split()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="work folder (default runs/bench-fingerspelling)")
    parser.add_argument("--languages", nargs="+", choices=sorted(LANGUAGES), default=["gsg", "ase"])
    parser.add_argument("--train-draws", type=int, default=4,
                        help="renderings of each training word (speeds and transitions differ)")
    parser.add_argument("--epochs-scale", type=float, default=1.0,
                        help="multiply the epoch counts (LM, training) by this (>= 1 each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0,
                        help="at most this many words per language and split (0 = all; smoke)")
    return parser.parse_args()  # fmt: skip


def german_words() -> list[str]:
    """The German words of the project's weather-report grammar (the SynthSign `small` text)."""
    return sorted({w for s in generate_sentences(2000, 0) for w in s.text.split()})


def word_lists(letters: dict[str, np.ndarray], words: list[str], seed: int, limit: int
               ) -> dict[str, list[str]]:  # fmt: skip
    """Spellable words of `WORD_LENGTH` split 70 / 15 / 15 into train / dev / test, by word."""
    usable = sorted({w for w in words if WORD_LENGTH[0] <= len(w) <= WORD_LENGTH[1]
                     and spellable(w, letters)})  # fmt: skip
    order = np.random.default_rng(seed).permutation(len(usable))
    shuffled = [usable[i] for i in order]
    n_dev = n_test = max(1, round(0.15 * len(shuffled)))
    splits = {"dev": shuffled[:n_dev], "test": shuffled[n_dev:n_dev + n_test],
              "train": shuffled[n_dev + n_test:]}  # fmt: skip
    return {k: sorted(v[:limit] if limit else v) for k, v in splits.items()}


def write_corpus(folder: Path, languages: list[str], draws: int, seed: int, limit: int
                 ) -> list[dict[str, str]]:  # fmt: skip
    """Word clips as `.npz` (our 126-joint layout) and `manifest.csv`; returns its rows."""
    rows = []
    style = WordStyle()
    for code, language in enumerate(languages):
        letters = load_letters(language)
        source = german_words() if LANGUAGES[language] == "de" else ENGLISH
        for split, words in word_lists(letters, source, seed, limit).items():
            for w_index, word in enumerate(words):
                for draw in range(draws if split == "train" else 1):
                    rng = np.random.default_rng([seed, code, SPLITS.index(split), w_index, draw])
                    joints, _ = build_word(word, letters, rng, style)
                    clip_id = f"{language}-{split}-{word}-{draw}"
                    path = folder / "clips" / f"{clip_id}.npz"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    np.savez(path, keypoints=joints[..., :2], confidence=joints[..., 2],
                             layout=np.array("sign2gpt"), fps=np.float32(FPS))  # fmt: skip
                    rows.append({"id": clip_id, "video": f"clips/{clip_id}.npz",
                                 "text": spelled(word), "split": split, "signer": language})
    with (folder / "manifest.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "video", "text", "split", "signer"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def scores(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    """CER (%), letter BLEU-1 / BLEU-4 and word accuracy (%) of spelled outputs."""
    hyp_words = ["".join(h.split()) for h in hypotheses]
    ref_words = ["".join(r.split()) for r in references]
    errors = sum(edit_distance(h, r) for h, r in zip(hyp_words, ref_words, strict=True))
    bleu, _ = corpus_bleu([spelled(w) for w in hyp_words], [spelled(w) for w in ref_words])
    return {
        "cer": round(100 * errors / max(1, sum(map(len, ref_words))), 2),
        "bleu1": round(bleu["bleu1"], 2), "bleu4": round(bleu["bleu4"], 2),
        "word_accuracy": round(100 * float(np.mean([h == r for h, r in zip(
            hyp_words, ref_words, strict=True)])) if ref_words else 0.0, 2),
        "words": len(ref_words),
    }  # fmt: skip


def dtw_features(path: Path, stride: int) -> torch.Tensor:
    """(T, F): normalised x, y of the arms (body joints 11-22) and both hands, every
    `stride`-th frame; missing joints are zero, as the model sees them."""
    with np.load(path) as data:
        joints = np.concatenate([data["keypoints"], data["confidence"][..., None]], -1)
    clip = torch.from_numpy(joints[::stride])[None]
    out = normalise_clips(clip, torch.ones(clip.shape[:2], dtype=torch.bool))[0]
    hands = slice(PARTS["left_hand"].start, PARTS["right_hand"].stop)
    return torch.cat([out[:, 11:23, :2], out[:, hands, :2]], 1).flatten(1)


def dtw_nearest(query: torch.Tensor, refs: list[torch.Tensor]) -> int:
    """Index of the reference nearest to `query` by dynamic time warping (mean Euclidean cost
    along the path, normalised by both lengths)."""
    lengths = torch.tensor([len(r) for r in refs])
    padded = torch.nn.utils.rnn.pad_sequence(refs, batch_first=True)  # (N, Tr, F)
    cost = torch.cdist(query[None].expand(len(refs), -1, -1), padded)  # (N, Tq, Tr)
    n, tq, tr = cost.shape
    inf = torch.full((n,), float("inf"))
    previous = torch.cat([torch.zeros(n, 1), inf[:, None].expand(n, tr)], 1)  # row 0
    for i in range(tq):
        row = [inf]
        for j in range(tr):
            best = torch.minimum(torch.minimum(previous[:, j], previous[:, j + 1]), row[j])
            row.append(cost[:, i, j] + best)
        previous = torch.stack(row, 1)
    total = previous[torch.arange(n), lengths] / (tq + lengths)
    return int(total.argmin())


def nearest_neighbour(corpus: Path, rows: list[dict[str, str]], stride: int
                      ) -> dict[str, str]:  # fmt: skip
    """Test clip id -> the spelling of its DTW-nearest training clip."""
    train = [r for r in rows if r["split"] == "train"]
    refs = [dtw_features(corpus / r["video"], stride) for r in train]
    return {r["id"]: train[dtw_nearest(dtw_features(corpus / r["video"], stride), refs)]["text"]
            for r in rows if r["split"] == "test"}  # fmt: skip


def per_language(outputs: dict[str, str], rows: list[dict[str, str]]) -> dict[str, dict]:
    """Scores of test outputs (clip id -> text), overall and per signed language."""
    test = [r for r in rows if r["split"] == "test"]
    result = {}
    for name in ("all", *sorted({r["signer"] for r in test})):
        chosen = [r for r in test if name in ("all", r["signer"])]
        result[name] = scores([outputs[r["id"]] for r in chosen], [r["text"] for r in chosen])
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = (args.out or REPO / "runs" / "bench-fingerspelling").resolve()
    corpus, lm_dir = out / "corpus", out / "lm"
    meter = StageMeter("cpu")
    with meter("build words from the letter recordings"):
        rows = write_corpus(corpus, args.languages, args.train_draws, args.seed, args.limit)
    yaml = load_yaml(CONFIG)
    overrides = {"data": {**yaml["data"], "root": str(corpus)}, "out_dir": str(out / "runs")}
    cfg = run_config_from_dict({**yaml, **overrides}, str(CONFIG))
    epochs = scaled_epochs(cfg.train.epochs, args.epochs_scale)
    train_texts = sorted({r["text"] for r in rows if r["split"] == "train"})
    with meter("stand-in LM + tokenizer (training spellings)"):
        lm = train_language_model(train_texts, cfg.model.decoder, lm_dir,
                                  LMTraining(epochs=scaled_epochs(LM_EPOCHS, args.epochs_scale),
                                             seed=args.seed))  # fmt: skip
    model = {**yaml["model"], "decoder": {**yaml["model"]["decoder"], "pretrained": str(lm_dir),
                                          "vocab_size": lm.vocab_size}}  # fmt: skip
    train = {**yaml["train"], "epochs": epochs, "seed": args.seed}
    cfg = run_config_from_dict({**yaml, **overrides, "model": model, "train": train}, str(CONFIG))
    with meter("Sign2GPT from keypoints (stage 2)"):
        training_run = start_run(cfg)
        train_stage(cfg, training_run)
    with meter("evaluate (beam 4)"):
        full = evaluate_checkpoint(training_run.checkpoint("best"), "test", device="cpu")
        files = full["files"]
        ids = Path(files["ids"]).read_text(encoding="utf-8").splitlines()
        hyps = Path(files["hypotheses"]).read_text(encoding="utf-8").splitlines()
        model_scores = per_language(dict(zip(ids, hyps, strict=True)), rows)
    with meter("nearest-neighbour baseline (DTW)"):
        nn_scores = per_language(nearest_neighbour(corpus, rows, cfg.data.frame_stride), rows)
    counts = {s: {lang: len({r["text"] for r in rows if r["split"] == s and r["signer"] == lang})
                  for lang in args.languages} for s in SPLITS}  # fmt: skip
    return {
        "sign2gpt_pose": model_scores, "nearest_neighbour_dtw": nn_scores,
        "words": counts, "clips": {s: sum(r["split"] == s for r in rows) for s in SPLITS},
        "examples": [{"reference": r["text"], "sign2gpt": dict(zip(ids, hyps, strict=True))[
            r["id"]]} for r in [r for r in rows if r["split"] == "test"][:8]],
        "stages": meter.stages, "total_seconds": round(sum(meter.seconds.values()), 1),
        "settings": {"languages": args.languages, "train_draws": args.train_draws,
                     "epochs": epochs, "lm_epochs": scaled_epochs(LM_EPOCHS, args.epochs_scale),
                     "seed": args.seed, "limit": args.limit, "word_length": WORD_LENGTH,
                     "style": WordStyle().__dict__, "config": str(CONFIG.relative_to(REPO))},
        "run": str(training_run.root), "machine": machine_info("cpu"),
        "date": time.strftime("%Y-%m-%d"), "commit": git_commit(),
    }  # fmt: skip


def tables(results: dict[str, Any]) -> str:
    rows = [{"model": label, "test words": lang, **results[key][lang]}
            for key, label in (("sign2gpt_pose", "Sign2GPT, pose front end"),
                               ("nearest_neighbour_dtw", "nearest training word (DTW)"))
            for lang in results[key]]  # fmt: skip
    words = [{"split": s, **v, "clips": results["clips"][s]} for s, v in results["words"].items()]
    stages = [{"stage": k, **v} for k, v in results["stages"].items()]
    return "\n\n".join((
        f"{results['date']}; total {results['total_seconds'] / 60:.1f} min; every test word is "
        "absent from training (CER and BLEU over letters).",
        markdown_table(rows, ["model", "test words", "cer", "bleu1", "bleu4", "word_accuracy",
                              "words"]),
        "Distinct words per split and signed language:",
        markdown_table(words, list(words[0])),
        markdown_table(results["examples"], ["reference", "sign2gpt"]),
        markdown_table(stages, ["stage", "seconds", "cpu_seconds", "peak_rss_mib"]),
    ))  # fmt: skip


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)  # the benchmark machine is shared; 1 thread avoids spinning
    results = run(args)
    save_results("fingerspelling", results, tables(results),
                 title="Fingerspelling: real letter recordings, unseen words")


if __name__ == "__main__":
    main()
