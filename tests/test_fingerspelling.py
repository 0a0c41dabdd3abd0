"""Fingerspelled words from the real `spoken-to-signed` letter recordings (read from the
installed package, never copied): the pose reader, the word builder, `data check` on words."""

from __future__ import annotations

import csv
from itertools import pairwise

import numpy as np
import pytest
import yaml

from sign2gpt.cli import main
from sign2gpt.data.keypoints import PARTS, read_keypoints
from sign2gpt.synthbench.fingerspelling import (
    FPS,
    WordStyle,
    build_word,
    letter_paths,
    load_letters,
    spellable,
    spelled,
)

pytest.importorskip("spoken_to_signed", reason="the letter recordings come with spoken-to-signed "
                    "(pip install spoken-to-signed==0.4.0, in the [dev] extra)")  # fmt: skip
pytest.importorskip("pose_format", reason="reading .pose files needs pose-format ([pose] extra)")


@pytest.fixture(scope="module")
def german() -> dict[str, np.ndarray]:
    return load_letters("gsg")


def test_letters_read_through_the_pose_reader():
    paths = letter_paths("gsg")
    assert {"a", "z", "ä", "ö", "ü", "ß"} <= set(paths) and len(paths) == 30
    assert len(letter_paths("ase")) == 26
    for letter in "abc":
        kp = read_keypoints(paths[letter])
        assert kp.fps == 30 and kp.points.shape[1:] == (126, 2)
        assert (kp.confidence[:, PARTS["right_hand"]] > 0).any(1).mean() > 0.5


def test_words_chain_their_letters_at_their_own_speeds(german):
    style = WordStyle()
    joints, spans = build_word("wind", german, np.random.default_rng(0), style)
    assert joints.shape[1:] == (126, 3) and joints.dtype == np.float32
    assert [s[0] for s in spans] == list("wind") and spans[0][1] == 0
    assert spans[-1][2] == len(joints) - 1
    for (_, _, end), (_, start, _) in pairwise(spans):
        gap = start - end - 1  # transition frames between two letters
        assert style.transition_frames[0] <= gap <= style.transition_frames[1]
    # Each letter is trimmed and sped up: shorter than its recording (resampled to 25 fps).
    for letter, start, end in spans:
        assert 2 <= end - start + 1 < len(german[letter])
    assert np.isfinite(joints).all() and (joints[..., 2] >= 0).all()
    again, _ = build_word("wind", german, np.random.default_rng(0), style)
    other, _ = build_word("wind", german, np.random.default_rng(1), style)
    np.testing.assert_array_equal(joints, again)
    assert len(other) != len(joints) or not np.array_equal(other, joints)
    assert spellable("für", german) and not spellable("wind!", german)
    assert spelled("für") == "f ü r"
    with pytest.raises(ValueError, match="cannot spell"):
        build_word("x1", german, np.random.default_rng(0))
    assert np.isclose(FPS, 25.0)


def test_built_words_pass_data_check(german, tmp_path, capsys):
    rows = [("id", "video", "text", "split")]
    for i, (word, split) in enumerate((("hallo", "train"), ("süden", "dev"), ("wind", "test"))):
        joints, _ = build_word(word, german, np.random.default_rng(i))
        path = tmp_path / "clips" / f"{word}.npz"
        path.parent.mkdir(exist_ok=True)
        np.savez(path, keypoints=joints[..., :2], confidence=joints[..., 2],
                 layout=np.array("sign2gpt"), fps=np.float32(FPS))  # fmt: skip
        rows.append((word, f"clips/{word}.npz", spelled(word), split))
    with (tmp_path / "manifest.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    config = tmp_path / "words.yaml"
    config.write_text(yaml.safe_dump({"data": {"format": "manifest", "root": str(tmp_path),
                                               "manifest": "manifest.csv", "num_workers": 0}}))
    assert main(["data", "check", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    for split in ("train", "dev", "test"):
        assert f"split {split}: 1 rows, 1 good, 0 bad" in out
