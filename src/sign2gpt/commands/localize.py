"""Show when each pseudo-gloss was signed in a video: the stage-1 class-softmax map over time.

Draws the prototype head's class probabilities (pseudo-glosses on one axis, time in seconds
on the other) with the paper's 0.2 threshold outlined, and prints the spans above it. A
stage-2 checkpoint uses the stage-1 run it was initialised from.

Example:
  sign2gpt localize --checkpoint runs/.../checkpoints/best.safetensors clip.mp4 --out clip.png
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="stage-1 or 2 checkpoint")
    parser.add_argument(
        "video", type=Path, help="video file or frame folder (pose runs: a keypoint file)"
    )
    parser.add_argument("--out", type=Path, required=True, help="figure file (.png, .pdf, .svg)")
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate (default: 25)")
    parser.add_argument(
        "--threshold", type=float, default=0.2, help="class-probability threshold (default: 0.2)"
    )
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (default: auto)")
    parser.add_argument("--json", action="store_true", help="print the spans as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from sign2gpt.train.evaluation import pick_device
    from sign2gpt.train.trained import load_trained, stage1_of

    device = pick_device(args.device)
    stage1 = stage1_of(load_trained(args.checkpoint, device), device)
    spans, shown = localize_video(stage1, args.video, args.out, args.fps, args.threshold)
    if args.json:
        print(json.dumps({"video": str(args.video), "pseudo_glosses": spans}, ensure_ascii=False))
    else:
        for span in spans:
            print(
                f"{span['start']:7.2f}s - {span['end']:6.2f}s  {span['gloss']} ({span['peak']:.2f})"
            )
        print(f"wrote {args.out} ({len(shown)} pseudo-glosses shown)")
    return 0


def localize_video(stage1, video: Path, out: Path, fps: float, threshold: float):
    """Spans above `threshold` and the pseudo-glosses drawn in the figure at `out`."""
    from sign2gpt.data import collate_samples
    from sign2gpt.localization import gloss_spans, plot_localization
    from sign2gpt.train.inference import class_probabilities, seconds_per_step
    from sign2gpt.train.trained import video_dataset

    dataset, errors = video_dataset(stage1.cfg, [video])
    if errors:
        raise errors[0]
    batch = collate_samples([dataset[0]])
    probs = class_probabilities(stage1, batch)[0]
    step = seconds_per_step(stage1, fps)
    words = stage1.vocab.words
    spans = [s.as_dict() for s in gloss_spans(probs, words, step, threshold)]
    title = f"{video.name}: pseudo-gloss class probability (outline > {threshold})"
    shown = plot_localization(probs, words, step, out, threshold=threshold, title=title)
    return spans, shown
