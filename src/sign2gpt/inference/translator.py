"""`Translator`: the Python API. Load a trained model once, translate and localize videos.

Example (`model_dir` is a folder written by `sign2gpt export`, `clip` a video file or frame
folder; `frames` uint8 (T, H, W, 3)):

>>> from sign2gpt import Translator
>>> translator = Translator.from_pretrained(model_dir, device="cpu")
>>> result = translator.translate(clip)
>>> isinstance(result.text, str), result.seconds >= 0
(True, True)
>>> [r.text for r in translator.translate([clip, frames])] == [result.text] * 2
True
>>> spans = result.glosses  # when each pseudo-gloss was signed (stage-1 head)
>>> all(s.start <= s.end for s in spans)
True
>>> beams = translator.translate(clip, num_beams=2, return_beams=True).beams
>>> beams[0][1] >= beams[-1][1]  # (sentence, score), best first
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from sign2gpt.data import collate_samples
from sign2gpt.devices import resolve_device
from sign2gpt.errors import CheckpointError
from sign2gpt.generation import GenerationSettings
from sign2gpt.inference.exported import DTYPES
from sign2gpt.inference.inputs import InputVideos, VideoInput
from sign2gpt.inference.predict import (
    class_probabilities,
    dataset_gloss_spans,
    seconds_per_step,
    translate_dataset,
)
from sign2gpt.inference.trained import TrainedModel, load_trained
from sign2gpt.localization import PAPER_THRESHOLD, GlossSpan, gloss_spans, plot_localization
from sign2gpt.models.performance import cast_frozen_weights


@dataclass
class TranslationResult:
    """One video's translation.

    Attributes:
        text: the sentence.
        seconds: wall time of its batch, shared equally by the batch's videos.
        glosses: when each pseudo-gloss was signed (start/end in seconds, peak probability),
            or None when the model carries no stage-1 head.
        beams: with `return_beams=True`, every finished beam, best first, as (sentence,
            length-normalised sum of log-probabilities); else None.
    """

    text: str
    seconds: float
    glosses: list[GlossSpan] | None = None
    beams: list[tuple[str, float]] | None = None


@dataclass
class Localization:
    """The stage-1 head's class-probability map of one video over time.

    Attributes:
        probabilities: (T', K + 1) class softmax per step (last column: no sign).
        words: the K pseudo-glosses.
        seconds_per_step: duration of one step of T'.
        spans: where a pseudo-gloss's probability exceeds `threshold`.
        threshold: the decision threshold used for `spans` and the figure's outlines.
    """

    probabilities: torch.Tensor
    words: list[str]
    seconds_per_step: float
    spans: list[GlossSpan]
    threshold: float

    def plot(self, path: str | Path, title: str = "") -> list[str]:
        """Draw the map (PNG, PDF, SVG by suffix); returns the pseudo-glosses shown."""
        return plot_localization(
            self.probabilities, self.words, self.seconds_per_step, path,
            threshold=self.threshold, title=title,
        )  # fmt: skip


class Translator:
    """A trained Sign2GPT model, ready to translate (see the module docstring's example).

    Args:
        model: the stage-2 model (`load_trained`).
        stage1: its stage-1 model (pseudo-gloss head), or None.
        dtype: None/float32, or bfloat16/float16: matmul weights stored in that dtype and
            inference run under autocast.
    """

    def __init__(
        self,
        model: TrainedModel,
        stage1: TrainedModel | None = None,
        dtype: torch.dtype | None = None,
    ):
        if model.cfg.stage != "translate":
            raise CheckpointError(model.path, "is a stage-1 model; Translator needs stage 2")
        self.model = model
        self.stage1 = stage1
        self.dtype = dtype if dtype not in (None, torch.float32) else None
        if self.dtype is not None:
            for part in (model, stage1):
                if part is not None:
                    part.model.requires_grad_(False)  # inference: every weight is frozen
                    cast_frozen_weights(part.model, self.dtype)

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str = "auto", dtype: str | torch.dtype | None = None
    ) -> Translator:
        """Load an exported model folder or a stage-2 checkpoint file.

        Args:
            path: a folder written by `sign2gpt export`, or a `.safetensors` stage-2 checkpoint
                (its run folders and pretrained paths must then still exist).
            device: "auto" (the first GPU, else the CPU), "cpu", "cuda", "cuda:1", ...
            dtype: None or "fp32" (default), "bf16", "fp16" (or the torch dtype).
        """
        if isinstance(dtype, str):
            if dtype not in DTYPES:
                raise ValueError(f"dtype: {dtype!r} is not one of {', '.join(DTYPES)}")
            dtype = DTYPES[dtype]
        device = resolve_device(str(device), where="device")  # a torch.device too
        model = load_trained(path, device)
        stage1 = model.stage1
        if stage1 is None and model.cfg.stage == "translate" and model.cfg.init:
            from sign2gpt.inference.trained import stage1_of

            stage1 = stage1_of(model, device)
        return cls(model, stage1, dtype)

    def translate(
        self,
        x: VideoInput | Sequence[VideoInput],
        num_beams: int = 4,
        max_new_tokens: int = 64,
        *,
        fps: float = 25.0,
        threshold: float = PAPER_THRESHOLD,
        batch_size: int | None = None,
        return_beams: bool = False,
    ) -> TranslationResult | list[TranslationResult]:
        """Translate one video, or a list of them (batched; one result per input, in order).

        Args:
            x: a video file or frame folder (str or Path), uint8 frames (T, H, W, 3), or a
                list of these.
            num_beams: beam size (1: greedy).
            max_new_tokens: longest output in tokens.
            fps: frame rate of the inputs, for the pseudo-gloss times.
            threshold: pseudo-gloss class-probability threshold.
            batch_size: videos per batch (default: the model's data config).
            return_beams: also return every finished beam with its score (`.beams`).
        """
        many = isinstance(x, (list, tuple))
        inputs = list(x) if many else [x]
        dataset = InputVideos(self.model.cfg.data, inputs)
        with self._autocast():
            settings = GenerationSettings(num_beams, max_new_tokens)
            found = list(translate_dataset(
                self.model, dataset, settings, batch_size=batch_size, return_beams=return_beams,
            ))  # fmt: skip
            spans = {}
            if self.stage1 is not None:
                spans = dataset_gloss_spans(self.stage1, dataset, fps, threshold)
        by_id = {t.id: t for t in found}  # batches are length-sorted: back to input order
        ordered = [by_id[str(i)] for i in range(len(inputs))]
        results = [
            TranslationResult(t.text, t.seconds, spans.get(t.id), t.beams) for t in ordered
        ]
        return results if many else results[0]

    def localize(
        self, x: VideoInput, *, fps: float = 25.0, threshold: float = PAPER_THRESHOLD
    ) -> Localization:
        """The class-probability map of one video over time (`.plot(path)` draws it)."""
        stage1 = self._stage1()
        dataset = InputVideos(stage1.cfg.data, [x])
        with self._autocast():
            probs = class_probabilities(stage1, collate_samples([dataset[0]]))[0].float().cpu()
        step = seconds_per_step(stage1, fps)
        spans = gloss_spans(probs, stage1.vocab.words, step, threshold)
        return Localization(probs, stage1.vocab.words, step, spans, threshold)

    def _stage1(self) -> TrainedModel:
        if self.stage1 is None:
            raise CheckpointError(self.model.path, "carries no stage-1 (pseudo-gloss) head")
        return self.stage1

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.model.device.type, dtype=self.dtype)

