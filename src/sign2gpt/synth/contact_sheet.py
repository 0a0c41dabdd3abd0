"""A contact sheet: a few frames of a few signs for several signers, in one PNG for people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from sign2gpt.io import atomic_path
from sign2gpt.synth import grammar
from sign2gpt.synth.motion import MotionParams, plan_video
from sign2gpt.synth.recipes import assign_recipes
from sign2gpt.synth.render import renderer_for
from sign2gpt.synth.signers import SIGNERS

DEFAULT_GLOSSES = ("REGEN", "WIND", "KALT", "HEUTE")
DEFAULT_SIGNERS = (0, 2, 5, 8)  # right-handed, left-handed, small, the unseen signer


def contact_sheet(glosses: tuple[str, ...] = DEFAULT_GLOSSES,
                  signers: tuple[int, ...] = DEFAULT_SIGNERS, frames_per_sign: int = 3,
                  size: int = 64, zoom: int = 2, noise: int = 3, seed: int = 0) -> Image.Image:
    """Render each gloss (in isolation, with rest pose around it) for each signer.

    Rows are signers; each gloss gets `frames_per_sign` columns spread over its duration.
    Recipes come from the `small` grammar's vocabulary, so the glosses must belong to it.

    Args:
        glosses: which signs; signers: indices into `SIGNERS`.
        frames_per_sign: frames shown per sign; size: frame side; zoom: pixel upscaling.
        noise: pixel noise as in the corpus; seed: random seed of the motion and noise.
    """
    recipes = assign_recipes(grammar.gloss_vocabulary())
    label_h, label_w, gap = 14, 64, 4
    tile = size * zoom
    width = label_w + len(glosses) * (frames_per_sign * tile + gap)
    sheet = Image.new("RGB", (width, label_h + len(signers) * (tile + gap)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for g, gloss in enumerate(glosses):
        x = label_w + g * (frames_per_sign * tile + gap)
        r = recipes[gloss].describe()
        label = f"{r['hand_shape']} {r['location']} {r['movement']} {r['hands']}h {r['face']}"
        draw.text((x + 2, 1), f"{gloss}: {label}", fill=(0, 0, 0))
    for row, signer in enumerate(signers):
        y = label_h + row * (tile + gap)
        draw.text((2, y + tile // 2 - 5), SIGNERS[signer].name, fill=(0, 0, 0))
        for g, gloss in enumerate(glosses):
            rng = np.random.default_rng([seed, row, g])
            renderer = renderer_for(signer, size)
            timeline = plan_video([gloss], recipes, SIGNERS[signer], rng,
                                  MotionParams(drop_prob=0.0), renderer.scale)
            frames, _ = renderer.render(timeline, rng, noise)
            _, start, end = timeline.timings[0]
            picks = np.linspace(start, end, frames_per_sign).round().astype(int)
            for j, t in enumerate(picks):
                image = Image.fromarray(frames[t]).resize((tile, tile), Image.NEAREST)
                sheet.paste(image, (label_w + g * (frames_per_sign * tile + gap) + j * tile, y))
    return sheet


def write_contact_sheet(path: str | Path, **kwargs) -> None:
    """Write `contact_sheet(**kwargs)` to a PNG file, atomically."""
    with atomic_path(path) as tmp:
        contact_sheet(**kwargs).save(tmp, format="PNG")
