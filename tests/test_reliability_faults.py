"""A writer killed part way leaves the previous artefact intact: checkpoints, vocabularies,
tokenizers, prototypes, frame caches (results: tests/test_config_io.py).

Each writer runs in a child process whose `os.fsync` stops it at the chosen file: by then the
new bytes are on disk, in a temporary file, and the rename has not happened. The parent kills
the child with SIGKILL there and checks that the old file still loads with its old content.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml

from conftest import clip_frames, write_png_frames
from sign2gpt.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from sign2gpt.cli import main
from sign2gpt.data import DataConfig
from sign2gpt.data.cache import FrameCache, index_path, write_cache
from sign2gpt.data.readers import read_split
from sign2gpt.models.tokenizer import TextTokenizer
from sign2gpt.text import PseudoGlossVocab, load_prototypes, save_prototypes


def _stop_at_fsync(ready: Path, stop_at: int, write: Callable[[], None]) -> None:
    """Child: run `write`, but freeze (until killed) at its `stop_at`-th fsync (0-based)."""
    calls = iter(range(1_000_000))
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if next(calls) == stop_at:
            ready.touch()
            time.sleep(60)
        real_fsync(fd)

    os.fsync = fsync
    write()


def kill_part_way(tmp_path: Path, write: Callable[[], None], stop_at: int = 0) -> None:
    """Run `write` in a forked child and SIGKILL it once its `stop_at`-th file is written."""
    ready = tmp_path / "child-ready"
    ready.unlink(missing_ok=True)
    child = multiprocessing.get_context("fork").Process(
        target=_stop_at_fsync, args=(ready, stop_at, write)
    )
    child.start()
    deadline = time.time() + 30
    while not ready.exists() and child.is_alive() and time.time() < deadline:
        time.sleep(0.02)
    assert ready.exists(), "the writer never reached the chosen write"
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert child.exitcode == -signal.SIGKILL


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every non-temporary file of `folder`, by name."""
    return {
        p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.suffix != ".tmp"
    }


def leftover_temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".") and p.suffix == ".tmp"]


def test_killed_checkpoint_writer_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "checkpoints" / "last.safetensors"
    save_checkpoint(path, Checkpoint(model={"w": torch.full((4,), 1.0)}, meta={"step": 1}))
    before = snapshot(path.parent)
    new = Checkpoint(model={"w": torch.full((4,), 2.0)}, meta={"step": 2})
    kill_part_way(tmp_path, lambda: save_checkpoint(path, new))
    assert snapshot(path.parent) == before
    old = load_checkpoint(path)
    assert old.meta == {"step": 1} and old.model["w"].tolist() == [1.0] * 4
    # The new bytes were complete, but only in the temporary file: the rename never happened.
    assert len(leftover_temp_files(path.parent)) == 1


VOCABULARIES = {
    # name: (write the old files, write the new files, read what the folder holds)
    "pseudo-gloss vocab": (
        lambda d: PseudoGlossVocab(["alt"], [1], "de", "hanta").save(d),
        lambda d: PseudoGlossVocab(["neu", "wind"], [2, 1], "de", "hanta").save(d),
        lambda d: PseudoGlossVocab.load(d).words,
    ),
    "tokenizer": (
        lambda d: TextTokenizer.train(["alt alt"], 30).save(d),
        lambda d: TextTokenizer.train(["ganz neuer text"], 40).save(d),
        lambda d: TextTokenizer.load(d).vocab_size,
    ),
    "prototypes": (
        lambda d: save_prototypes(d, ["alt"], torch.ones(1, 3)),
        lambda d: save_prototypes(d, ["neu", "wind"], torch.zeros(2, 3)),
        lambda d: load_prototypes(d).tolist(),
    ),
}


@pytest.mark.parametrize("artefact", list(VOCABULARIES))
def test_killed_vocabulary_writer_keeps_the_previous_files(tmp_path, artefact):
    write_old, write_new, read = VOCABULARIES[artefact]
    folder = tmp_path / "out"
    write_old(folder)
    before, old_value = snapshot(folder), read(folder)
    kill_part_way(tmp_path, lambda: write_new(folder))
    assert snapshot(folder) == before
    assert read(folder) == old_value


@pytest.mark.parametrize("stop_at", [0, 1], ids=["frame data", "index"])
def test_killed_cache_writer_keeps_the_previous_cache(tmp_path, stop_at):
    root = tmp_path / "corpus"
    for i in range(2):
        write_png_frames(root / "frames" / f"v{i}", clip_frames(4 + i, seed=i))
    (root / "m.csv").write_text(
        "id,video,text,split\na,frames/v0,hallo,train\nb,frames/v1,welt,train\n", encoding="utf-8"
    )
    cfg = DataConfig(root=str(root), format="manifest", manifest="m.csv", resize=16, crop=12,
                     cache_dir=str(tmp_path / "cache"), num_workers=0)
    records = read_split(cfg, "train").records
    write_cache(cfg, "train", records[:1], progress=False)
    cache_dir = tmp_path / "cache"
    before = snapshot(cache_dir)
    kill_part_way(
        tmp_path, lambda: write_cache(cfg, "train", records, progress=False), stop_at
    )
    assert {k: v for k, v in snapshot(cache_dir).items() if k in before} == before
    cache = FrameCache.open(cfg, "train", records)
    assert "a" in cache and "b" not in cache  # still the old cache, and it reads
    assert torch.equal(
        torch.from_numpy(cache.read("a", torch.arange(4).numpy())),
        torch.from_numpy(clip_frames(4, seed=0)),
    )
    assert index_path(cfg, "train").read_bytes() == before["train.index.json"]


def test_cache_command_stopped_by_a_bad_frame_writes_nothing(tmp_path, capsys):
    root = tmp_path / "corpus"
    write_png_frames(root / "frames" / "v0", clip_frames(4))
    (root / "m.csv").write_text("video,text,split\nframes/v0,hallo,train\n", encoding="utf-8")
    data = dict(root=str(root), format="manifest", manifest="m.csv", resize=16, crop=12,
                cache_dir=str(tmp_path / "cache"), num_workers=0)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": data}), encoding="utf-8")
    assert main(["data", "cache", "--config", str(config), "--split", "train"]) == 0
    before = snapshot(tmp_path / "cache")
    (root / "frames" / "v0" / "images0002.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    capsys.readouterr()
    assert main(["data", "cache", "--config", str(config), "--split", "train"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "images0002.png: cannot decode image" in errors[0]
    assert snapshot(tmp_path / "cache") == before  # no half-written cache, old one intact
    assert not leftover_temp_files(tmp_path / "cache")
