"""Per-part pose encoder: MLP or graph convolution? Measured on real recordings.

The 56 German and American fingerspelled letters of `spoken-to-signed` (real MediaPipe
Holistic recordings, a dev dependency) are a 56-way classification: each letter's clip
is shown in training only through random draws of the training augmentation plus
estimator-like noise (joint jitter, missed hands), and tested on other, harsher draws
(twice the jitter, 25% instead of 10% missed hands), so the score says how well each encoder reads a
hand under estimator noise. Per frame: the `spatial.kind: pose` backbone (`mlp` or `gcn`),
mean-pooled over the clip, then a linear classifier. Same optimiser, steps and seed for both.
Writes bench/results/pose_encoder.{json,md}.

    python bench/pose_encoder.py            # 150 steps of 16 clips per encoder
    python bench/pose_encoder.py --quick    # 80 steps
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from common import machine_info, markdown_table, save_results
from sign2gpt.data import DataConfig
from sign2gpt.data.keypoints import PARTS, read_keypoints
from sign2gpt.data.keypoints.transform import PoseTransform
from sign2gpt.models.config import PoseEncoderConfig, SpatialConfig
from sign2gpt.models.pose import PoseBackbone

LANGUAGES = ("gsg", "ase")  # German and American fingerspelling
BATCH = 16  # clips per step
DRAWS = 4  # test draws of every letter


def lexicon() -> Path:
    import spoken_to_signed

    return Path(spoken_to_signed.__file__).parent / "assets" / "fingerspelling_lexicon"


def load_letters() -> tuple[torch.Tensor, torch.Tensor]:
    """All letters as one padded batch: joints (N, T, 126, 3) in pixels and mask (N, T)."""
    root = lexicon()
    with (root / "index.csv").open(encoding="utf-8") as f:
        paths = sorted({r["path"] for r in csv.DictReader(f) if r["path"].split("/")[0]
                        in LANGUAGES})  # fmt: skip
    # Every 2nd frame, as `data.frame_stride: 2` would keep (30 fps recordings -> 15 fps).
    clips = [torch.from_numpy(read_keypoints(root / p).stacked()[::2]) for p in paths]
    length = max(len(c) for c in clips)
    joints = torch.zeros(len(clips), length, *clips[0].shape[1:])
    mask = torch.zeros(len(clips), length, dtype=torch.bool)
    for i, clip in enumerate(clips):
        joints[i, : len(clip)], mask[i, : len(clip)] = clip, True
    return joints, mask


def estimator_noise(joints: torch.Tensor, jitter: float, missed_hand: float,
                    generator: torch.Generator) -> torch.Tensor:  # fmt: skip
    """Gaussian jitter (shoulder widths) on detected joints; each hand missed per frame."""
    seen = joints[..., 2:] > 0
    noise = torch.randn(joints[..., :2].shape, generator=generator) * jitter
    out = torch.cat([joints[..., :2] + noise * seen, joints[..., 2:]], -1)
    for hand in (PARTS["left_hand"], PARTS["right_hand"]):
        keep = torch.rand(*joints.shape[:2], 1, 1, generator=generator) >= missed_hand
        out[:, :, hand] = out[:, :, hand] * keep
    return out


class Classifier(torch.nn.Module):
    def __init__(self, encoder: str, classes: int):
        super().__init__()
        cfg = SpatialConfig(kind="pose", pose=PoseEncoderConfig(encoder=encoder), out_dim=256)
        self.backbone = PoseBackbone(cfg)
        self.head = torch.nn.Linear(256, classes)

    def forward(self, joints: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        features = self.backbone.encode_video(joints, mask)  # (B, T, D)
        pooled = features.sum(1) / mask.sum(1, keepdim=True)
        return self.head(pooled)


def measure(encoder: str, joints, mask, steps: int, seed: int) -> dict:
    torch.manual_seed(seed)
    data = DataConfig(root="unused")
    train_tf, eval_tf = PoseTransform(data, train=True), PoseTransform(data, train=False)
    labels = torch.arange(len(joints))
    model = Classifier(encoder, len(joints))
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    generator = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    model.train()
    for _ in range(steps):
        batch = torch.randperm(len(joints), generator=generator)[:BATCH]
        x = estimator_noise(train_tf(joints[batch], mask[batch], generator), 0.03, 0.1,
                            generator)  # fmt: skip
        loss = F.cross_entropy(model(x, mask[batch]), labels[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    train_seconds = time.perf_counter() - started
    model.eval()
    test = torch.Generator().manual_seed(seed + 1000)
    correct = total = 0
    with torch.no_grad():
        for _ in range(DRAWS):  # harsher draws of every letter
            x = estimator_noise(train_tf(joints, mask, test), 0.06, 0.25, test)
            correct += int((model(x, mask).argmax(1) == labels).sum())
            total += len(labels)
        clean = float((model(eval_tf(joints, mask), mask).argmax(1) == labels).float().mean())
        frames = joints[mask][:512]
        started = time.perf_counter()
        model.backbone(eval_tf(frames[None], torch.ones(1, len(frames), dtype=torch.bool))[0])
        per_frame_us = (time.perf_counter() - started) / len(frames) * 1e6
    params = sum(p.numel() for p in model.backbone.parameters())
    return {
        "encoder": encoder, "params": params, "clean_accuracy": round(clean, 3),
        "noisy_accuracy": round(correct / total, 3), "train_seconds": round(train_seconds, 1),
        "forward_us_per_frame": round(per_frame_us, 1), "final_loss": round(loss.item(), 3),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="80 steps, one seed")
    args = parser.parse_args()
    steps, seeds = (80, 1) if args.quick else (args.steps, args.seeds)
    torch.set_num_threads(1)  # the benchmark machine is shared; 1 thread avoids spinning
    joints, mask = load_letters()
    rows = [measure(enc, joints, mask, steps, seed) for seed in range(seeds)
            for enc in ("mlp", "gcn")]  # fmt: skip
    columns = ["encoder", "params", "clean_accuracy", "noisy_accuracy", "train_seconds",
               "forward_us_per_frame", "final_loss"]  # fmt: skip
    table = markdown_table(rows, columns)
    results = {"machine": machine_info("cpu"), "letters": len(joints), "steps": steps,
               "seeds": seeds, "rows": rows}  # fmt: skip
    save_results("pose_encoder", results, table,
                 title=f"Pose encoder: {len(joints)} real letters, {steps} steps per run")
    print(table)


if __name__ == "__main__":
    main()
