"""SynthSign corpus on disk: Phoenix14T layout, timings, unseen signer, determinism, sources."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sign2gpt.cli import main
from sign2gpt.errors import DataError
from sign2gpt.synth.generate import SynthConfig, generate_corpus, load_sentences
from sign2gpt.synth.sources import read_phoenix_text

SPLITS = ("train", "dev", "test", "test_unseen_signer")
HEADER = ["name", "video", "start", "end", "speaker", "orth", "translation"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A tiny `small` corpus (3 sentences per split), made through the CLI."""
    out = tmp_path_factory.mktemp("synth") / "corpus"
    code = main(["synth", "--size", "small", "--limit", "3", "--seed", "5", "--workers", "1",
                 "--out", str(out)])
    assert code == 0
    return out


def read_csv(root: Path, split: str) -> list[dict[str, str]]:
    path = root / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.read().splitlines()
    assert lines[0].split("|") == HEADER
    assert all(len(line.split("|")) == len(HEADER) for line in lines)
    return list(csv.DictReader(lines, delimiter="|", quoting=csv.QUOTE_NONE))


def tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_phoenix_layout_frames_and_timings(corpus: Path):
    for split in SPLITS:
        rows = read_csv(corpus, split)
        timings = json.loads((corpus / "timings" / f"{split}.json").read_text(encoding="utf-8"))
        keypoints = np.load(corpus / "keypoints" / f"{split}.npy")
        index = json.loads((corpus / "keypoints" / f"{split}.json").read_text(encoding="utf-8"))
        assert len(rows) == 3 and set(timings) == {r["name"] for r in rows}
        for row in rows:
            name = row["name"]
            assert (row["video"], row["start"], row["end"]) == (f"{name}/1/*.png", "-1", "-1")
            folder = corpus / "features" / "fullFrame-210x260px" / split / name
            files = sorted(p.name for p in folder.iterdir())
            assert files == [f"images{i:04d}.png" for i in range(1, len(files) + 1)]
            first = np.asarray(Image.open(folder / files[0]))
            assert first.shape == (64, 64, 3) and first.dtype == np.uint8
            signs = timings[name]
            assert [s["gloss"] for s in signs] == row["orth"].split()
            assert signs[0]["start"] > 0 and signs[-1]["end"] < len(files) - 1  # rest at the ends
            for sign, following in zip(signs, [*signs[1:], None], strict=True):
                assert 0 <= sign["start"] <= sign["end"] < len(files)
                assert following is None or sign["end"] < following["start"]
            offset, count = index["videos"][name]
            assert count == len(files) and offset + count <= len(keypoints)
        assert keypoints.shape[1:] == (len(index["joints"]), 2)
    meta = json.loads((corpus / "synthsign.json").read_text(encoding="utf-8"))
    assert meta["config"]["seed"] == 5 and meta["fps"] == 25
    assert "| train | 3 |" in (corpus / "README.md").read_text(encoding="utf-8")


def test_unseen_signer_only_in_its_own_split(corpus: Path):
    speakers = {split: {r["speaker"] for r in read_csv(corpus, split)} for split in SPLITS}
    assert speakers["test_unseen_signer"] == {"Signer09"}
    for split in ("train", "dev", "test"):
        assert "Signer09" not in speakers[split]
        assert speakers[split] <= {f"Signer0{i}" for i in range(1, 9)}
    test = [(r["orth"], r["translation"]) for r in read_csv(corpus, "test")]
    assert [(r["orth"], r["translation"]) for r in read_csv(corpus, "test_unseen_signer")] == test


def test_same_seed_gives_byte_identical_output_with_any_worker_count(corpus: Path, tmp_path):
    again = generate_corpus(SynthConfig(size="small", limit=3, seed=5), tmp_path / "again",
                            workers=2, progress=False)
    assert again["splits"]["train"]["videos"] == 3
    assert tree_hashes(tmp_path / "again") == tree_hashes(corpus)
    other = tmp_path / "other"
    generate_corpus(SynthConfig(size="small", limit=1, seed=6), other, workers=1, progress=False)
    frame = Path("features/fullFrame-210x260px/train/train_00000/images0001.png")
    assert (other / frame).read_bytes() != (corpus / frame).read_bytes()


