"""Extract body, hand and face keypoints from videos with MediaPipe Holistic.

  sign2gpt pose extract VIDEO_OR_FOLDER ... --out DIR [--format pose|npz]

Each input is a video file, a folder of frames (PNG/JPG) or a folder of such videos / frame
folders; each clip becomes DIR/<name>.pose (pose-format, what the sign language tooling
reads) or DIR/<name>.npz. These are the inputs of `model.spatial.kind: pose` (docs/pose.md).
A clip that fails is reported in one line and skipped; the exit status is then 1.
Needs the [pose] extra: pip install 'sign2gpt[pose]'.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pose_command", metavar="ACTION", required=True)
    extract = sub.add_parser("extract", help="MediaPipe Holistic keypoints of videos")
    extract.add_argument("inputs", type=Path, nargs="+", metavar="VIDEO_OR_FOLDER")
    extract.add_argument("--out", type=Path, required=True, help="folder for the keypoint files")
    extract.add_argument("--format", choices=("pose", "npz"), default="pose",
                         help="file format (default: %(default)s)")
    extract.add_argument("--fps", type=float, default=25.0,
                         help="frame rate of frame folders (videos give their own; default: 25)")
    extract.add_argument("--min-detection-confidence", type=float, default=0.5,
                         help="MediaPipe's detection threshold (default: %(default)s)")
    extract.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import sys

    from sign2gpt.errors import ConfigError
    from sign2gpt.pose.extract import clips_of, extract_clips
    from sign2gpt.pose.holistic import load_mediapipe

    if args.out.exists() and not args.out.is_dir():
        raise ConfigError(f"--out {args.out}: exists and is not a folder")
    if args.fps <= 0:
        raise ConfigError(f"--fps: expected a positive frame rate, got {args.fps}")
    if not 0.0 <= args.min_detection_confidence <= 1.0:
        raise ConfigError("--min-detection-confidence: expected a value in [0, 1]")
    clips, errors = clips_of(args.inputs)
    if not clips and not errors:
        raise ConfigError("no video or frame folder found in the inputs")
    load_mediapipe()  # fail in one line before any decoding when the extra is missing
    written, failed = extract_clips(
        clips, args.out, args.format, fps=args.fps,
        min_detection_confidence=args.min_detection_confidence, progress=not args.no_progress,
    )  # fmt: skip
    for message in [*errors, *failed]:
        print(f"sign2gpt pose extract: error: {message}", file=sys.stderr)
    bad = len(errors) + len(failed)
    print(f"wrote {len(written)} keypoint file(s) to {args.out}" + (f", {bad} failed" if bad
                                                                    else ""))  # fmt: skip
    return 1 if bad else 0
