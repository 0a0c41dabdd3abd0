"""Pre-emption: SIGTERM / SIGUSR1 (what SLURM sends before it pre-empts or times out a job)
ask training to stop; the loop checkpoints at its next step boundary and exits with
`PREEMPTED_EXIT_STATUS`, and `--resume` continues to the same weights."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

# EX_TEMPFAIL of sysexits.h: "try again later" (a job script requeues on it).
PREEMPTED_EXIT_STATUS = 75

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGUSR1") if hasattr(signal, name)
)


class StopRequest:
    """Records the first stop signal received while `listening()`."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def __bool__(self) -> bool:
        return self.signal_name is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal_name = self.signal_name or signal.Signals(signum).name

    @contextlib.contextmanager
    def listening(self) -> Iterator[StopRequest]:
        """Within the block the stop signals set this request instead of killing the process
        (main thread only: Python delivers signals there); the old handlers come back after."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def ignore_stop_signals(_worker_id: int = 0) -> None:
    """DataLoader `worker_init_fn`. SLURM signals every process of a job step, decoding workers
    too; one killed by SIGTERM would crash the training process before it can checkpoint. So
    workers ignore the stop signals: the training process decides when to stop and then ends
    them (and a worker whose parent died exits by itself, torch's watchdog)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
