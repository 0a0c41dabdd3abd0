"""When was each pseudo-gloss signed: the stage-1 class-softmax map over time, thresholded.

The paper shows the class softmax of the prototype head over time with a 0.2 threshold; a
pseudo-gloss is "being signed" wherever its class probability exceeds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from sign2gpt.generation import PAPER_THRESHOLD
from sign2gpt.io import atomic_path

__all__ = ["FIGURE_SUFFIXES", "PAPER_THRESHOLD", "GlossSpan", "gloss_spans", "plot_localization"]

# Figure formats `plot_localization` writes (matplotlib picks the format by extension).
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


@dataclass
class GlossSpan:
    """One stretch of time where a pseudo-gloss's class probability exceeds the threshold."""

    gloss: str
    start: float  # seconds
    end: float  # seconds
    peak: float  # highest class probability inside the span

    def as_dict(self) -> dict[str, float | str]:
        return {
            "gloss": self.gloss,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "peak": round(self.peak, 4),
        }


def gloss_spans(
    class_probs: torch.Tensor,
    words: list[str],
    seconds_per_step: float,
    threshold: float = PAPER_THRESHOLD,
) -> list[GlossSpan]:
    """Spans above `threshold` for every pseudo-gloss, in time order.

    Args:
        class_probs: (T', K + 1) class softmax of one video (last column: "no sign").
        words: the K pseudo-glosses.
        seconds_per_step: duration of one step of T' (frame stride x pooling / fps).
        threshold: decision threshold on the class probability.
    """
    probs = class_probs[:, : len(words)].float().cpu()
    above = probs > threshold  # (T', K)
    spans = []
    for k in above.any(0).nonzero().flatten().tolist():
        column = above[:, k].tolist()
        t = 0
        while t < len(column):
            if not column[t]:
                t += 1
                continue
            start = t
            while t < len(column) and column[t]:
                t += 1
            peak = probs[start:t, k].max().item()
            spans.append(GlossSpan(words[k], start * seconds_per_step, t * seconds_per_step, peak))
    return sorted(spans, key=lambda s: (s.start, s.gloss))


def plot_localization(
    class_probs: torch.Tensor,
    words: list[str],
    seconds_per_step: float,
    out: str | Path,
    *,
    threshold: float = PAPER_THRESHOLD,
    title: str = "",
    max_glosses: int = 25,
) -> list[str]:
    """Draw the class-softmax map of the pseudo-glosses that pass the threshold; returns them.

    Rows are pseudo-glosses (ordered by when they peak), columns are time in seconds; cells
    above the threshold are outlined.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    probs = class_probs[:, : len(words)].float().cpu()  # (T', K)
    peaks, when = probs.max(0)
    shown = [k for k in peaks.argsort(descending=True).tolist() if peaks[k] > threshold]
    if not shown:  # nothing passes: show the strongest few so the figure is still informative
        shown = peaks.argsort(descending=True)[:5].tolist()
    shown = sorted(shown[:max_glosses], key=lambda k: when[k].item())
    grid = probs[:, shown].t().numpy()  # (G, T')
    steps = probs.shape[0]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.25 * steps + 2), 0.35 * len(shown) + 1.6))
    image = ax.imshow(
        grid,
        aspect="auto",
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        extent=(0, steps * seconds_per_step, len(shown) - 0.5, -0.5),
        interpolation="nearest",
    )
    for row, k in enumerate(shown):  # outline every stretch above the threshold
        for span in gloss_spans(probs[:, k : k + 1], [words[k]], seconds_per_step, threshold):
            ax.add_patch(
                Rectangle(
                    (span.start, row - 0.5), span.end - span.start, 1.0,
                    fill=False, edgecolor="white", linewidth=1.2,
                )
            )  # fmt: skip
    ax.set_yticks(range(len(shown)), [words[k] for k in shown])
    ax.set_xlabel("time (s)")
    ax.set_title(title or f"pseudo-gloss class probability (outline: > {threshold})")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label="class probability")
    fig.tight_layout()
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=out.suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
    return [words[k] for k in shown]
