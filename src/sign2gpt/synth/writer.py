"""Write a SynthSign corpus in the Phoenix14T layout (see docs: "Corpus layout on disk").

```
<root>/annotations/manual/PHOENIX-2014-T.<split>.corpus.csv   name|video|start|end|speaker|...
<root>/features/fullFrame-210x260px/<split>/<name>/images0001.png ...
<root>/timings/<split>.json       {name: [{"gloss", "start", "end"}, ...]} (0-based, inclusive)
<root>/keypoints/<split>.npy      (frames of all videos, joints, 2) renderer joint positions
<root>/keypoints/<split>.cues.npy (frames of all videos, 3) int16 hand shapes and face cue
<root>/keypoints/<split>.json     {"joints": [...], "cues": {name: classes}, "videos": {...}}
<root>/features/keypoints-holistic/<split>/<name>.npz   with `SynthConfig.keypoints`: what a
                                  pose estimator would give (`estimator.py`), for `kind: pose`
<root>/synthsign.json, README.md  the generator's parameters
```
Frame folders are written directly (the whole corpus is built in a temporary folder and renamed
into place at the end); every other file goes through the atomic writers.
"""

from __future__ import annotations

import dataclasses
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from sign2gpt.io import atomic_open, atomic_path, write_json, write_text
from sign2gpt.synth.recipes import CUES

CSV_HEADER = ("name", "video", "start", "end", "speaker", "orth", "translation")
FRAMES_DIR = Path("features") / "fullFrame-210x260px"
# Estimator keypoints (`data.features_dir` of a `kind: pose` run on the corpus).
KEYPOINTS_DIR = Path("features") / "keypoints-holistic"
FPS = 25


def csv_path(root: Path, split: str) -> Path:
    return root / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv"


def frame_dir(root: Path, split: str, name: str) -> Path:
    return root / FRAMES_DIR / split / name


def keypoint_file(root: Path, split: str, name: str) -> Path:
    """Where the Phoenix14T reader looks for a video's keypoints (`<split>/<name>.npz`)."""
    return root / KEYPOINTS_DIR / split / f"{name}.npz"


def write_keypoint_file(path: Path, points: np.ndarray, confidence: np.ndarray,
                        size: int) -> None:  # fmt: skip
    """One video's estimator keypoints as `.npz` in the Holistic layout, byte-reproducibly.

    `np.savez` stamps each member with the current time; a fixed stamp keeps the corpus
    byte-identical for a seed.
    """
    arrays = {"keypoints": points.astype(np.float32), "confidence": confidence.astype(np.float32),
              "layout": np.array("holistic"), "fps": np.float32(FPS),
              "width": np.int32(size), "height": np.int32(size)}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def frame_name(index: int) -> str:
    """Phoenix frame file name of 0-based frame `index`: images0001.png, images0002.png, ..."""
    return f"images{index + 1:04d}.png"


@dataclasses.dataclass
class VideoRecord:
    """What the corpus files say about one rendered video."""

    name: str
    signer: str
    glosses: tuple[str, ...]
    text: str
    num_frames: int
    timings: list[tuple[str, int, int]]
    keypoints: np.ndarray  # (T, J, 2) float32
    cues: np.ndarray  # (T, len(CUES)) int64: hand shape of each hand, face cue


