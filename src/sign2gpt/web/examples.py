"""The page's examples: a few test clips of the corpus the model was trained on, as MP4 files
(SynthSign and Phoenix14T keep frame folders, which a browser cannot upload)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sign2gpt.data import DataConfig
from sign2gpt.data.readers import read_split
from sign2gpt.data.sources import read_all_frames
from sign2gpt.errors import Sign2GPTError


def example_clips(cfg: DataConfig, out: Path, count: int = 3, fps: float = 25.0) -> list[Path]:
    """The first `count` test clips of `cfg.root` written as MP4 into `out`; none when the
    corpus is not there (a model moved to another machine)."""
    try:
        records = read_split(cfg, cfg.test_split).records[:count]
        clips = []
        for record in records:
            clip = out / f"{record.id}.mp4"
            if record.source.is_file() and record.source.suffix.lower() == ".mp4":
                clip = record.source  # already a video file the browser can upload
            else:
                write_mp4(clip, read_all_frames(record.source), fps)
            clips.append(clip)
        return clips
    except (Sign2GPTError, OSError):
        return []


def write_mp4(path: Path, frames: np.ndarray, fps: float = 25.0) -> Path:
    """Encode uint8 (T, H, W, 3) frames as MPEG-4 (near lossless; yuv420p needs even sizes)."""
    import av

    height, width = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"qscale": "1"}
        for frame in frames[:, :height, :width]:
            image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            container.mux(stream.encode(image))
        container.mux(stream.encode())
    return path
