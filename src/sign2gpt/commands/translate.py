"""Translate sign language videos with a stage-2 checkpoint: one line per video.

Each input is a video file (MP4, WebM, AVI, ...), a folder of frames (PNG/JPG) or a folder of
such videos / frame folders; for a `model.spatial.kind: pose` run, a keypoint file (.pose,
.npz), an OpenPose JSON folder or a folder of those. A bad video is reported and skipped;
the others are translated, and the exit status is 1 when any failed. `--json` prints one
JSON object per video with the timing and, when the run has a stage-1 model (its `init`),
when each pseudo-gloss was signed.

Example:
  sign2gpt translate --checkpoint runs/.../checkpoints/best.safetensors clip.mp4 more-clips/
  sign2gpt translate --model my-model clip.mp4     (a folder from `sign2gpt export`)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.model_option import add_model_arguments, model_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, "stage-2")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="VIDEO_OR_FOLDER")
    parser.add_argument("--json", action="store_true", help="one JSON object per video")
    parser.add_argument("--beams", type=int, default=4, help="beam size (default: 4)")
    parser.add_argument(
        "--max-new-tokens", type=int, default=64, help="longest output (default: 64)"
    )
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate (default: 25)")
    parser.add_argument(
        "--threshold", type=float, default=0.2, help="pseudo-gloss threshold (default: 0.2)"
    )
    parser.add_argument("--device", default="auto", help="cpu, cuda, ... (default: auto)")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from sign2gpt.errors import CheckpointError
    from sign2gpt.inference.evaluation import pick_device
    from sign2gpt.inference.predict import localize_dataset, translate_dataset
    from sign2gpt.inference.trained import expand_inputs, load_trained, stage1_of, video_dataset

    device = pick_device(args.device)
    trained = load_trained(model_path(args), device)
    if trained.cfg.stage != "translate":
        raise CheckpointError(model_path(args), "is a stage-1 checkpoint; translate needs stage 2")
    dataset, errors = video_dataset(trained.cfg, expand_inputs(args.inputs))
    spans = {}
    if args.json and (trained.cfg.init or trained.stage1) and len(dataset):
        spans = localize_dataset(stage1_of(trained, device), dataset, args.fps, args.threshold)
    done = set()
    if len(dataset):
        for result in translate_dataset(
            trained, dataset, num_beams=args.beams, max_new_tokens=args.max_new_tokens
        ):
            done.add(result.id)
            if args.json:
                record = {"video": result.id, "text": result.text, "seconds": result.seconds}
                if result.id in spans:
                    record["pseudo_glosses"] = spans[result.id]
                print(json.dumps(record, ensure_ascii=False), flush=True)
            else:
                print(f"{result.id}\t{result.text}", flush=True)
    failed = [str(e) for e in errors]
    failed += [f"{r.source}: could not be decoded" for r in dataset.records if r.id not in done]
    for message in failed:
        print(f"sign2gpt translate: error: {message}", file=sys.stderr)
    if failed:
        print(f"{len(done)} translated, {len(failed)} failed", file=sys.stderr)
    return 1 if failed else 0
