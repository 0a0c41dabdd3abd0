"""SynthSign pieces: recipes, grammar, motion timing, rendering and the PNG encoder."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from sign2gpt.synth import grammar
from sign2gpt.synth.contact_sheet import write_contact_sheet
from sign2gpt.synth.motion import MotionParams, Timeline, plan_video, rest_targets
from sign2gpt.synth.png import encode_pngs
from sign2gpt.synth.recipes import NUM_RECIPES, assign_recipes
from sign2gpt.synth.render import Renderer
from sign2gpt.synth.signers import SIGNERS
from sign2gpt.synth.sources import read_phoenix_text


def test_recipes_are_unique_and_depend_only_on_the_vocabulary():
    vocabulary = [f"GLOSS{i}" for i in range(3000)]  # many collisions at this size
    recipes = assign_recipes(vocabulary)
    assert len(set(recipes.values())) == len(vocabulary)
    assert assign_recipes(reversed(vocabulary)) == recipes
    assert assign_recipes(vocabulary[:10])["GLOSS3"] == assign_recipes(["GLOSS3"])["GLOSS3"]
    with pytest.raises(ValueError):
        assign_recipes(str(i) for i in range(NUM_RECIPES + 1))


def test_grammar_is_deterministic_and_reorders_words():
    sentences = grammar.generate_sentences(300, seed=1)
    assert sentences == grammar.generate_sentences(300, seed=1)
    assert sentences != grammar.generate_sentences(300, seed=2)
    vocabulary = set(grammar.gloss_vocabulary())
    assert 100 <= len(vocabulary) <= 400
    assert all(set(s.glosses) <= vocabulary and s.text.endswith(" .") for s in sentences)
    assert all(g.isascii() and g == g.upper() for g in vocabulary)
    words = {w for s in sentences for w in s.text.split()}
    assert len(words) >= 200
    # Sign order differs from German order: the time comes first in the glosses.
    wind = next(s for s in sentences if " weht " in s.text)
    assert wind.text.split()[0] != "weht" and wind.glosses[-2] != "WIND"


def render_isolated(vocabulary: list[str], signer: int, frames: int = 4) -> list[bytes]:
    """Each gloss alone between rest poses, no randomness, no noise: the bytes of its clip.

    Clips are rendered in batches (one long joined timeline) to keep the test fast.
    """
    recipes = assign_recipes(vocabulary)
    renderer = Renderer(SIGNERS[signer], 64)
    clips = [plan_video([g], recipes, SIGNERS[signer], np.random.default_rng(0),
                        MotionParams.clean(frames)) for g in vocabulary]
    length = clips[0].num_frames  # every clip has the same length without randomness
    fields = [f.name for f in dataclasses.fields(Timeline) if f.name != "timings"]
    out = []
    for first in range(0, len(clips), 200):
        batch = clips[first:first + 200]
        joined = Timeline(**{f: np.concatenate([getattr(c, f) for c in batch]) for f in fields},
                          timings=[])
        video, _ = renderer.render(joined)
        out += [video[i * length:(i + 1) * length].tobytes() for i in range(len(batch))]
    return out


@pytest.mark.parametrize("signer", [0, 2])  # right- and left-handed
def test_no_two_glosses_render_identically(signer: int):
    vocabulary = grammar.gloss_vocabulary()
    assert len(set(render_isolated(vocabulary, signer))) == len(vocabulary)


def test_no_two_phoenix_glosses_render_identically(phoenix_text_dir):
    splits = read_phoenix_text(phoenix_text_dir)
    vocabulary = sorted({g for sents in splits.values() for s in sents for g in s.glosses})
    digests = {hashlib.sha256(r).digest() for r in render_isolated(vocabulary, 8)}
    assert len(digests) == len(vocabulary)


@pytest.mark.parametrize("signer", range(len(SIGNERS)))
def test_signs_last_4_to_10_frames_between_rest_poses(signer: int):
    glosses = grammar.gloss_vocabulary()[:40]
    recipes = assign_recipes(glosses)
    timeline = plan_video(glosses, recipes, SIGNERS[signer], np.random.default_rng(signer),
                          MotionParams(drop_prob=0.0))
    lengths = [end - start + 1 for _, start, end in timeline.timings]
    assert min(lengths) >= 4 and max(lengths) <= 10 and len(set(lengths)) > 1
    rest = rest_targets(SIGNERS[signer])
    np.testing.assert_allclose(timeline.hand_xy[[0, -1]], [rest, rest], atol=1e-4)


def test_dropped_frames_keep_timings_consistent():
    glosses = grammar.gloss_vocabulary()[:30]
    params = MotionParams(drop_prob=0.3)
    timeline = plan_video(glosses, assign_recipes(glosses), SIGNERS[0],
                          np.random.default_rng(0), params)
    full = plan_video(glosses, assign_recipes(glosses), SIGNERS[0], np.random.default_rng(0),
                      MotionParams(drop_prob=0.0))
    assert timeline.num_frames < full.num_frames
    ends = [-1] + [end for _, _, end in timeline.timings]
    for (_, start, end), previous_end in zip(timeline.timings, ends[:-1], strict=True):
        assert previous_end < start <= end < timeline.num_frames


def test_render_outputs_and_noise():
    glosses = ["REGEN", "SONNE"]
    timeline = plan_video(glosses, assign_recipes(glosses), SIGNERS[3],
                          np.random.default_rng(0), MotionParams())
    renderer = Renderer(SIGNERS[3], 48)
    clean, keypoints = renderer.render(timeline)
    noisy, _ = renderer.render(timeline, np.random.default_rng(1), noise=3)
    assert clean.shape == (timeline.num_frames, 48, 48, 3) and clean.dtype == np.uint8
    assert keypoints.shape == (timeline.num_frames, 7, 2)
    assert np.all((keypoints > -8) & (keypoints < 56))
    diff = noisy.astype(int) - clean.astype(int)
    assert np.abs(diff).max() == 3 and 1.5 < diff.std() < 2.5


def test_png_encoder_roundtrip():
    frames = np.random.default_rng(0).integers(0, 256, (3, 17, 23, 3), dtype=np.uint8)
    for data, frame in zip(encode_pngs(frames), frames, strict=True):
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), frame)


def test_contact_sheet(tmp_path):
    path = tmp_path / "sheet.png"
    write_contact_sheet(path, glosses=("REGEN", "WIND"), signers=(0, 8), frames_per_sign=2,
                        zoom=1)
    image = Image.open(path)
    assert image.width > 4 * 64 and image.height > 2 * 64
