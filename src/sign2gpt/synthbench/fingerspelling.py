"""Fingerspelled words built from real letter recordings (`bench/fingerspelling.py`).

The `spoken-to-signed` package (0.4.0, MIT) ships MediaPipe Holistic recordings (`.pose`) of
each fingerspelled letter of 19 signed languages. A word is its letters' clips one after the
other, as a signer would chain them: each letter trimmed of its citation-form start and end,
played at its own speed (drawn per letter), and joined to the next by a few interpolated
transition frames. The recordings are read from where pip installed them, never copied.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sign2gpt.data.keypoints import read_keypoints
from sign2gpt.errors import DataError

# Signed language of the lexicon -> the spoken language of its words.
LANGUAGES = {"gsg": "de", "ase": "en"}
FPS = 25.0  # every letter is resampled to this rate (the German ones are recorded at 30)


def lexicon_dir() -> Path:
    """The fingerspelling lexicon inside the installed `spoken-to-signed` package."""
    try:
        import spoken_to_signed
    except ImportError:
        raise DataError(Path("spoken_to_signed"), "the fingerspelling recordings come with "
                        "the spoken-to-signed package: pip install spoken-to-signed==0.4.0"
                        ) from None  # fmt: skip
    return Path(spoken_to_signed.__file__).parent / "assets" / "fingerspelling_lexicon"


def letter_paths(language: str, root: Path | None = None) -> dict[str, Path]:
    """Letter (lower case) -> its recording, for one signed language (e.g. "gsg", "ase").

    The index lists some files again under other languages that borrow the alphabet; a file
    belongs to the language of its folder.
    """
    root = root or lexicon_dir()
    with (root / "index.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["path"].split("/")[0] == language
                and r["signed_language"] == language]  # fmt: skip
    if not rows:
        raise DataError(root / "index.csv", f"no letters of signed language {language!r}")
    return {r["words"].lower(): root / r["path"] for r in rows}


def _resample(clip: np.ndarray, length: int) -> np.ndarray:
    """(T, J, 3) clip -> `length` frames, linear in time; a joint missing at either
    neighbouring frame takes the nearer frame's value (no blend with a missing joint)."""
    t = np.linspace(0.0, len(clip) - 1, length)
    low = np.floor(t).astype(np.int64)
    high = np.minimum(low + 1, len(clip) - 1)
    w = (t - low)[:, None, None].astype(np.float32)
    a, b = clip[low], clip[high]
    blend = a * (1 - w) + b * w
    both = (a[..., 2:] > 0) & (b[..., 2:] > 0)
    nearest = np.where(w < 0.5, a, b)
    return np.where(both, blend, nearest).astype(np.float32)


def load_letters(language: str, root: Path | None = None) -> dict[str, np.ndarray]:
    """Letter -> its clip (T, 126, 3) in our layout (x, y pixels and confidence) at `FPS`."""
    letters = {}
    for letter, path in letter_paths(language, root).items():
        kp = read_keypoints(path)
        clip = kp.stacked()
        fps = kp.fps or FPS
        letters[letter] = _resample(clip, max(2, round(len(clip) * FPS / fps)))
    return letters


@dataclass(frozen=True)
class WordStyle:
    """How letters are chained into a word (one draw per letter)."""

    # Playback speed of each letter: a letter in a word is signed faster than its citation
    # form, and signers vary letter by letter.
    speed: tuple[float, float] = (1.2, 2.4)
    trim: float = 0.15  # fraction cut from each end of a letter (entering / leaving the form)
    transition_frames: tuple[int, int] = (2, 4)  # interpolated frames between two letters

    def __post_init__(self) -> None:
        if not 0 < self.speed[0] <= self.speed[1] or not 0 <= self.trim < 0.5:
            raise ValueError("WordStyle: speed must be 0 < low <= high and trim in [0, 0.5)")
        if not 0 <= self.transition_frames[0] <= self.transition_frames[1]:
            raise ValueError("WordStyle: transition_frames must be 0 <= low <= high")


def spellable(word: str, letters: dict[str, np.ndarray]) -> bool:
    """Whether every letter of `word` has a recording."""
    return bool(word) and all(ch in letters for ch in word)


def spelled(word: str) -> str:
    """The target text of a fingerspelled word: its letters as tokens ("wind" -> "w i n d")."""
    return " ".join(word)


def build_word(
    word: str, letters: dict[str, np.ndarray], rng: np.random.Generator,
    style: WordStyle = WordStyle(),
) -> tuple[np.ndarray, list[tuple[str, int, int]]]:  # fmt: skip
    """The fingerspelled clip of `word` and where each letter is.

    Args:
        word: lower-case letters, each a key of `letters`.
        letters: from `load_letters`.
        rng: all randomness (speeds, transitions) comes from it.
        style: how letters are chained.
    Returns:
        joints (T, 126, 3) float32 at `FPS`; spans [(letter, first frame, last frame)].
    """
    if not spellable(word, letters):
        missing = sorted({ch for ch in word if ch not in letters})
        raise ValueError(f"cannot spell {word!r}: no recording of {missing}")
    parts: list[np.ndarray] = []
    spans = []
    start = 0
    for i, letter in enumerate(word):
        clip = letters[letter]
        cut = int(len(clip) * style.trim)
        clip = clip[cut:len(clip) - cut] if len(clip) - 2 * cut >= 2 else clip
        speed = rng.uniform(*style.speed)
        clip = _resample(clip, max(2, round(len(clip) / speed)))
        if i:
            n = int(rng.integers(style.transition_frames[0], style.transition_frames[1] + 1))
            if n:
                # From the last letter's last frame to this one's first: hand and arm travel.
                edge = np.stack([parts[-1][-1], clip[0]])
                moving = _resample(edge, n + 2)[1:-1]
                parts.append(moving)
                start += n
        parts.append(clip)
        spans.append((letter, start, start + len(clip) - 1))
        start += len(clip)
    return np.concatenate(parts).astype(np.float32), spans
