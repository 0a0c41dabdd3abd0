"""Load a trained checkpoint back into a ready model, for evaluation, translation, localization.

A checkpoint stores its run's merged config; frozen pretrained parts are re-read from the
paths in that config, everything else comes from the checkpoint.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from sign2gpt.checkpoint import load_checkpoint, load_model_tensors
from sign2gpt.data import VideoBatch, VideoDataset, VideoTransform, collate_samples
from sign2gpt.data.batch import Sample
from sign2gpt.data.frames import FRAME_EXTENSIONS, is_video_file
from sign2gpt.data.keypoints import is_keypoint_source
from sign2gpt.data.keypoints.transform import batch_transforms
from sign2gpt.data.records import VideoRecord
from sign2gpt.data.sources import count_frames, frame_rate
from sign2gpt.errors import CheckpointError, DataError
from sign2gpt.models.sign2gpt import Sign2GPT, checkpoint_tensors
from sign2gpt.models.tokenizer import TextTokenizer, check_compatible
from sign2gpt.run_config import RunConfig, run_config_from_dict
from sign2gpt.text import PseudoGlossVocab

log = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """A model rebuilt from a checkpoint, in eval mode on `device`."""

    path: Path
    cfg: RunConfig
    model: Sign2GPT
    device: torch.device
    tokenizer: TextTokenizer | None = None  # stage 2
    vocab: PseudoGlossVocab | None = None  # stage 1
    stage1: TrainedModel | None = None  # an exported stage 2's stage-1 model

    @property
    def transform(self) -> VideoTransform:
        return batch_transforms(self.cfg.data, self.cfg.model.spatial.kind)[1]

    def encode(self, frames: torch.Tensor, mask: torch.Tensor):
        """uint8 frames (B, T, H, W, 3) + mask -> sign features (B, T', D) and their mask."""
        frames, mask = frames.to(self.device), mask.to(self.device)
        return self.model.encode(self.transform(frames, mask), mask)


def load_trained(path: str | Path, device: str | torch.device = "cpu") -> TrainedModel:
    """Rebuild the model of checkpoint `path` (stage 1 or stage 2) or of an exported folder."""
    path = Path(path)
    if path.is_dir():
        from sign2gpt.inference.exported import is_exported, load_exported

        if is_exported(path):
            return load_exported(path, device)
    ckpt = load_checkpoint(path)
    if "config" not in ckpt.meta:
        raise CheckpointError(path, "holds no run config (not written by sign2gpt training)")
    cfg = run_config_from_dict(ckpt.meta["config"], where=f"{path}:config")
    tokenizer = vocab = None
    if cfg.stage == "pretrain":
        folder = ckpt.meta.get("glosses")
        if not folder or not (Path(folder) / "vocab.json").is_file():
            raise CheckpointError(path, f"its pseudo-gloss folder {folder!r} is missing")
        vocab = PseudoGlossVocab.load(folder)
        model = Sign2GPT(cfg.model, num_glosses=len(vocab))
    else:
        tokenizer = load_tokenizer(cfg)
        model = Sign2GPT(cfg.model)
    model.load_pretrained()
    # Strict: only frozen parts re-read from their pretrained paths may be absent.
    load_model_tensors(model, ckpt.model, path, expected=checkpoint_tensors(model))
    device = torch.device(device)
    model.to(device).eval()
    return TrainedModel(path, cfg, model, device, tokenizer, vocab)


def stage1_of(trained: TrainedModel, device: str | torch.device = "cpu") -> TrainedModel:
    """The stage-1 model behind a checkpoint: itself, or the stage-1 run its stage 2 started
    from (through a Sign(Z)2GPT run when it went on end to end from one)."""
    if trained.cfg.stage == "pretrain":
        return trained
    if trained.stage1 is not None:
        return trained.stage1
    if not trained.cfg.init:
        raise CheckpointError(
            trained.path, "is a stage-2 run without a stage-1 init, so it has no pseudo-gloss head"
        )
    return stage1_of(load_trained(trained.cfg.init, device), device)


def input_id(path: Path) -> str:
    """A command-line video's id: its path as given (unique, unlike the stem: `a.webm` and
    `a.avi`, `x/v.mp4` and `y/v.mp4`), the same in every command's output."""
    return str(path)


@dataclass(frozen=True)
class BadVideo:
    """An input that failed to decode (in a loader worker): its id and the one-line reason.

    Plain strings, not the DataError: an exception with two arguments cannot be unpickled
    when it crosses from a worker process.
    """

    id: str
    path: str  # the file that failed (a frame of a folder, or the video)
    problem: str

    def error(self) -> DataError:
        return DataError(self.path, self.problem)


@dataclass
class InputBatch:
    """A loader batch of command-line videos: the decoded ones and those that failed."""

    batch: VideoBatch | None
    bad: list[BadVideo]


class CommandLineVideos(VideoDataset):
    """Videos given on the command line, each with its frame rate.

    A video that fails to decode becomes a `BadVideo` in its batch (see `collate_inputs`), so
    the command reports it in one line and goes on with the others.
    """

    def __init__(self, cfg: RunConfig, records: list[VideoRecord], counts: list[int],
                 fps: dict[str, float]):  # fmt: skip
        super().__init__(cfg.data, records, counts, augment=False)
        self.fps = fps

    def __getitem__(self, index: int) -> Sample | BadVideo:
        try:
            return super().__getitem__(index)
        except DataError as exc:
            return BadVideo(self.records[index].id, exc.path, exc.problem)


def collate_inputs(samples: list[Sample | BadVideo]) -> InputBatch:
    """Pad the decoded samples into a batch; keep the failed ones beside it."""
    bad = [s for s in samples if isinstance(s, BadVideo)]
    good = [s for s in samples if not isinstance(s, BadVideo)]
    return InputBatch(collate_samples(good) if good else None, bad)


def video_dataset(
    cfg: RunConfig, paths: list[Path], fps: float | None = None
) -> tuple[CommandLineVideos, list[DataError]]:
    """A dataset over video files / frame folders given on the command line.

    Bad videos are returned as errors (one per video), so a folder of 100 videos with one bad
    translates the other 99. `fps` overrides every video's own frame rate.
    """
    records, counts, rates, errors = [], [], {}, []
    for path in paths:
        record = VideoRecord(input_id(path), path, "", "", "", str(path))
        try:
            count = count_frames(record, min_frames=cfg.data.min_frames)
            rates[record.id] = fps or frame_rate(path)
        except DataError as exc:
            errors.append(exc)
            continue
        records.append(record)
        counts.append(count)
    return CommandLineVideos(cfg, records, counts, rates), errors


def expand_inputs(paths: list[Path]) -> tuple[list[Path], list[DataError]]:
    """Inputs -> (videos, problems): a file or frame folder is one video; other folders list
    their videos and frame folders. A video given twice (also via a folder) is kept once."""
    videos: list[Path] = []
    problems: list[DataError] = []
    for path in paths:
        if not path.is_dir() or is_keypoint_source(path):
            videos.append(path)  # a missing file is reported when its frames are counted
            continue
        entries = sorted(path.iterdir())
        if any(p.suffix.lower() in FRAME_EXTENSIONS for p in entries):
            if is_video_file(path):
                problems.append(DataError(path, "is a frame folder named like a video file"))
            else:
                videos.append(path)
            continue
        found = [p for p in entries if is_video_file(p) or is_keypoint_source(p) or p.is_dir()]
        if not found:
            problems.append(DataError(path, "folder holds no videos or frame images"))
        videos += found
    return _unique(videos), problems


def _unique(paths: list[Path]) -> list[Path]:
    """`paths` without repeats of the same file (first mention kept, order kept)."""
    seen: dict[Path, Path] = {}
    for path in paths:
        key = Path(os.path.abspath(path))  # not resolve(): two links to one file are two inputs
        if key in seen:
            spelled = "" if seen[key] == path else f" (as {seen[key]})"
            log.warning("%s: given more than once%s; translated once", path, spelled)
        else:
            seen[key] = path
    return list(seen.values())


def load_tokenizer(cfg: RunConfig) -> TextTokenizer:
    """The decoder's tokenizer: `text.tokenizer`, else the decoder's pretrained folder."""
    folder = cfg.text.tokenizer or cfg.model.decoder.pretrained
    if folder is None:
        raise CheckpointError("text.tokenizer", "no tokenizer folder is configured")
    tokenizer = TextTokenizer.load(folder)
    check_compatible(tokenizer, cfg.model.decoder, where="model.decoder")
    return tokenizer


def transforms(cfg: RunConfig) -> tuple[VideoTransform, VideoTransform]:
    """(training, evaluation) batch transforms (of joints for `model.spatial.kind: pose`)."""
    return batch_transforms(cfg.data, cfg.model.spatial.kind)
