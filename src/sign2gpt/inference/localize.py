"""Localize one video: when each pseudo-gloss was signed, as spans and a figure."""

from __future__ import annotations

from pathlib import Path

from sign2gpt.inference.predict import class_probabilities, seconds_per_step
from sign2gpt.inference.trained import BadVideo, TrainedModel, collate_inputs, video_dataset
from sign2gpt.localization import gloss_spans, plot_localization


def localize_video(
    stage1: TrainedModel, video: Path, out: Path, fps: float | None, threshold: float
) -> tuple[list[dict], list[str]]:
    """Spans above `threshold` and the pseudo-glosses drawn in the figure at `out`.

    `fps` None: the video's own frame rate (frame folders: 25)."""
    dataset, errors = video_dataset(stage1.cfg, [video], fps)
    if errors:
        raise errors[0]
    sample = dataset[0]
    if isinstance(sample, BadVideo):
        raise sample.error()
    batch = collate_inputs([sample]).batch
    probs = class_probabilities(stage1, batch)[0]
    step = seconds_per_step(stage1, dataset.fps[sample.id])
    words = stage1.vocab.words
    spans = [s.as_dict() for s in gloss_spans(probs, words, step, threshold)]
    title = f"{video.name}: pseudo-gloss class probability (outline > {threshold})"
    shown = plot_localization(probs, words, step, out, threshold=threshold, title=title)
    return spans, shown
