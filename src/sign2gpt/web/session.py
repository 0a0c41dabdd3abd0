"""One request of the web page: translate a video with the shared `Translator`, time each step,
draw the pseudo-gloss timeline, and turn a bad file into the CLI's one-line message."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from sign2gpt.errors import Sign2GPTError
from sign2gpt.inference.translator import Translator
from sign2gpt.localization import GlossSpan

# report(fraction done, what runs now): the page's progress bar.
Progress = Callable[[float, str], None]


@dataclass
class PageResult:
    """What the page shows for one video (`error` set: only it)."""

    text: str = ""
    error: str = ""
    timeline: Image.Image | None = None
    glosses: list[GlossSpan] = field(default_factory=list)
    beams: list[tuple[str, float]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


class WebTranslator:
    """The page's model: ONE `Translator`; a lock makes requests take turns on it (the page's
    queue already runs one at a time, the lock also covers any other caller)."""

    def __init__(self, translator: Translator, num_beams: int = 4, max_new_tokens: int = 64):
        self.translator = translator
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self._lock = threading.Lock()

    def run(
        self, video: str | Path | None, num_beams: int | None = None, report: Progress | None = None
    ) -> PageResult:
        """Translate `video` (a file path); never raises for a bad file (see `error_line`)."""
        if not video:
            return PageResult(error="error: no video: upload a file or record one")
        report = report or (lambda fraction, desc: None)
        path = Path(video)
        try:
            with self._lock:
                return self._run(path, num_beams or self.num_beams, report)
        except Sign2GPTError as exc:
            return PageResult(error=error_line(exc, path))

    def _run(self, path: Path, num_beams: int, report: Progress) -> PageResult:
        seconds = {}
        report(0.0, "translating")
        started = time.perf_counter()
        result = self.translator.translate(
            path, num_beams=num_beams, max_new_tokens=self.max_new_tokens, return_beams=True
        )
        total = time.perf_counter() - started
        seconds["translation (sign encoder + LM beam search)"] = result.seconds
        seconds["video decoding + pseudo-gloss spans"] = max(total - result.seconds, 0.0)
        timeline = None
        if self.translator.stage1 is not None:
            report(0.6, "pseudo-gloss timeline")
            started = time.perf_counter()
            localization = self.translator.localize(path)
            seconds["pseudo-gloss map (stage-1 head)"] = time.perf_counter() - started
            started = time.perf_counter()
            timeline = draw(localization.plot, path.name)
            seconds["timeline figure"] = time.perf_counter() - started
        report(1.0, "done")
        return PageResult(
            result.text, "", timeline, result.glosses or [], result.beams or [], seconds
        )


def draw(plot: Callable[[Path, str], object], title: str) -> Image.Image:
    """The figure `plot(path, title)` draws, as an image in memory (its file is removed)."""
    with tempfile.TemporaryDirectory(prefix="sign2gpt-web-") as folder:
        figure = Path(folder) / "timeline.png"
        plot(figure, title)
        with Image.open(figure) as image:
            return image.convert("RGB")


def error_line(exc: Sign2GPTError, upload: Path) -> str:
    """The CLI's message for `exc` (`sign2gpt translate: error: ...` without the command name),
    naming the upload by its file name, not by the server's temporary path."""
    return "error: " + str(exc).replace(str(upload), upload.name)
