"""`model.spatial.kind: pose` end to end: the pose model's shapes and counts, the keypoint
transform, and `pretrain`, `train`, `translate`, `localize` and `info` on a keypoint corpus."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import yaml

from conftest import write_tiny_run_config
from pose_helpers import keypoint_clip, make_keypoint_manifest
from sign2gpt.cli import main
from sign2gpt.data import DataConfig
from sign2gpt.data.keypoints.transform import PoseTransform, normalise_clips
from sign2gpt.errors import ConfigError
from sign2gpt.models.config import model_config_from_dict
from sign2gpt.models.sign2gpt import Sign2GPT


def _clips(batch: int = 2, frames: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    joints = torch.stack([torch.from_numpy(keypoint_clip(frames, seed=i)) for i in range(batch)])
    mask = torch.ones(batch, frames, dtype=torch.bool)
    mask[1, 4:] = False
    joints[1, 4:] = 0
    return joints, mask


def test_normalisation_centres_on_the_shoulders_in_shoulder_widths():
    joints, mask = _clips()
    out = normalise_clips(joints, mask)
    # keypoint_clip puts the shoulders (moving +-10 px) around (250, 150) and (150, 150).
    mid = (out[0, :, 11, :2] + out[0, :, 12, :2]).mean(0) / 2
    assert mid.abs().max() < 1e-5
    width = (out[0, :, 11, :2] - out[0, :, 12, :2]).norm(dim=-1).mean()
    assert math.isclose(width.item(), 1.0, rel_tol=1e-5)
    # Moving and resizing the signer in the picture changes nothing.
    moved = joints.clone()
    moved[..., :2] = moved[..., :2] * 2.5 + 40
    torch.testing.assert_close(normalise_clips(moved * mask[..., None, None], mask), out)
    assert (out[1, 4:] == 0).all()


def test_training_augmentation_moves_joints_and_evaluation_does_not():
    joints, mask = _clips()
    cfg = DataConfig(root="x")
    evaluation = PoseTransform(cfg, train=False)(joints, mask)
    torch.testing.assert_close(evaluation, normalise_clips(joints, mask))
    generator = torch.Generator().manual_seed(0)
    trained = PoseTransform(cfg, train=True)(joints, mask, generator)
    assert trained.shape == joints.shape and not torch.allclose(trained, evaluation)
    assert (trained[1, 4:] == 0).all(), "padding stays zero"
    dropped = (trained[..., 2] == 0) & mask[..., None]
    assert dropped.any(), "joint / hand dropout removes some joints"
    assert (trained[..., :2][dropped] == 0).all()
    with pytest.raises(ConfigError, match="gives video frames"):
        PoseTransform(cfg, train=False)(torch.zeros(1, 2, 8, 8, 3, dtype=torch.uint8), mask[:1, :2])


@pytest.mark.parametrize("encoder", ["mlp", "gcn"])
def test_pose_model_encodes_joints_and_counts_its_parts(encoder):
    cfg = model_config_from_dict({"preset": "tiny", "stage": "pretrain", "spatial": {
        "kind": "pose", "pose": {"encoder": encoder, "hidden_dim": 32, "part_dim": 16}}})
    model = Sign2GPT(cfg, num_glosses=5)
    joints, mask = _clips()
    features, feature_mask = model.encode(normalise_clips(joints, mask), mask)
    assert features.shape == (2, 3, 32) and feature_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    counts = model.parameter_counts()["spatial"]
    assert counts["params"] == counts["trainable"] > 0
    assert not any("vit" in name for name, _ in model.named_parameters())


def _keypoint_corpus(synth: Path, root: Path) -> Path:
    """The tiny SynthSign sentences as a manifest corpus of random keypoint clips."""
    texts = {}
    for split in ("train", "dev", "test"):
        csv = synth / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv"
        texts[split] = [line.split("|")[-1] for line in csv.read_text().splitlines()[1:]]
    return make_keypoint_manifest(root, texts)


def _pose_config(path: Path, stage: str, corpus: Path, runs: Path, lm: Path | None = None):
    write_tiny_run_config(path, stage, corpus, runs, lm)
    config = yaml.safe_load(path.read_text())
    config["model"]["spatial"] = {"kind": "pose", "pose": {"hidden_dim": 32, "part_dim": 16}}
    config["data"] = {**config["data"], "format": "manifest", "manifest": "manifest.csv",
                      "extra_splits": []}  # fmt: skip
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_pretrain_train_translate_localize_and_info_with_kind_pose(
    tiny_synth_corpus, tiny_lm, tmp_path, capsys
):
    corpus = _keypoint_corpus(tiny_synth_corpus, tmp_path / "corpus")
    runs = tmp_path / "runs"
    pre = _pose_config(tmp_path / "pre.yaml", "pretrain", corpus, runs)
    assert main(["info", "-c", str(pre), "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert 0 < counts["spatial"]["params"] == counts["spatial"]["trainable"]
    assert main(["pretrain", "-c", str(pre), "train.epochs=1"]) == 0
    (stage1,) = runs.glob("tiny-pretrain*")
    tr = _pose_config(tmp_path / "tr.yaml", "translate", corpus, runs, tiny_lm)
    init = stage1 / "checkpoints" / "best.safetensors"
    assert main(["train", "-c", str(tr), "--init", str(init), "train.epochs=1"]) == 0
    (stage2,) = runs.glob("tiny-translate*")
    best = stage2 / "checkpoints" / "best.safetensors"
    capsys.readouterr()
    poses = corpus / "poses"
    code = main(["translate", "--checkpoint", str(best), str(poses), "--json", "--beams", "1",
                 "--max-new-tokens", "3"])  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(lines) == len(list(poses.glob("*.npz")))
    figure = tmp_path / "loc.png"
    clip = poses / "test_0.npz"
    assert main(["localize", "--checkpoint", str(best), str(clip), "--out", str(figure)]) == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_keypoint_file_gives_its_own_frame_rate(tmp_path):
    import numpy as np

    from sign2gpt.data.frames import FRAME_FOLDER_FPS
    from sign2gpt.data.sources import frame_rate

    clip = keypoint_clip(6)
    np.savez(tmp_path / "fifty.npz", keypoints=clip, fps=np.float32(50.0))
    np.savez(tmp_path / "unknown.npz", keypoints=clip)
    assert frame_rate(tmp_path / "fifty.npz") == 50.0
    assert frame_rate(tmp_path / "unknown.npz") == FRAME_FOLDER_FPS
