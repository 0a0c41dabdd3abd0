"""Shared helpers of the benchmarks: machine description, timing, result files.

Every benchmark writes `bench/results/<name>.json` (numbers + machine info) and
`bench/results/<name>.md` (a table), both atomically, and prints the table.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from sign2gpt.io import write_json, write_text

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    """The CPU's marketing name (Linux /proc/cpuinfo; `platform.processor()` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


REPO_ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    """HEAD's hash, with "+dirty" when the working tree has changes."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                                  check=False).stdout.strip()  # fmt: skip
        except FileNotFoundError:  # no git on this machine (a copy without it)
            return ""

    head = git("rev-parse", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine_info(device: str) -> dict[str, Any]:
    """What the numbers were measured on; load average because the CPU may be shared."""
    info: dict[str, Any] = {
        "device": device_name(device),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "time": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }
    try:
        import transformers

        info["transformers"] = transformers.__version__
    except ImportError:
        pass
    return info


def device_name(device: str) -> str:
    """ "NVIDIA H100 80GB HBM3" for a GPU, "CPU: <model>" otherwise."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU: {cpu_model()} ({os.cpu_count()} cores)"


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))


def time_call(fn: Callable[[], Any], device: str, *, warmup: int = 1, repeat: int = 3) -> float:
    """Median wall time of `fn()` in seconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(
    runs: dict[str, Callable[[], Any]], device: str, *, repeat: int = 3
) -> dict[str, float]:
    """Best wall time (s) of each run, timed alternately after one warm-up each.

    Why alternate and take the best: on a shared machine the load changes over a run;
    interleaving exposes every implementation to the same conditions, and the minimum is
    the least disturbed measurement.
    """
    for run in runs.values():
        run()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            synchronize(device)
            start = time.perf_counter()
            run()
            synchronize(device)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def markdown_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A GitHub markdown table of `rows` (dicts) restricted to `columns`."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def save_results(name: str, results: dict[str, Any], table: str, *, title: str) -> None:
    """Write results/<name>.json and results/<name>.md atomically and print the table."""
    write_json(RESULTS_DIR / f"{name}.json", results)
    machine = results["machine"]
    text = (
        f"# {title}\n\nDevice: {machine['device']}; torch {machine['torch']}; "
        f"load average {machine['load_average_1_5_15']} on {machine['cores']} cores; "
        f"{machine['time']}.\n\n{table}\n"
    )
    write_text(RESULTS_DIR / f"{name}.md", text)
    print(text)


def peak_memory_gib(device: str) -> float | None:
    """Peak allocated GPU memory since the last reset (None on CPU)."""
    if not device.startswith("cuda"):
        return None
    return torch.cuda.max_memory_allocated(torch.device(device)) / 2**30
