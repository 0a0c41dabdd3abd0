"""Decoded-frame cache: every frame of a split, resized, in one memory-mapped uint8 file.

Files under `cache_dir`:
- `<split>.<token>.u8`: all frames of all videos, (N, resize, resize, 3) uint8, back to back;
- `<split>.index.json`: {id: offset, frame count, source fingerprint}, the frame size and the
  data file's name.

The data file is written first, then the index (each atomically), then the old data file is
removed, so a killed writer leaves the previous cache intact. All frames are stored (not only
every 2nd), so the random temporal shift of training still sees every frame. A video whose
source changed since (folder or file mtime/size) is decoded from the source again.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sign2gpt.data.config import DataConfig
from sign2gpt.data.frames import resize_frames
from sign2gpt.data.keypoints import is_keypoint_source
from sign2gpt.data.records import VideoRecord
from sign2gpt.data.sources import read_all_frames
from sign2gpt.errors import DataError
from sign2gpt.io import atomic_path, write_json

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def index_path(cfg: DataConfig, split: str) -> Path:
    """The cache index of `split`."""
    if not cfg.cache_dir:
        raise DataError("data.cache_dir", "no cache folder configured (set data.cache_dir)")
    return Path(cfg.cache_dir) / f"{split}.index.json"


def source_fingerprint(source: Path) -> str:
    """Modification time and size of a frame folder or video file."""
    stat = source.stat()
    return f"{stat.st_mtime_ns}:{stat.st_size}"


class FrameCache:
    """Read access to a split's cache; the memory map opens lazily in each worker process."""

    def __init__(self, data_path: Path, size: int, entries: dict[str, tuple[int, int]]):
        self.data_path = data_path
        self.size = size
        self.entries = entries  # id -> (first frame, frame count)
        self._frames: np.ndarray | None = None

    @classmethod
    def open(cls, cfg: DataConfig, split: str, records: list[VideoRecord]) -> FrameCache | None:
        """The cache of `split` for these records, or None when there is none that fits."""
        path = index_path(cfg, split)
        if not path.is_file():
            return None
        index = _read_index(path)
        if index.get("version") != CACHE_VERSION or index.get("resize") != cfg.resize:
            log.warning("%s: cache was built for other settings; not used", path)
            return None
        videos = index["videos"]
        # Only a file next to the index: an edited index cannot point the reader elsewhere.
        data_path = path.parent / os.path.basename(index["data_file"])
        frame_bytes = cfg.resize * cfg.resize * 3
        needed = max((e["offset"] + e["frames"] for e in videos.values()), default=0)
        if not data_path.is_file() or data_path.stat().st_size < needed * frame_bytes:
            raise DataError(
                data_path, f"cache data file is missing or truncated (index {path.name} needs "
                f"{needed} frames); rebuild it with `sign2gpt data cache`",
            )
        entries: dict[str, tuple[int, int]] = {}
        changed = 0
        for record in records:
            entry = videos.get(record.id)
            if entry is None:
                continue
            if not record.source.exists() or entry.get("fingerprint") != source_fingerprint(
                record.source
            ):
                changed += 1
                continue
            entries[record.id] = (entry["offset"], entry["frames"])
        if changed:
            log.warning(
                "%s: %d video(s) changed since the cache was built; they are decoded from "
                "their source (rebuild with `sign2gpt data cache`)", path, changed,
            )
        return cls(data_path, cfg.resize, entries)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self.entries

    def num_frames(self, item_id: str) -> int:
        return self.entries[item_id][1]

    def read(self, item_id: str, indices: np.ndarray) -> np.ndarray:
        """Frames `indices` of one video, (T, size, size, 3) uint8."""
        if self._frames is None:
            total = self.data_path.stat().st_size // (self.size * self.size * 3)
            self._frames = np.memmap(
                self.data_path, dtype=np.uint8, mode="r", shape=(total, self.size, self.size, 3)
            )
        offset, _ = self.entries[item_id]
        return np.ascontiguousarray(self._frames[offset + indices])

    def __getstate__(self) -> dict:
        # A memory map must not travel to DataLoader workers; each opens its own.
        return {**self.__dict__, "_frames": None}


@dataclass
class CacheSummary:
    videos: int
    frames: int
    bytes: int
    skipped: int
    seconds: float
    index: Path


def write_cache(
    cfg: DataConfig, split: str, records: list[VideoRecord], *, skip_bad: bool = False,
    progress: bool = True,
) -> CacheSummary:
    """Decode every frame of `records`, resize it to `cfg.resize`, and write the cache.

    Args:
        cfg: data config (cache_dir and resize are used).
        split: split name (names the files).
        records: the videos to store.
        skip_bad: log and leave out a video that does not decode, instead of raising.
        progress: show a progress bar.
    """
    from tqdm import tqdm

    if records and is_keypoint_source(records[0].source):
        raise DataError(records[0].source, "is a keypoint file; keypoint corpora are read "
                                           "directly, the frame cache is for videos")  # fmt: skip
    start = time.perf_counter()
    index_file = index_path(cfg, split)
    data_file = index_file.parent / f"{split}.{uuid.uuid4().hex[:12]}.u8"
    videos: dict[str, dict] = {}
    offset = skipped = 0
    with atomic_path(data_file) as tmp, open(tmp, "wb") as handle:
        for record in tqdm(records, desc=f"caching {split}", disable=not progress, unit="video"):
            try:
                frames = resize_frames(read_all_frames(record.source, record.confine), cfg.resize)
            except DataError as exc:
                if not skip_bad:
                    raise
                log.warning("skipping bad video %s (%s): %s", record.id, record.where, exc)
                skipped += 1
                continue
            handle.write(frames.numpy().tobytes())
            count = int(frames.shape[0])
            videos[record.id] = {
                "offset": offset, "frames": count,
                "fingerprint": source_fingerprint(record.source),
            }
            offset += count
        handle.flush()
    old_data = _previous_data_file(index_file)
    write_json(index_file, {
        "version": CACHE_VERSION, "split": split, "resize": cfg.resize,
        "data_file": data_file.name, "videos": videos,
    })
    if old_data is not None and old_data != data_file:
        old_data.unlink(missing_ok=True)
    return CacheSummary(
        videos=len(videos), frames=offset, bytes=offset * cfg.resize * cfg.resize * 3,
        skipped=skipped, seconds=time.perf_counter() - start, index=index_file,
    )


def _read_index(path: Path) -> dict:
    """A cache index as written by `write_cache`; anything else is a DataError."""
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(index, dict):
            raise ValueError("not a JSON object")
        entries = index["videos"].values()
        if not isinstance(index["data_file"], str) or not all(
            isinstance(e["offset"], int) and isinstance(e["frames"], int) for e in entries
        ):
            raise ValueError("data_file or a video's offset / frames has the wrong type")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # JSON/UTF-8 errors too
        raise DataError(
            path, f"not a frame-cache index ({type(exc).__name__}: {exc}); delete it or rebuild "
            "it with `sign2gpt data cache`",
        ) from None
    return index


def _previous_data_file(index_file: Path) -> Path | None:
    try:
        name = json.loads(index_file.read_text(encoding="utf-8"))["data_file"]
    except (OSError, ValueError, KeyError):
        return None
    return index_file.parent / os.path.basename(name)
