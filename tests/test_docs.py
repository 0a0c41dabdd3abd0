"""The README and the docs/ site match the code: links resolve, every command and every
`export` option is documented, and `mkdocs build --strict` passes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's / Python-Markdown's anchor of a heading (lowercase, punctuation dropped)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {
        slug(line.lstrip("#"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def test_readme_is_short_and_its_links_resolve():
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    broken = []
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        file = ROOT / path if path else readme
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            broken.append(target)
    assert broken == []


def test_every_command_and_export_option_is_documented():
    from sign2gpt.cli import COMMANDS, build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [c for c in COMMANDS if not re.search(rf"\| `{c}[` ]", readme)] == []
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    export = sub.choices["export"]
    options = [o for a in export._actions for o in a.option_strings if o.startswith("--")]
    api = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    assert [o for o in options if o != "--help" and o not in api] == []
    for command in ("translate", "localize", "evaluate"):
        assert "--model" in {o for a in sub.choices[command]._actions for o in a.option_strings}


def test_mkdocs_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is in the [dev] extra")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "python-api" / "index.html").is_file()
