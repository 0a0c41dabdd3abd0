"""Load a trained checkpoint back into a ready model, for evaluation, translation, localization.

A checkpoint stores its run's merged config; frozen pretrained parts are re-read from the
paths in that config, everything else comes from the checkpoint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from sign2gpt.checkpoint import load_checkpoint, load_model_tensors
from sign2gpt.data import VideoDataset, VideoTransform
from sign2gpt.data.frames import FRAME_EXTENSIONS, is_video_file
from sign2gpt.data.keypoints import is_keypoint_source
from sign2gpt.data.keypoints.transform import batch_transforms
from sign2gpt.data.records import VideoRecord
from sign2gpt.data.sources import count_frames
from sign2gpt.errors import CheckpointError, DataError
from sign2gpt.models.sign2gpt import Sign2GPT
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
    load_model_tensors(model, ckpt.model, path)
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


def video_dataset(cfg: RunConfig, paths: list[Path]) -> tuple[VideoDataset, list[DataError]]:
    """A dataset over video files / frame folders given on the command line.

    Bad videos are returned as errors (one per video), so a folder of 100 videos with one bad
    translates the other 99.
    """
    records, counts, errors = [], [], []
    for path in paths:
        record = VideoRecord(
            path.stem if path.is_file() else path.name, path, "", "", "", str(path)
        )
        try:
            count = count_frames(record, min_frames=cfg.data.min_frames)
        except DataError as exc:
            errors.append(exc)
            continue
        records.append(record)
        counts.append(count)
    return VideoDataset(cfg.data, records, counts, augment=False, skip_bad=True), errors


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Inputs -> videos: a file or frame folder is one video; other folders list their videos."""
    videos = []
    for path in paths:
        if path.is_dir() and not is_keypoint_source(path) and not any(
            p.suffix.lower() in FRAME_EXTENSIONS for p in path.iterdir()
        ):
            videos += sorted(
                p for p in path.iterdir() if is_video_file(p) or is_keypoint_source(p) or p.is_dir()
            )
        else:
            videos.append(path)
    return videos


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
