"""Does a stage-2 model read the video? Its teacher-forced scores with each video's own sign
features against the same sentences with another video's features.

A decoder that ignores its cross-attention (gates shut, or opened onto features that say
nothing) scores the same either way; the gap is what the video adds to the LM's prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from sign2gpt.data import EvaluationBatches, build_dataset
from sign2gpt.inference.trained import TrainedModel
from sign2gpt.train.teacher_forcing import IGNORE
from sign2gpt.train.translate_stage import TranslateModule


@dataclass
class VideoReliance:
    """Teacher-forced scores over a split's target tokens.

    Attributes:
        token_accuracy: share of tokens predicted right with the video's own features.
        token_accuracy_other_video: the same with another video's features.
        log_likelihood: mean log-probability of a target token with its own video.
        log_likelihood_other_video: the same with another video's features.
        tokens: target tokens scored.
    """

    token_accuracy: float
    token_accuracy_other_video: float
    log_likelihood: float
    log_likelihood_other_video: float
    tokens: int


@torch.no_grad()
def video_reliance(trained: TrainedModel, split: str) -> VideoReliance:
    """Score `split` with own vs. swapped sign features (`TranslateModule.with_other_video`).

    Args:
        trained: a stage-2 model from `load_trained`.
        split: the split to score (e.g. "dev").
    """
    module = TranslateModule(trained.model, (trained.transform,) * 2, trained.tokenizer).eval()
    dataset = build_dataset(trained.cfg.data, split, augment=False, progress=False)
    sums = [0.0] * 4  # own / other: right tokens, log-likelihood (host floats on any device)
    tokens = 0
    for batch in EvaluationBatches(dataset):
        own_logits, other_logits, labels = module.with_other_video(batch)
        real = labels != IGNORE
        for column, logits in enumerate((own_logits.float(), other_logits.float())):
            picked = F.log_softmax(logits, -1).gather(-1, labels.clamp(min=0)[..., None])[..., 0]
            sums[column] += ((logits.argmax(-1) == labels) & real).sum().item()
            sums[2 + column] += picked[real].sum().item()
        tokens += int(real.sum())
    scores = [total / max(tokens, 1) for total in sums]
    return VideoReliance(*scores, tokens=tokens)
