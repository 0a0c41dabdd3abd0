"""The web page's plain-Python parts (no Gradio needed): one-line errors naming the upload,
requests taking turns on the one model, the example clips, and options checked first."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import make_phoenix_corpus
from sign2gpt.cli import main
from sign2gpt.data import DataConfig
from sign2gpt.data.sources import read_all_frames
from sign2gpt.errors import Sign2GPTError
from sign2gpt.inference.inputs import InputVideos
from sign2gpt.web.examples import example_clips
from sign2gpt.web.session import WebTranslator

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "sign2gpt"


class StubTranslator:
    """Reads its input as `Translator` does, then answers after a pause, counting callers."""

    stage1 = None

    def __init__(self):
        self.running = self.most = 0

    def translate(self, x, **options):
        InputVideos(DataConfig(root="."), [x])  # the real input checks (a bad file raises here)
        self.running += 1
        self.most = max(self.most, self.running)
        time.sleep(0.05)
        self.running -= 1
        from sign2gpt.inference.translator import TranslationResult

        return TranslationResult("hallo", 0.05, [], [("hallo", -0.1), ("hallo welt", -0.5)])


def test_a_bad_upload_gets_the_cli_message_naming_the_file_not_the_server_path(tmp_path):
    upload = tmp_path / "gradio-cache" / "0123abcd" / "corrupt.mp4"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"not a video" * 50)
    try:
        InputVideos(DataConfig(root="."), [upload])
    except Sign2GPTError as exc:  # what `sign2gpt translate` prints after "error: "
        problem = exc.problem.replace(str(upload), "corrupt.mp4")  # (PyAV quotes the path)
    result = WebTranslator(StubTranslator()).run(str(upload))
    assert result.error == f"error: corrupt.mp4: {problem}"
    assert str(tmp_path) not in result.error and result.text == ""
    missing = WebTranslator(StubTranslator()).run(None)
    assert missing.error.startswith("error: no video")


def test_requests_take_turns_on_the_one_translator(tmp_path):
    make_phoenix_corpus(tmp_path / "corpus", {"train": 1})
    video = next((tmp_path / "corpus").rglob("train_video_0"))  # a frame folder
    stub = StubTranslator()
    service = WebTranslator(stub)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(service.run(str(video))))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.text for r in results] == ["hallo"] * 6 and stub.most == 1
    assert results[0].beams == [("hallo", -0.1), ("hallo welt", -0.5)]
    assert "translation (sign encoder + LM beam search)" in results[0].seconds


def test_example_clips_are_the_corpus_test_clips_as_mp4(tmp_path):
    root = make_phoenix_corpus(tmp_path / "corpus", {"test": 3}, num_frames=9)
    cfg = DataConfig(root=str(root))
    clips = example_clips(cfg, tmp_path / "examples", count=2)
    assert [c.name for c in clips] == ["test_video_0.mp4", "test_video_1.mp4"]
    for clip, frames in zip(clips, (9, 10), strict=True):
        decoded = read_all_frames(clip)
        assert decoded.shape == (frames, 16, 16, 3)
    assert example_clips(DataConfig(root=str(tmp_path / "moved")), tmp_path / "none") == []


def test_serve_checks_its_options_before_loading_anything(tmp_path, capsys):
    missing = tmp_path / "missing.safetensors"
    assert main(["serve", "--checkpoint", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"sign2gpt serve: error: {missing}: does not exist"
    )
    missing.write_bytes(b"")
    assert main(["serve", "--checkpoint", str(missing), "--port", "70000"]) == 2
    assert "--port: 70000" in capsys.readouterr().err


def test_only_the_page_module_imports_gradio():
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any(
            name.split(".")[0] == "gradio"
            for name in ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""])
        )
    )  # fmt: skip
    assert importers == ["web/page.py"]
    code = (
        "import sys, sign2gpt, sign2gpt.cli; sign2gpt.cli.build_parser(); "
        "import sign2gpt.web.session, sign2gpt.web.examples; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gradio', 'gradio_client')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
