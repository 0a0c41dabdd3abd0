"""ResNet18 in plain torch, with torchvision's parameter names (the paper's backbone ablation).

The names match torchvision's ImageNet file (`resnet18-f37072fd.pth`: `conv1`, `bn1`,
`layer1.0.conv1`, ..., `layer2.0.downsample.0`), so that file loads as it is; its `fc` head is
left out (we keep the 512-d pooled features).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

# The ImageNet head torchvision's file has and we drop.
HEAD_KEYS = ("fc.weight", "fc.bias")


class BasicBlock(nn.Module):
    """Two 3x3 conv + BatchNorm layers with a residual (a 1x1 conv + BN when the shape changes)."""

    def __init__(self, in_channels: int, channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Sequential | None = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class ResNet18(nn.Module):
    """Images (N, 3, S, S) -> globally average-pooled features (N, 512)."""

    out_dim = 512

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = (64, 128, 256, 512)
        for i, width in enumerate(widths):
            in_channels = widths[max(i - 1, 0)]
            stride = 1 if i == 0 else 2
            blocks = BasicBlock(in_channels, width, stride), BasicBlock(width, width, 1)
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        for module in self.modules():  # torchvision's init
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x.mean(dim=(2, 3))


def load_resnet18(net: ResNet18, path: str | Path) -> None:
    """Load torchvision's ImageNet ResNet18 weights (.pth, weights only, or .safetensors).

    The `fc` head is dropped; `num_batches_tracked` (absent from older files) may be missing.
    """
    from sign2gpt.models.weights import load_frozen_weights, read_weights

    load_frozen_weights(
        net, read_weights(path), path, ignore=HEAD_KEYS,
        may_be_missing=lambda name: name.endswith("num_batches_tracked"),
    )  # fmt: skip
