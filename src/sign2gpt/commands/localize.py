"""Show when each pseudo-gloss was signed in a video: the stage-1 class-softmax map over time.

Draws the prototype head's class probabilities (pseudo-glosses on one axis, time in seconds
on the other) with the paper's 0.2 threshold outlined, and prints the spans above it. A
stage-2 checkpoint uses the stage-1 run it was initialised from; an exported model folder
(`--model DIR`) carries its stage-1 head. Seconds use the video file's own frame rate (`--fps`
overrides it; frame folders are 25 fps). The figure's format follows the extension of `--out`
(.png, .pdf or .svg), checked before any work.

Example:
  sign2gpt localize --checkpoint runs/.../checkpoints/best.safetensors clip.mp4 --out clip.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.options import (
    add_device,
    add_fps,
    add_model_arguments,
    add_threshold,
    model_path,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, "stage-1 or 2")
    parser.add_argument(
        "video", type=Path, help="video file or frame folder (pose runs: a keypoint file)"
    )
    parser.add_argument("--out", type=Path, required=True, help="figure file (.png, .pdf, .svg)")
    add_fps(parser)
    add_threshold(parser)
    add_device(parser)
    parser.add_argument("--json", action="store_true", help="print the spans as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from sign2gpt.commands.options import device_of
    from sign2gpt.inference.localize import localize_video
    from sign2gpt.inference.trained import input_id, load_trained, stage1_of
    from sign2gpt.localization import FIGURE_SUFFIXES
    from sign2gpt.output_paths import check_output_file

    check_output_file(args.out, FIGURE_SUFFIXES, "figure")
    device = device_of(args)
    stage1 = stage1_of(load_trained(model_path(args), device), device)
    spans, shown = localize_video(stage1, args.video, args.out, args.fps, args.threshold)
    if args.json:
        record = {"video": input_id(args.video), "pseudo_glosses": spans}
        print(json.dumps(record, ensure_ascii=False))
    else:
        for span in spans:
            print(
                f"{span['start']:7.2f}s - {span['end']:6.2f}s  {span['gloss']} ({span['peak']:.2f})"
            )
        print(f"wrote {args.out} ({len(shown)} pseudo-glosses shown)")
    return 0
