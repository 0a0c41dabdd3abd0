"""Run a trained model over a dataset: translations, pseudo-gloss maps, timing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from sign2gpt.data import EvaluationBatches, VideoBatch, VideoDataset
from sign2gpt.inference.decoding import SentenceDecoder
from sign2gpt.inference.trained import TrainedModel, transforms
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
    *,
    num_beams: int = 4,
    max_new_tokens: int = 64,
    batch_size: int | None = None,
    return_beams: bool = False,
) -> Iterator[Translation]:
    """Translate every video of `dataset` (stage-2 model), batch by batch.

    `return_beams`: also every finished beam with its score (`Translation.beams`, best first;
    the text is the best beam's).
    """
    module = SentenceDecoder(trained.model, transforms(trained.cfg), trained.tokenizer).eval()
    with trained.model.decoder.fixed_weights():  # prepared once for the whole dataset
        for batch in EvaluationBatches(dataset, batch_size):
            started = time.perf_counter()
            if return_beams:
                beams = module.translate_beams(batch, num_beams, max_new_tokens)
                texts = [found[0][0] for found in beams]
            else:
                texts = module.translate(batch, num_beams, max_new_tokens)
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
    found = dataset_gloss_spans(stage1, dataset, fps, threshold)
    return {video_id: [s.as_dict() for s in spans] for video_id, spans in found.items()}


def dataset_gloss_spans(
    stage1: TrainedModel, dataset: VideoDataset, fps: float, threshold: float
) -> dict[str, list[GlossSpan]]:
    """Video id -> the `GlossSpan`s of every pseudo-gloss above `threshold`, in time order."""
    step = seconds_per_step(stage1, fps)
    spans = {}
    for batch in EvaluationBatches(dataset):
        for video_id, probs in zip(batch.ids, class_probabilities(stage1, batch), strict=True):
            spans[video_id] = gloss_spans(probs, stage1.vocab.words, step, threshold)
    return spans
