"""Translate sign language videos with a stage-2 checkpoint: one line per video, in input order.

Each input is a video file (MP4, WebM, AVI, ...), a folder of frames (PNG/JPG) or a folder of
such videos / frame folders; for a `model.spatial.kind: pose` run, a keypoint file (.pose,
.npz), an OpenPose JSON folder or a folder of those. A video's id is its path as given (a
folder's videos: the folder path / the file name). A bad video is reported in one line and
skipped; the others are translated. Exit status 0 when every video was translated, 1 when any
failed or nothing was translated, 2 for a bad option, device or checkpoint
(docs/inference.md has the details). `--json` prints one JSON object per video with the
timing and, when the run has a stage-1 model (its `init`, or an exported model's stage-1
head), when each pseudo-gloss was signed (in seconds at the video's own frame rate; `--fps`
overrides it, frame folders are 25 fps).

Example:
  sign2gpt translate --checkpoint runs/.../checkpoints/best.safetensors clip.mp4 more-clips/
  sign2gpt translate --model my-model clip.mp4     (a folder from `sign2gpt export`)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sign2gpt.commands.options import (
    add_device,
    add_fps,
    add_generation,
    add_model_arguments,
    add_threshold,
    model_path,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, "stage-2")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="VIDEO_OR_FOLDER")
    parser.add_argument("--json", action="store_true", help="one JSON object per video")
    add_generation(parser)
    add_fps(parser)
    add_threshold(parser)
    add_device(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from sign2gpt.commands.options import device_of, generation_settings
    from sign2gpt.errors import CheckpointError
    from sign2gpt.inference.predict import localize_inputs, translate_inputs
    from sign2gpt.inference.trained import (
        BadVideo,
        expand_inputs,
        load_trained,
        stage1_of,
        video_dataset,
    )

    settings = generation_settings(args)
    device = device_of(args)
    trained = load_trained(model_path(args), device)
    if trained.cfg.stage != "translate":
        raise CheckpointError(model_path(args), "is a stage-1 checkpoint; translate needs stage 2")
    videos, problems = expand_inputs(args.inputs)
    dataset, errors = video_dataset(trained.cfg, videos, args.fps)
    problems += errors
    for problem in problems:  # inputs unreadable before decoding: reported first
        print(f"sign2gpt translate: error: {problem}", file=sys.stderr, flush=True)
    spans = {}
    if args.json and (trained.cfg.init or trained.stage1) and len(dataset):
        spans = localize_inputs(stage1_of(trained, device), dataset, args.threshold)
    printer = InOrder([r.id for r in dataset.records], args.json, spans)
    if len(dataset):
        for result in translate_inputs(trained, dataset, settings):
            bad = isinstance(result, BadVideo)
            printer.add(result.id, str(result.error()) if bad else result)
    printer.finish()
    failed = len(problems) + printer.failed
    if failed or not printer.done:
        print(f"{printer.done} translated, {failed} failed", file=sys.stderr)
    return 1 if failed or not printer.done else 0


class InOrder:
    """Prints results in input order as soon as every earlier input is finished (batches come
    in length order): translations to stdout, failures as one stderr line each."""

    def __init__(self, ids: list[str], as_json: bool, spans: dict[str, list[dict]]):
        self.pending = list(reversed(ids))
        self.results: dict[str, object] = {}
        self.as_json = as_json
        self.spans = spans
        self.done = self.failed = 0

    def add(self, video_id: str, result) -> None:
        """`result`: a `Translation`, or the failure message (str)."""
        self.results[video_id] = result
        while self.pending and self.pending[-1] in self.results:
            self._print(self.pending[-1], self.results.pop(self.pending.pop()))

    def finish(self) -> None:
        """Report inputs that never came back (none should: each is a result or a failure)."""
        while self.pending:
            video_id = self.pending.pop()
            self._print(video_id, self.results.pop(video_id, f"{video_id}: was not translated"))

    def _print(self, video_id: str, result) -> None:
        import json
        import sys

        if isinstance(result, str):
            self.failed += 1
            print(f"sign2gpt translate: error: {result}", file=sys.stderr, flush=True)
            return
        self.done += 1
        if not self.as_json:
            print(f"{video_id}\t{result.text}", flush=True)
            return
        record = {"video": video_id, "text": result.text, "seconds": result.seconds}
        if video_id in self.spans:
            record["pseudo_glosses"] = self.spans[video_id]
        print(json.dumps(record, ensure_ascii=False), flush=True)
