"""Generate the SynthSign corpus: a signing avatar in the Phoenix14T layout.

`--size small` uses the project's own weather-report grammar (800/100/100 sentences, works from
the repository alone); `--size full` signs the real Phoenix14T sentences (7,096/519/642) read
from --text-dir. Both also write `test_unseen_signer`: the test sentences signed by Signer09,
who never appears elsewhere. The same seed gives byte-identical output.

Examples:
  sign2gpt synth --size small --out data/synthsign-small
  sign2gpt synth --size full --out data/synthsign --text-dir ../shared/data/phoenix14t-text
  sign2gpt synth --size small --out data/synthsign-small-pose --keypoints
  sign2gpt synth --contact-sheet docs/images/contact-sheet.png
"""

from __future__ import annotations

import argparse
import time

from sign2gpt.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", choices=("small", "full"), default="small",
                        help="text source and size (default: small)")
    parser.add_argument("--out", help="output folder of the corpus")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--text-dir", help="Phoenix14T text for --size full: phoenix14t.<split>."
                        "de/.gloss or PHOENIX-2014-T.<split>.corpus.csv (default: "
                        "../shared/data/phoenix14t-text next to the repository)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: one per available core; the output "
                        "does not depend on it)")
    parser.add_argument("--limit", type=int, default=0,
                        help="at most this many sentences per split (default: all)")
    parser.add_argument("--image-size", type=int, default=64, help="frame side (default: 64)")
    parser.add_argument("--noise", type=int, default=3,
                        help="pixel noise amplitude in grey levels (default: 3)")
    parser.add_argument("--drop-prob", type=float, default=0.02,
                        help="probability of a dropped frame (default: 0.02)")
    parser.add_argument("--keypoints", action="store_true",
                        help="also write each video's keypoints as a pose estimator would give "
                        "them (features/keypoints-holistic/<split>/<name>.npz)")
    parser.add_argument("--missed-hand", type=float, default=None,
                        help="with --keypoints: fraction of frames in which each hand is "
                        "missed (default: 0.05)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing SynthSign corpus at --out")
    parser.add_argument("--contact-sheet", metavar="PNG",
                        help="only write a contact sheet of a few signs and signers to PNG")


def run(args: argparse.Namespace) -> int:
    if args.contact_sheet:
        from sign2gpt.synth.contact_sheet import write_contact_sheet

        write_contact_sheet(args.contact_sheet, size=args.image_size, noise=args.noise,
                            seed=args.seed)
        print(f"wrote {args.contact_sheet}")
        return 0
    if not args.out:
        raise ConfigError("--out is required (or --contact-sheet PNG)")
    from sign2gpt.synth.estimator import KeypointNoise
    from sign2gpt.synth.generate import SynthConfig, generate_corpus

    if args.missed_hand is not None and not args.keypoints:
        raise ConfigError("--missed-hand needs --keypoints")
    try:
        noise = KeypointNoise() if args.missed_hand is None else KeypointNoise(
            missed_hand=args.missed_hand)
    except ValueError as exc:
        raise ConfigError(f"--missed-hand: {exc}") from None
    cfg = SynthConfig(size=args.size, seed=args.seed, image_size=args.image_size,
                      noise=args.noise, drop_prob=args.drop_prob, limit=args.limit,
                      keypoints=args.keypoints, keypoint_noise=noise)
    started = time.perf_counter()
    meta = generate_corpus(cfg, args.out, text_dir=args.text_dir, workers=args.workers,
                           force=args.force)
    elapsed = time.perf_counter() - started
    for split, s in meta["splits"].items():
        print(f"{split:>20}: {s['videos']:5d} videos, {s['frames']:7d} frames "
              f"({s['frames_per_video']['mean']:.1f} per video)")
    vocab = meta["vocabulary"]
    print(f"vocabulary: {vocab['glosses']} glosses, {vocab['words']} words; "
          f"wrote {args.out} in {elapsed:.1f} s")
    return 0
