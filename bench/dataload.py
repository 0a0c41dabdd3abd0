"""Data loading speed per worker: frames/s from PNG folders and from MP4, against the raw
decode of the same files.

Synthetic clips at the Phoenix14T frame size (210 x 260, 25 fps; smooth moving shapes plus
noise, so PNG and H.264/MPEG-4 compress like real video) are written into a temporary folder.
Per format, one process with one thread (= one DataLoader worker) measures:

- raw decode: every frame of the files to uint8 RGB, nothing else (Pillow / PyAV);
- loader: what `VideoDataset.__getitem__` does in a worker (frames kept by the stride 2,
  resized to 256);
- the same plus the training augmentation `VideoTransform(train=True)` on CPU (crop 224,
  normalised floats); it is a batch op meant to run on the GPU, so this shows its CPU cost.

The ratio is loader output frames/s over raw decoded frames/s. With `bench/results/
throughput_gpu.json` present it also says how many workers keep the GPU fed.

    python bench/dataload.py [--clips 6 --frames 120]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from common import RESULTS_DIR, machine_info, markdown_table, save_results
from sign2gpt.data.config import DataConfig
from sign2gpt.data.frames import list_frame_files, read_image, resize_frames, select_frame_indices
from sign2gpt.data.sources import read_selected_frames
from sign2gpt.data.transforms import VideoTransform

HEIGHT, WIDTH = 210, 260


def synthetic_clip(frames: int, seed: int) -> np.ndarray:
    """uint8 (T, H, W, 3): a moving bright disc over a gradient, with mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    background = np.stack([xx * 255 / WIDTH, yy * 255 / HEIGHT, np.full_like(xx, 96)], -1)
    clip = np.empty((frames, HEIGHT, WIDTH, 3), np.uint8)
    for t in range(frames):
        cx, cy = WIDTH / 2 + 80 * np.sin(t / 9 + seed), HEIGHT / 2 + 60 * np.cos(t / 7)
        disc = ((xx - cx) ** 2 + (yy - cy) ** 2 < 30**2)[..., None]
        image = np.where(disc, 230.0, background) + rng.normal(0, 6, (HEIGHT, WIDTH, 3))
        clip[t] = image.clip(0, 255).astype(np.uint8)
    return clip


def write_clips(root: Path, clips: int, frames: int) -> tuple[list[Path], list[Path], str]:
    """PNG folders and MP4 files of the same clips; returns (folders, videos, codec)."""
    import av
    from PIL import Image

    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    folders, videos = [], []
    for i in range(clips):
        clip = synthetic_clip(frames, seed=i)
        folder = root / "png" / f"clip{i}"
        folder.mkdir(parents=True)
        for t, frame in enumerate(clip, start=1):
            Image.fromarray(frame).save(folder / f"images{t:04d}.png")
        video = root / "mp4" / f"clip{i}.mp4"
        video.parent.mkdir(exist_ok=True)
        with av.open(str(video), mode="w") as container:
            stream = container.add_stream(codec, rate=25)
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            for frame in clip:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
        folders.append(folder)
        videos.append(video)
    return folders, videos, codec


def raw_decode(source: Path) -> int:
    """Decode every frame of a source, nothing else; returns the frame count."""
    if source.is_dir():
        return sum(read_image(path).shape[0] > 0 for path in list_frame_files(source))
    import av

    with av.open(str(source)) as container:
        return sum(
            frame.to_ndarray(format="rgb24").shape[0] > 0 for frame in container.decode(video=0)
        )


def load(source: Path, cfg: DataConfig, transform: VideoTransform | None) -> int:
    """The training sample path: stride-2 frames, resize (what a worker does), then the
    augmentation if `transform` is given (on CPU here); returns the frames produced."""

    def select(num_frames: int) -> np.ndarray:
        return select_frame_indices(num_frames, cfg.frame_stride, cfg.max_frames)

    frames = resize_frames(read_selected_frames(source, select), cfg.resize)  # (T, R, R, 3)
    if transform is None:
        return frames.size(0)
    mask = torch.ones(1, frames.size(0), dtype=torch.bool)
    return transform(frames[None], mask).size(1)  # (1, T, 3, S, S)


def frames_per_second(fn, sources: list[Path], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        count = sum(fn(source) for source in sources)
        best = min(best, time.perf_counter() - start)
    return count / best


def gpu_demand() -> float | None:
    """Frames/s the GPU consumes in training, from a GPU throughput run (None if absent)."""
    path = RESULTS_DIR / "throughput_gpu.json"
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    return record["train"]["eager"]["videos_per_s"] * record["settings"]["frames"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--frames", type=int, default=120, help="frames per clip (25 fps)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)  # one DataLoader worker = one core
    cfg = DataConfig(root=Path("unused"))  # only the frame and augmentation settings matter
    transform = VideoTransform(cfg, train=True)
    demand = gpu_demand()
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        folders, videos, codec = write_clips(Path(tmp), args.clips, args.frames)
        for name, sources in (("PNG folders", folders), (f"MP4 ({codec})", videos)):
            raw = frames_per_second(raw_decode, sources, args.repeat)
            loader = frames_per_second(lambda s: load(s, cfg, None), sources, args.repeat)
            augmented = frames_per_second(lambda s: load(s, cfg, transform), sources, args.repeat)
            results[name] = {"raw_decode_frames_per_s": raw, "loader_frames_per_s": loader,
                             "loader_and_cpu_augment_frames_per_s": augmented,
                             "loader_over_raw": loader / raw}  # fmt: skip
            row = {"source": name, "raw decode frames/s": raw,
                   "loader frames/s (stride 2, resize 256)": loader, "loader / raw": loader / raw,
                   "+ augmentation on CPU, frames/s": augmented,
                   "workers to feed the GPU (augment on GPU)": (
                       f"{demand / loader:.1f}" if demand else "pending (no GPU run)")}  # fmt: skip
            rows.append(row)
    record = {
        "machine": machine_info("cpu"),
        "settings": {"clips": args.clips, "frames_per_clip": args.frames,
                     "frame_size": [HEIGHT, WIDTH], "resize": cfg.resize, "crop": cfg.crop,
                     "frame_stride": cfg.frame_stride, "threads": 1, "mp4_codec": codec},
        "gpu_frames_per_s_demand": demand,
        "results": results,
    }  # fmt: skip
    columns = list(rows[0])
    table = markdown_table(rows, columns) + (
        "\n\nPer worker (one process, one thread). Loader frames/s counts output frames: the "
        "stride keeps half, so PNG decodes only those while MP4 must decode every frame."
    )
    save_results("dataload", record, table, title="Data loading per worker")


if __name__ == "__main__":
    main()
