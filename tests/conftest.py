"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

# Two pytest workers share two cores: one thread each (also in the processes tests start),
# or OpenMP threads spin against each other and small ops get orders of magnitude slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pytest

PHOENIX_TEXT_DIR = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "phoenix14t-text"
)


@pytest.fixture
def phoenix_text_dir() -> Path:
    """The real Phoenix14T text (../shared/data/phoenix14t-text); skips when absent."""
    if not PHOENIX_TEXT_DIR.is_dir():
        pytest.skip(f"real Phoenix14T text not found at {PHOENIX_TEXT_DIR}")
    return PHOENIX_TEXT_DIR


# ---- tiny corpora for the data tests, written inside each test's tmp_path ----------------


def clip_frames(num_frames: int, height: int = 16, width: int = 16, seed: int = 0) -> np.ndarray:
    """uint8 (T, H, W, 3) whose frame t is filled with value 8 * t (+ a per-clip tint)."""
    tint = np.random.default_rng(seed).integers(0, 8, size=3)
    values = (8 * np.arange(num_frames)[:, None] + tint[None, :]) % 256  # (T, 3)
    return np.broadcast_to(values[:, None, None, :], (num_frames, height, width, 3)).astype(
        np.uint8
    )


def write_png_frames(folder: Path, frames: np.ndarray, pattern: str = "images{:04d}.png") -> None:
    """Write (T, H, W, 3) uint8 frames as PNG files numbered from 1."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(frames, start=1):
        Image.fromarray(frame).save(folder / pattern.format(t))


def write_video(path: Path, frames: np.ndarray, codec: str = "mpeg4", fps: int = 25) -> None:
    """Encode (T, H, W, 3) uint8 frames (even H, W) into a video file with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"qscale": "1"} if codec == "mpeg4" else {}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


PHOENIX_TEXTS = [
    "am tag wechseln sonne und wolken .",
    "morgen regnet es im norden .",
    "im süden bleibt es freundlich .",
    "der wind weht schwach bis mäßig .",
]
CSL_TEXTS = ["他 是 谁 ？", "今 天 天 气 很 好 。", "我 想 喝 水 。"]


def make_phoenix_corpus(
    root: Path, counts: dict[str, int] | None = None, num_frames: int = 9
) -> Path:
    """A Phoenix14T-layout corpus: corpus CSVs + PNG frame folders (lengths 9, 10, 11, ...)."""
    counts = counts or {"train": 4, "dev": 2, "test": 2}
    header = "name|video|start|end|speaker|orth|translation"
    for split, count in counts.items():
        lines = [header]
        for i in range(count):
            name = f"{split}_video_{i}"
            write_png_frames(
                root / "features" / "fullFrame-210x260px" / split / name,
                clip_frames(num_frames + i, seed=i),
            )
            text = PHOENIX_TEXTS[i % len(PHOENIX_TEXTS)]
            lines.append(f"{name}|{name}/1/*.png|-1|-1|Signer0{i % 3 + 1}|GLOSS A|{text}")
        corpus = root / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv"
        corpus.parent.mkdir(parents=True, exist_ok=True)
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def make_csl_daily_corpus(root: Path) -> Path:
    """A CSL-Daily-layout sample: video_map.txt, split_1.txt and JPG frame folders."""
    labels = root / "sentence_label"
    labels.mkdir(parents=True)
    video_map = ["index|name|length|gloss|char|word|postag"]
    split_lines = ["name|split"]
    for i, (text, split) in enumerate(zip(CSL_TEXTS, ["train", "train", "dev"], strict=True)):
        name = f"S{i:06d}_P{i + 1:04d}_T00"
        frames = clip_frames(6 + i, seed=i)
        write_png_frames(root / "sentence" / "frames_512x512" / name, frames, "{:06d}.jpg")
        chars = text.split()
        video_map.append(f"{i}|{name}|{len(frames)}|X Y|{text}|{' '.join(chars)}|n v")
        split_lines.append(f"{name}|{split}")
    (labels / "video_map.txt").write_text("\n".join(video_map) + "\n", encoding="utf-8")
    (labels / "split_1.txt").write_text("\n".join(split_lines) + "\n", encoding="utf-8")
    return root


