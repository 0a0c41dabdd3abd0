"""Device names (`--device`, `train.accelerator`): checked up front, one line when unusable.

Accepted: `auto` (the first GPU when there is one, else the CPU), `cpu`, `cuda`, `cuda:N`,
`mps`, and `gpu` (Lightning Fabric's name for cuda). Names are checked without importing torch
(fast `--help`, checks before any work); availability is checked when the device is resolved.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sign2gpt.errors import ConfigError

if TYPE_CHECKING:
    import torch

DEVICE_NAMES = "auto, cpu, cuda, cuda:N or mps"
_DEVICE = re.compile(r"(auto|cpu|cuda|gpu|mps|cuda:\d+)")
CUDA_HELP = "install a CUDA build of torch (see docs/inference.md) or use --device cpu"


def check_device_name(name: str, where: str = "--device") -> str:
    """`name` itself when it is a device name we know, else a ConfigError naming `where`."""
    if not isinstance(name, str) or not _DEVICE.fullmatch(name):
        raise ConfigError(f"{where}: unknown device {name!r}; use {DEVICE_NAMES}")
    return name


def parse_device(name: str) -> torch.device:
    """The torch device a name means (no availability check): `auto` picks cuda when present."""
    import torch

    check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device("cuda" if name == "gpu" else name)


def resolve_device(name: str, where: str = "--device") -> torch.device:
    """The torch device for `name`, or a ConfigError in one line when this machine lacks it."""
    check_device_name(name, where)
    check_available(name, where)
    return parse_device(name)


def check_available(name: str, where: str = "--device") -> None:
    """Raise a one-line ConfigError when device `name` is not usable on this machine."""
    import torch

    kind, _, index = name.partition(":")
    if kind in ("cuda", "gpu"):
        if not torch.cuda.is_available():
            if torch.version.cuda is None:
                problem = f"this torch build ({torch.__version__}) has no CUDA support"
            else:
                problem = "no CUDA GPU is visible (torch.cuda.is_available() is False)"
            raise ConfigError(f"{where}: {name} asked, but {problem}; {CUDA_HELP}")
        count = torch.cuda.device_count()
        if index and int(index) >= count:
            raise ConfigError(
                f"{where}: {name} asked, but this machine has {count} GPU(s) "
                f"(cuda:0 to cuda:{count - 1})"
            )
    elif kind == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"{where}: mps asked, but this machine or torch build has no MPS")


def fabric_accelerator(name: str, devices: int) -> tuple[str, int | list[int]]:
    """Fabric's (accelerator, devices) for a device name: `cuda:N` is GPU N alone."""
    kind, _, index = name.partition(":")
    if index:
        if devices != 1:
            raise ConfigError(
                f"train.accelerator: {name} names one GPU, but train.devices is {devices}; "
                "use train.accelerator=cuda for several"
            )
        return "cuda", [int(index)]
    return kind, devices


def device_overrides(name: str | None) -> list[str]:
    """`train.accelerator=...` override for a command's `--device` (none when not given)."""
    return [] if name is None else [f"train.accelerator={name}"]