def write_frames(folder: Path, pngs: list[bytes]) -> None:
    """Write one video's PNG files (encoded by `png.encode_pngs`) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(pngs):
        # os-level calls: creating ~10^6 small files is the writer's main cost.
        fd = os.open(folder / frame_name(index), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            if os.write(fd, data) != len(data):
                raise OSError(f"{folder / frame_name(index)}: short write (disk full?)")
        finally:
            os.close(fd)


def write_split(root: Path, split: str, videos: list[VideoRecord], joints: tuple[str, ...]) -> None:
    """Write the corpus CSV, the gloss timings and the keypoints of one split."""
    rows = ["|".join(CSV_HEADER)] + [
        "|".join((v.name, f"{v.name}/1/*.png", "-1", "-1", v.signer, " ".join(v.glosses), v.text))
        for v in videos
    ]
    with atomic_open(csv_path(root, split), "wb") as handle:  # binary: "\n" on every platform
        handle.write(("\n".join(rows) + "\n").encode("utf-8"))
    write_json(root / "timings" / f"{split}.json", {
        v.name: [{"gloss": g, "start": start, "end": end} for g, start, end in v.timings]
        for v in videos
    })
    offsets = np.cumsum([0] + [v.num_frames for v in videos])
    with atomic_path(root / "keypoints" / f"{split}.npy") as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.concatenate([v.keypoints for v in videos]).astype(np.float32))
    with atomic_path(root / "keypoints" / f"{split}.cues.npy") as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.concatenate([v.cues for v in videos]).astype(np.int16))
    write_json(root / "keypoints" / f"{split}.json", {
        "joints": list(joints),
        "units": "output pixels (x, y) of the written frames",
        "cues": {name: len(classes) for name, classes in CUES.items()},
        "videos": {v.name: [int(offsets[i]), v.num_frames] for i, v in enumerate(videos)},
    })


def split_summary(videos: list[VideoRecord]) -> dict:
    """Counts and length statistics of one split (for synthsign.json and the README)."""
    frames = np.array([v.num_frames for v in videos])
    signs = np.array([len(v.glosses) for v in videos])
    signers: dict[str, int] = {}
    for v in videos:
        signers[v.signer] = signers.get(v.signer, 0) + 1
    return {
        "videos": len(videos),
        "frames": int(frames.sum()),
        "frames_per_video": {"mean": round(float(frames.mean()), 2), "min": int(frames.min()),
                             "max": int(frames.max())},
        "glosses_per_video": round(float(signs.mean()), 2),
        "signers": dict(sorted(signers.items())),
    }


def write_readme(root: Path, meta: dict) -> None:
    """A human-readable summary of the corpus and how to regenerate it."""
    cfg = meta["config"]
    lines = [
        "# SynthSign corpus",
        "",
        "Synthetic sign language videos written by `sign2gpt synth` in the Phoenix14T layout.",
        "Regenerate it byte-identically with `sign2gpt synth --out DIR` and the parameters below"
        + (" (plus `--text-dir` pointing at the same Phoenix14T text)."
           if cfg["size"] == "full" else "."),
        "",
        f"Text source: {meta['text']['source']} (sha256 {meta['text']['sha256'][:16]}...). "
        f"Gloss vocabulary: {meta['vocabulary']['glosses']} glosses, "
        f"{meta['vocabulary']['words']} German words.",
        f"Frames: {cfg['image_size']}x{cfg['image_size']} RGB PNG at {FPS} fps.",
        "",
        "| split | videos | frames | frames/video (mean, min-max) | glosses/video |",
        "|---|---|---|---|---|",
    ]
    for split, s in meta["splits"].items():
        f = s["frames_per_video"]
        lines.append(f"| {split} | {s['videos']} | {s['frames']} | {f['mean']} ({f['min']}-"
                     f"{f['max']}) | {s['glosses_per_video']} |")
    lines += ["", "## Parameters", "", "| parameter | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in cfg.items()]
    lines += [f"| motion.{key} | {value} |" for key, value in meta["motion"].items()]
    lines += [
        "",
        "## Files",
        "",
        "- `annotations/manual/PHOENIX-2014-T.<split>.corpus.csv`: "
        "`name|video|start|end|speaker|orth|translation`.",
        "- `features/fullFrame-210x260px/<split>/<name>/images0001.png`, ...",
        "- `timings/<split>.json`: each video's signs as `{gloss, start, end}` frame indices "
        "(0-based, inclusive, at 25 fps).",
        "- `keypoints/<split>.npy` + `.json`: per-frame joint positions the renderer used.",
        *([f"- `{KEYPOINTS_DIR.as_posix()}/<split>/<name>.npz`: the keypoints a pose estimator "
           "would give (MediaPipe Holistic layout, with estimator noise), for "
           f"`model.spatial.kind: pose` with `data.features_dir: {KEYPOINTS_DIR.as_posix()}`."]
          if cfg.get("keypoints") else []),
        "- `synthsign.json`: every generator parameter, the signers and each gloss's recipe.",
        "",
        "Signer09 appears only in `test_unseen_signer` (the test sentences, signed by it).",
        "",
    ]
    write_text(root / "README.md", "\n".join(lines))
