"""What one training step does to each part of the model: logged with the loss.

Issue 24 asked why stage 2 ignored features that stage 1 made readable. Two things tell, step
by step: how far each cross-attention gate has opened (0 = the LM reads no video), and how
much gradient reaches each trainable part (a part that gets none cannot learn to help). Both
go to the run's CSV and TensorBoard logs every `train.log_every_steps`, as
`train/gate_layer<i>` and `train/grad_norm_<part>` (parts: `sign2gpt.models.parts`); the
dev token accuracy with each video's own features against another video's
(`TranslateTask.validate`) says whether the opened gates carry the video. `epoch_diagnostics`
reads them back from a run folder, per epoch.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sign2gpt.models.parts import part_of


def gradient_norms(model: nn.Module, scale: float = 1.0) -> dict[str, float]:
    """L2 norm of the gradients of each part (trainable parameters with a gradient), times
    `scale` (1 / the loss scale while gradients are scaled). Under FSDP each process sees its
    own shard."""
    grads: dict[str, list[torch.Tensor]] = {}
    for name, param in model.named_parameters():
        if param.grad is not None:
            grads.setdefault(part_of(name), []).append(param.grad.detach().float().norm())
    # One host sync per part, not per parameter.
    return {part: torch.stack(norms).norm().item() * scale for part, norms in grads.items()}


def gate_openings(named: Iterable[tuple[str, torch.Tensor]]) -> list[float]:
    """Mean clamped gate of each decoder layer, in layer order (numeric: layer 10 after 9;
    empty without gates), from (name, tensor) pairs: `model.named_parameters()` or a
    checkpoint's `.model.items()`."""
    gates = [(name, t) for name, t in named if name.endswith(".sign.gate")]
    return [t.detach().float().clamp(0, 1).mean().item() for _, t in sorted(gates, key=_layer)]


def step_diagnostics(model: nn.Module, grad_scale: float = 1.0) -> dict[str, float]:
    """The logged values: `gate_layer<i>` and `grad_norm_<part>`."""
    logs = {f"gate_layer{i}": g for i, g in enumerate(gate_openings(model.named_parameters()))}
    logs.update({f"grad_norm_{k}": v for k, v in gradient_norms(model, grad_scale).items()})
    return logs


def unscaling_factor(precision_plugin: object) -> float:
    """1 / the loss scale of a 16-bit GradScaler (before clipping unscales), else 1."""
    scaler = getattr(precision_plugin, "scaler", None)
    if scaler is None or not scaler.is_enabled():
        return 1.0
    return 1.0 / float(scaler.get_scale())


def _layer(item: tuple[str, torch.Tensor]) -> tuple[int, str]:
    match = re.search(r"layers\.(\d+)\.", item[0])
    return (int(match.group(1)) if match else -1, item[0])


def epoch_diagnostics(run_root: str | Path) -> list[dict[str, Any]]:
    """The logged diagnostics of a run folder, per finished epoch: the gate openings at its
    last logged step, each part's gradient norm averaged over its logged steps, and the dev
    token accuracy with own / another video's features of the evaluation after it (None
    where that epoch was not evaluated or the stage has no such score).

    An epoch with no logged step has no gates and no norms. Reads every
    `logs/csv/*/metrics.csv` (a resumed run writes a new version; a step logged
    twice counts once, as last logged) and `metrics.json`.
    """
    root = Path(run_root)
    rows: list[dict[str, str]] = []
    for path in sorted((root / "logs").rglob("metrics.csv"), key=_version):
        with path.open(encoding="utf-8", newline="") as f:
            rows += csv.DictReader(f)
    steps = {int(r["step"]): r for r in rows if r.get("train/loss")}
    ends = sorted({int(r["step"]) for r in rows if r.get("time/epoch_s")})
    summary = root / "metrics.json"
    history = []
    if summary.is_file():
        history = json.loads(summary.read_text(encoding="utf-8"))["history"]
    dev = {int(h["step"]): h for h in history}
    curve, start = [], 0
    for epoch, end in enumerate(ends, 1):
        logged = [steps[s] for s in sorted(steps) if start < s <= end]
        start = end
        last = logged[-1] if logged else {}  # none: fewer steps than train.log_every_steps
        gate_keys = sorted((k for k in last if k.startswith("train/gate_layer")),
                           key=lambda k: int(k.removeprefix("train/gate_layer")))  # fmt: skip
        norms: dict[str, float] = {}
        for key in {k for r in logged for k in r if k.startswith("train/grad_norm_")}:
            values = [float(r[key]) for r in logged if r.get(key)]
            if values:
                norms[key.removeprefix("train/grad_norm_")] = sum(values) / len(values)
        scores = dev.get(end, {})
        curve.append({
            "epoch": epoch,
            "step": end,
            "gates": [float(last[k]) for k in gate_keys if last.get(k)],
            "grad_norm": dict(sorted(norms.items())),
            "token_accuracy": scores.get("token_accuracy"),
            "token_accuracy_other_video": scores.get("token_accuracy_other_video"),
        })  # fmt: skip
    return curve


def _version(path: Path) -> tuple[int, str]:
    """`logs/csv/version_10/metrics.csv` after `version_9`."""
    match = re.search(r"(\d+)$", path.parent.name)
    return (int(match.group(1)) if match else -1, str(path))