def make_video_manifest(root: Path, suffix: str = ".csv") -> Path:
    """MP4 clips + a manifest (CSV or JSONL) with video, text, signer and split columns."""
    import json

    rows = []
    for i, split in enumerate(["train", "train", "train", "dev"]):
        video = f"videos/clip{i}.mp4"
        write_video(root / video, clip_frames(8 + 2 * i, seed=i))
        rows.append(
            {
                "id": f"clip{i}",
                "video": video,
                "text": PHOENIX_TEXTS[i],
                "signer": f"s{i % 2}",
                "split": split,
            }
        )
    path = root / f"manifest{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        lines = ["id,video,text,signer,split"]
        lines += [f'{r["id"]},{r["video"]},"{r["text"]}",{r["signer"]},{r["split"]}' for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---- a tiny SynthSign corpus and stand-in LM for the training tests (built once) -----------


@pytest.fixture(scope="session")
def tiny_synth_corpus(tmp_path_factory) -> Path:
    """SynthSign `small`, 8 sentences per split, 64x64 frames."""
    from sign2gpt.synth.generate import SynthConfig, generate_corpus

    root = tmp_path_factory.mktemp("synthsign") / "corpus"
    generate_corpus(SynthConfig(size="small", seed=3, limit=8), root, workers=1)
    return root


def train_texts(corpus: Path) -> list[str]:
    """The translations of a Phoenix-layout corpus' train split."""
    table = corpus / "annotations" / "manual" / "PHOENIX-2014-T.train.corpus.csv"
    return [line.split("|")[-1] for line in table.read_text(encoding="utf-8").splitlines()[1:]]


@pytest.fixture(scope="session")
def tiny_lm(tiny_synth_corpus, tmp_path_factory) -> Path:
    """A tiny stand-in XGLM + tokenizer trained for one epoch on the corpus' train text."""
    import dataclasses

    from sign2gpt.models.config import tiny_config
    from sign2gpt.synthbench.language_model import LMTraining, train_language_model

    texts = train_texts(tiny_synth_corpus)
    folder = tmp_path_factory.mktemp("lm")
    decoder = dataclasses.replace(tiny_config().decoder, vocab_size=TINY_VOCAB)
    train_language_model(texts, decoder, folder, LMTraining(epochs=1), progress=False)
    return folder


TINY_VOCAB = 300


@pytest.fixture
def tiny_run_config():
    """The function that writes tiny-model run configs (see `write_tiny_run_config`)."""
    return write_tiny_run_config


def write_tiny_run_config(
    path: Path, stage: str, corpus: Path, runs: Path, lm: Path | None = None, **train
) -> Path:
    """Write a tiny-model run config for `stage` ("pretrain" or "translate", with `lm`)."""
    import json

    import yaml

    config = {
        "name": f"tiny-{stage}",
        "out_dir": str(runs),
        "model": {"preset": "tiny", "stage": stage, "spatial": {"chunk_size": 512}},
        "data": {
            "root": str(corpus),
            "extra_splits": ["test_unseen_signer"],
            "resize": 32,
            "crop": 28,
            "batch_size": 4,
            "num_workers": 0,
        },
        "text": {"lang": "de"},
        "train": {
            "epochs": 2,
            "precision": "32-true",
            "accelerator": "cpu",
            "warmup_epochs": 0.5,
            "num_beams": 2,
            "max_new_tokens": 6,
            "bleu_every": 1,
            **train,
        },
    }
    if stage == "translate":
        vocab = json.loads((lm / "config.json").read_text())["vocab_size"]
        config["model"]["decoder"] = {"vocab_size": vocab, "pretrained": str(lm)}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


# ---- the LM families, at the tiny preset's sizes ---------------------------------------------

LM_FAMILIES = ["xglm", "llama", "qwen2"]


def tiny_model_config(stage: str = "translate", family: str = "xglm"):
    """The tiny preset with decoder `family`; the rotary families get grouped-query attention
    (2 key/value heads for 4 query heads) so that path runs too."""
    import dataclasses

    from sign2gpt.models.config import tiny_config

    cfg = tiny_config(stage)
    if family != "xglm":
        cfg.decoder = dataclasses.replace(cfg.decoder, family=family, num_kv_heads=2)
    return cfg


def assert_gates_closed_parity(ours, reference, vocab: int, sign_dim: int) -> None:
    """`ours` (fresh adapters) gives the logits of `transformers`' `reference` to 1e-5, with
    and without sign features: gates at 0 and LoRA B at 0 change nothing yet."""
    import torch

    input_ids = torch.randint(3, vocab, (2, 9))
    signs = torch.randn(2, 5, sign_dim)
    sign_mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    with torch.no_grad():
        expected = reference(input_ids=input_ids).logits
        plain = ours(input_ids)
        conditioned = ours(input_ids, None, signs, sign_mask)
    torch.testing.assert_close(plain, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(conditioned, expected, atol=1e-5, rtol=0)


# ---- a demo-sized model (configs/synth-small, one epoch per stage on the tiny corpus) ------

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "synth-small"


@pytest.fixture(scope="module")  # per module: tests may move or delete its files
def demo_model(tiny_synth_corpus, tmp_path_factory):
    """The demo's recipe at the demo's model size, one epoch per step, on the tiny corpus."""
    from sign2gpt.run_config import load_run_config
    from sign2gpt.synthbench.language_model import LMTraining, train_language_model
    from sign2gpt.synthbench.visual_backbone import ViTTraining, train_visual_backbone
    from sign2gpt.train.run import start_run, train_stage

    work = tmp_path_factory.mktemp("demo-model")
    vit, lm = work / "stand-in-vit.safetensors", work / "lm"
    common = [
        f"data.root={tiny_synth_corpus}", f"out_dir={work / 'runs'}", "data.batch_size=4",
        f"model.spatial.pretrained={vit}", "train.epochs=1", "train.validate_every=1",
        "train.bleu_every=1", "train.num_beams=2", "train.max_new_tokens=6",
    ]  # fmt: skip
    stage1_cfg = load_run_config(CONFIGS / "pretrain.yaml", common)
    train_visual_backbone(
        stage1_cfg.data, stage1_cfg.model.spatial.vit, vit, ViTTraining(epochs=1), progress=False
    )
    stage1_run = start_run(stage1_cfg)
    train_stage(stage1_cfg, stage1_run)
    texts = train_texts(tiny_synth_corpus)
    decoder = load_run_config(CONFIGS / "translate.yaml", common).model.decoder
    lm_cfg = train_language_model(texts, decoder, lm, LMTraining(epochs=1), progress=False)
    stage2_cfg = load_run_config(
        CONFIGS / "translate.yaml",
        [*common, f"init={stage1_run.checkpoint('best')}", f"model.decoder.pretrained={lm}",
         f"model.decoder.vocab_size={lm_cfg.vocab_size}"],
    )  # fmt: skip
    stage2_run = start_run(stage2_cfg)
    train_stage(stage2_cfg, stage2_run)
    return work, stage2_run.checkpoint("best")
