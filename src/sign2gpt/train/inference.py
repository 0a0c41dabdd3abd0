"""Run a trained model over a dataset: translations, pseudo-gloss maps, timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from sign2gpt.data import VideoBatch, VideoDataset
from sign2gpt.generation import GenerationSettings
from sign2gpt.localization import gloss_spans
from sign2gpt.train.builders import transforms
from sign2gpt.train.loaders import EvaluationBatches
from sign2gpt.train.trained import BadVideo, CommandLineVideos, TrainedModel, collate_inputs
from sign2gpt.train.translate_stage import TranslateModule

# The sign encoder halves the frame rate once (average pool, stride 2).
ENCODER_DOWNSAMPLING = 2


@dataclass
class Translation:
    id: str
    text: str
    reference: str
    seconds: float  # wall time of its batch, shared equally by the batch's videos


def seconds_per_step(trained: TrainedModel, fps: float) -> float:
    """Duration of one sign-feature step: frame stride x encoder downsampling / fps."""
    return trained.cfg.data.frame_stride * ENCODER_DOWNSAMPLING / fps


def translate_dataset(
    trained: TrainedModel,
    dataset: VideoDataset,
    settings: GenerationSettings,
    *,
    batch_size: int | None = None,
) -> Iterator[Translation]:
    """Translate every video of `dataset` (stage-2 model), batch by batch."""
    module = _translator(trained)
    with trained.model.decoder.fixed_weights():  # prepared once for the whole dataset
        for batch in EvaluationBatches(dataset, batch_size):
            yield from _translate_batch(module, batch, settings)


def translate_inputs(
    trained: TrainedModel, inputs: CommandLineVideos, settings: GenerationSettings
) -> Iterator[Translation | BadVideo]:
    """Translate command-line videos; one that fails to decode comes back as a `BadVideo`."""
    module = _translator(trained)
    with trained.model.decoder.fixed_weights():
        for item in EvaluationBatches(inputs, collate=collate_inputs):
            yield from item.bad
            if item.batch is not None:
                yield from _translate_batch(module, item.batch, settings)


def _translator(trained: TrainedModel) -> TranslateModule:
    return TranslateModule(trained.model, transforms(trained.cfg), trained.tokenizer).eval()


def _translate_batch(
    module: TranslateModule, batch: VideoBatch, settings: GenerationSettings
) -> Iterator[Translation]:
    started = time.perf_counter()
    texts = module.translate(batch, settings)
    share = (time.perf_counter() - started) / len(batch)
    for video_id, text, reference in zip(batch.ids, texts, batch.texts, strict=True):
        yield Translation(video_id, text, reference, share)


@torch.no_grad()
def class_probabilities(stage1: TrainedModel, batch: VideoBatch) -> list[torch.Tensor]:
    """Per video: the prototype head's class softmax (T'_i, K + 1) over its real steps."""
    features, mask = stage1.encode(batch.frames, batch.mask)
    out = stage1.model.prototype_head(features, mask)
    return [probs[m] for probs, m in zip(out.class_probs, mask, strict=True)]


def localize_dataset(
    stage1: TrainedModel, dataset: VideoDataset, fps: float, threshold: float
) -> dict[str, list[dict]]:
    """Video id -> spans [{gloss, start, end, peak}] where each pseudo-gloss is signed."""
    spans: dict[str, list[dict]] = {}
    for batch in EvaluationBatches(dataset):
        spans |= _batch_spans(stage1, batch, lambda _: fps, threshold)
    return spans


def localize_inputs(
    stage1: TrainedModel, inputs: CommandLineVideos, threshold: float
) -> dict[str, list[dict]]:
    """`localize_dataset` for command-line videos: seconds at each video's own frame rate;
    videos that fail to decode are left out (`translate_inputs` reports them)."""
    spans: dict[str, list[dict]] = {}
    for item in EvaluationBatches(inputs, collate=collate_inputs):
        if item.batch is not None:
            spans |= _batch_spans(stage1, item.batch, inputs.fps.__getitem__, threshold)
    return spans


def _batch_spans(
    stage1: TrainedModel, batch: VideoBatch, fps_of: Callable[[str], float], threshold: float
) -> dict[str, list[dict]]:
    spans = {}
    for video_id, probs in zip(batch.ids, class_probabilities(stage1, batch), strict=True):
        step = seconds_per_step(stage1, fps_of(video_id))
        found = gloss_spans(probs, stage1.vocab.words, step, threshold)
        spans[video_id] = [s.as_dict() for s in found]
    return spans