def test_refuses_to_overwrite_what_is_not_a_corpus(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    cfg = SynthConfig(size="small", limit=1)
    with pytest.raises(DataError, match="already exists"):
        generate_corpus(cfg, tmp_path / "mine", workers=1, progress=False)
    with pytest.raises(DataError, match="not a SynthSign corpus"):
        generate_corpus(cfg, tmp_path / "mine", workers=1, progress=False, force=True)
    assert (tmp_path / "mine" / "notes.txt").exists()


def test_reads_phoenix_annotation_csvs(corpus: Path):
    splits = read_phoenix_text(corpus)  # finds annotations/manual/PHOENIX-2014-T.*.corpus.csv
    rows = read_csv(corpus, "dev")
    assert [" ".join(s.glosses) for s in splits["dev"]] == [r["orth"] for r in rows]
    assert [s.text for s in splits["dev"]] == [r["translation"] for r in rows]
    with pytest.raises(DataError, match="found neither"):
        read_phoenix_text(corpus / "timings")


def test_full_reads_the_real_phoenix_text(phoenix_text_dir: Path):
    splits, vocabulary, _ = load_sentences(SynthConfig(size="full"), phoenix_text_dir)
    assert {k: len(v) for k, v in splits.items()} == {"train": 7096, "dev": 519, "test": 642}
    assert len(vocabulary) > 1000 and splits["train"][0].text.endswith(".")


def test_demo_rebuilds_a_frame_cache_made_for_other_settings(corpus: Path, tmp_path):
    from sign2gpt.data.cache import FrameCache
    from sign2gpt.data.readers import read_split
    from sign2gpt.run_config import load_run_config
    from sign2gpt.synthbench.demo import cache_frames

    config = Path(__file__).resolve().parents[1] / "configs" / "synth-small" / "pretrain.yaml"

    def settings(resize: int):
        return load_run_config(config, [f"data.root={corpus}", f"data.cache_dir={tmp_path}",
                                        f"data.resize={resize}", "data.crop=28"])

    cache_frames(settings(32))
    cfg = settings(64)
    records = read_split(cfg.data, "train").records
    assert FrameCache.open(cfg.data, "train", records) is None  # built at 32, not usable at 64
    cache_frames(cfg)
    cache = FrameCache.open(cfg.data, "train", records)
    assert cache is not None and all(r.id in cache for r in records)


def test_cues_give_each_sign_its_recipe_hand_shape_and_face(corpus: Path):
    from sign2gpt.synth.recipes import CUES, FACE_CUES, HAND_SHAPES

    meta = json.loads((corpus / "synthsign.json").read_text(encoding="utf-8"))
    for split in SPLITS:
        index = json.loads((corpus / "keypoints" / f"{split}.json").read_text(encoding="utf-8"))
        cues = np.load(corpus / "keypoints" / f"{split}.cues.npy")
        timings = json.loads((corpus / "timings" / f"{split}.json").read_text(encoding="utf-8"))
        assert index["cues"] == {name: len(classes) for name, classes in CUES.items()}
        assert cues.shape == (len(np.load(corpus / "keypoints" / f"{split}.npy")), 3)
        for name, (offset, _) in index["videos"].items():
            for sign in timings[name]:
                recipe = meta["recipes"][sign["gloss"]]
                middle = cues[offset + (sign["start"] + sign["end"]) // 2]
                assert HAND_SHAPES[middle[0]] == recipe["hand_shape"]
                assert FACE_CUES[middle[2]] == recipe["face"]


def test_stand_in_vit_learns_joints_and_cues_and_loads_as_dinov2(corpus: Path, tmp_path):
    import shutil

    from sign2gpt.models.config import ViTConfig
    from sign2gpt.models.vit import VisionTransformer
    from sign2gpt.models.weights import load_dinov2
    from sign2gpt.run_config import load_run_config
    from sign2gpt.synthbench.visual_backbone import ViTTraining, pose_frames, train_visual_backbone

    config = Path(__file__).resolve().parents[1] / "configs" / "synth-small" / "pretrain.yaml"
    data = load_run_config(config, [f"data.root={corpus}", "data.resize=32", "data.crop=28"]).data
    frames, targets = pose_frames(data, "train")
    assert targets.classes == [12, 12, 6] and targets.cues.shape == (len(frames), 3)
    vit_cfg = ViTConfig(pos_embed_size=28, dim=32, depth=1, num_heads=2)
    settings = ViTTraining(epochs=2, batch_size=32)
    losses = train_visual_backbone(data, vit_cfg, tmp_path / "vit.safetensors", settings, False)
    assert losses["last_loss"] < losses["first_loss"]
    load_dinov2(VisionTransformer(vit_cfg), tmp_path / "vit.safetensors")
    # A corpus written before the cue files existed still trains, on the joints alone.
    old = tmp_path / "old"
    shutil.copytree(corpus, old)
    for path in (old / "keypoints").glob("*.cues.npy"):
        path.unlink()
    old_data = load_run_config(config, [f"data.root={old}", "data.resize=32", "data.crop=28"]).data
    assert pose_frames(old_data, "train")[1].cues is None
    train_visual_backbone(old_data, vit_cfg, tmp_path / "old.safetensors", settings, False)


def test_recolour_changes_the_palette_of_the_share_asked_and_keeps_the_picture():
    import torch

    from sign2gpt.synthbench.visual_backbone import recolour

    frames = torch.randint(0, 256, (400, 8, 8, 3), dtype=torch.uint8)
    out = recolour(frames, 0.8, torch.Generator().manual_seed(0))
    changed = (out != frames).flatten(1).any(1)
    assert out.dtype == torch.uint8 and out.shape == frames.shape
    assert 0.7 < changed.float().mean().item() < 0.9
    assert torch.equal(out[~changed], frames[~changed])
    # Each channel of a recoloured frame is an affine map of one input channel (the shape stays).
    x, y = frames[changed][0].float().flatten(0, 1), out[changed][0].float().flatten(0, 1)
    inside = ((y > 0) & (y < 255)).all(1)  # away from clipping
    best = [max(abs(torch.corrcoef(torch.stack([y[inside, c], x[inside, k]]))[0, 1].item())
                for k in range(3)) for c in range(3)]  # fmt: skip
    assert min(best) > 0.99
    assert torch.equal(recolour(frames, 0.0, torch.Generator().manual_seed(0)), frames)


def test_demo_examples_are_drawn_at_random_with_the_seed(tmp_path):
    from sign2gpt.synthbench.demo import examples

    files = {}
    for key, prefix in (("ids", "v"), ("hypotheses", "h"), ("references", "r")):
        files[key] = tmp_path / key
        files[key].write_text("".join(f"{prefix}{i}\n" for i in range(50)), encoding="utf-8")
    result = {"files": {k: str(v) for k, v in files.items()}}
    picked = examples(result, 3, seed=0)
    assert [e["video"] for e in picked] != ["v0", "v1", "v2"]
    assert all(e["translation"] == "h" + e["video"][1:] for e in picked)
    assert examples(result, 3, seed=0) == picked and examples(result, 3, seed=1) != picked
