"""Run a trained model over a dataset: translations, pseudo-gloss maps, timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from sign2gpt.data import EvaluationBatches, VideoBatch, VideoDataset
from sign2gpt.generation import GenerationSettings
from sign2gpt.inference.decoding import SentenceDecoder
from sign2gpt.inference.trained import (
    BadVideo,
    CommandLineVideos,
    TrainedModel,
    collate_inputs,
    transforms,
)
from sign2gpt.localization import GlossSpan, gloss_spans

# The sign encoder halves the frame rate once (average pool, stride 2).
ENCODER_DOWNSAMPLING = 2


@dataclass
class Translation:
    id: str
    text: str
    reference: str
    seconds: float  # wall time of its batch, shared equally by the batch's videos
    beams: list[tuple[str, float]] | None = None  # with return_beams: (sentence, score)


def seconds_per_step(trained: TrainedModel, fps: float) -> float:
    """Duration of one sign-feature step: frame stride x encoder downsampling / fps."""
    return trained.cfg.data.frame_stride * ENCODER_DOWNSAMPLING / fps


def translate_dataset(
    trained: TrainedModel,
    dataset: VideoDataset,
    settings: GenerationSettings | None = None,
    *,
    batch_size: int | None = None,
    return_beams: bool = False,
) -> Iterator[Translation]:
    """Translate every video of `dataset` (stage-2 model), batch by batch.

    `settings`: beam search (default: `GenerationSettings()`, 4 beams, 64 tokens).
    `return_beams`: also every finished beam with its score (`Translation.beams`, best first;
    the text is the best beam's).
    """
    settings = settings or GenerationSettings()
    module = _decoder(trained)
    with trained.model.decoder.fixed_weights():  # prepared once for the whole dataset
        for batch in EvaluationBatches(dataset, batch_size):
            yield from _translate_batch(module, batch, settings, return_beams)


def translate_inputs(
    trained: TrainedModel,
    inputs: CommandLineVideos,
    settings: GenerationSettings | None = None,
    *,
    return_beams: bool = False,
) -> Iterator[Translation | BadVideo]:
    """Translate command-line videos; one that fails to decode comes back as a `BadVideo`."""
    settings = settings or GenerationSettings()
    module = _decoder(trained)
    with trained.model.decoder.fixed_weights():
        for item in EvaluationBatches(inputs, collate=collate_inputs):
            yield from item.bad
            if item.batch is not None:
                yield from _translate_batch(module, item.batch, settings, return_beams)


def _decoder(trained: TrainedModel) -> SentenceDecoder:
    return SentenceDecoder(trained.model, transforms(trained.cfg), trained.tokenizer).eval()


def _translate_batch(
    module: SentenceDecoder, batch: VideoBatch, settings: GenerationSettings, return_beams: bool
) -> Iterator[Translation]:
    started = time.perf_counter()
    if return_beams:
        beams = module.translate_beams(batch, settings)
        texts = [found[0][0] for found in beams]
    else:
        texts = module.translate(batch, settings)
        beams = [None] * len(texts)
    share = (time.perf_counter() - started) / len(batch)
    for video_id, text, reference, found in zip(
        batch.ids, texts, batch.texts, beams, strict=True
    ):
        yield Translation(video_id, text, reference, share, found)


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
    return _as_dicts(dataset_gloss_spans(stage1, dataset, fps, threshold))


def dataset_gloss_spans(
    stage1: TrainedModel, dataset: VideoDataset, fps: float, threshold: float
) -> dict[str, list[GlossSpan]]:
    """Video id -> the `GlossSpan`s of every pseudo-gloss above `threshold`, in time order."""
    spans: dict[str, list[GlossSpan]] = {}
    for batch in EvaluationBatches(dataset):
        spans |= _batch_spans(stage1, batch, lambda _: fps, threshold)
    return spans


def localize_inputs(
    stage1: TrainedModel, inputs: CommandLineVideos, threshold: float
) -> dict[str, list[dict]]:
    """`localize_dataset` for command-line videos: seconds at each video's own frame rate;
    videos that fail to decode are left out (`translate_inputs` reports them)."""
    spans: dict[str, list[GlossSpan]] = {}
    for item in EvaluationBatches(inputs, collate=collate_inputs):
        if item.batch is not None:
            spans |= _batch_spans(stage1, item.batch, inputs.fps.__getitem__, threshold)
    return _as_dicts(spans)


def _batch_spans(
    stage1: TrainedModel, batch: VideoBatch, fps_of: Callable[[str], float], threshold: float
) -> dict[str, list[GlossSpan]]:
    spans = {}
    for video_id, probs in zip(batch.ids, class_probabilities(stage1, batch), strict=True):
        step = seconds_per_step(stage1, fps_of(video_id))
        spans[video_id] = gloss_spans(probs, stage1.vocab.words, step, threshold)
    return spans


def _as_dicts(found: dict[str, list[GlossSpan]]) -> dict[str, list[dict]]:
    return {video_id: [s.as_dict() for s in spans] for video_id, spans in found.items()}
