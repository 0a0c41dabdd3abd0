"""`sign2gpt data check` finds every defect of a corrupted corpus and passes a clean one."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from conftest import make_phoenix_corpus, make_video_manifest
from sign2gpt.cli import main


def write_config(path, **data) -> str:
    data = {"resize": 16, "crop": 12, "num_workers": 0, **data}
    config = {"data": data}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(path)


def run_check(capsys, *args) -> tuple[int, str]:
    code = main(["data", "check", *args])
    return code, capsys.readouterr().out


def corrupt_copy(root):
    """Damage a Phoenix14T-layout corpus in six ways; return the expected report lines."""
    frames = root / "features" / "fullFrame-210x260px" / "train"
    shutil.rmtree(frames / "train_video_1")
    (frames / "train_video_2" / "images0003.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    train_csv = root / "annotations" / "manual" / "PHOENIX-2014-T.train.corpus.csv"
    lines = train_csv.read_bytes().decode("utf-8").splitlines()
    lines[4] = lines[4].rsplit("|", 1)[0] + "|   "  # train_video_3: empty text
    lines[5] = lines[5].replace("wechseln", "wechsel\u00fc")  # train_video_4, becomes latin-1
    lines.append(lines[1])  # train_video_0 again
    data = "\n".join(lines[:5]).encode() + b"\n" + lines[5].encode("latin-1") + b"\n"
    data += "\n".join(lines[6:]).encode() + b"\n"
    train_csv.write_bytes(data)
    dev_csv = root / "annotations" / "manual" / "PHOENIX-2014-T.dev.corpus.csv"
    dev_lines = dev_csv.read_text(encoding="utf-8").splitlines()
    dev_csv.write_text("\n".join(line.rsplit("|", 1)[0] for line in dev_lines) + "\n",
                       encoding="utf-8")
    return [
        re.escape(f"{frames / 'train_video_1'}: frame folder does not exist"),
        r"images0003.png: cannot decode image",
        r"train.corpus.csv:5 \[train_video_3\]: empty text",
        r"train.corpus.csv:6: not valid UTF-8",
        r"train.corpus.csv:8 \[train_video_0\]: duplicate id \(first at .*train.corpus.csv:2\)",
        r"dev.corpus.csv:1: missing column\(s\) translation",
    ]


@pytest.mark.parametrize("workers", [0, 2])
def test_check_reports_every_defect_of_a_corrupted_copy(tmp_path, capsys, workers):

    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 6, "dev": 2, "test": 2})
    expected = corrupt_copy(root)
    config = write_config(tmp_path / "c.yaml", root=str(root), num_workers=workers)
    code, out = run_check(capsys, "--config", config)
    assert code == 1
    bad_lines = [line for line in out.splitlines() if line.strip().startswith("BAD")]
    for pattern in expected:
        assert any(re.search(pattern, line) for line in bad_lines), (pattern, out)
    assert len(bad_lines) == len(expected), out
    assert "split train: 7 rows, 2 good, 5 bad" in out
    assert "split test: 2 rows, 2 good, 0 bad" in out
    assert "total: 10 rows, 6 bad" in out  # dev: one bad header stands for the file


def test_quick_check_lists_folders_without_decoding(tmp_path, capsys):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 2, "dev": 1, "test": 1})
    frame = root / "features" / "fullFrame-210x260px" / "train" / "train_video_0" / "images0002.png"
    frame.write_bytes(b"broken")
    config = write_config(tmp_path / "c.yaml", root=str(root))
    assert run_check(capsys, "--config", config, "--quick")[0] == 0
    code, out = run_check(capsys, "--config", config, "--split", "train")
    assert code == 1 and "images0002.png: cannot decode image" in out


def test_clean_corpus_passes_with_statistics(tmp_path, capsys):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 4, "dev": 1, "test": 1})
    code, out = run_check(capsys, "--config", write_config(tmp_path / "c.yaml", root=str(root)))
    assert code == 0, out
    assert "split train: 4 rows, 4 good, 0 bad" in out
    # train clips have 9, 10, 11, 12 frames -> 5, 5, 6, 6 after stride 2
    assert "frames after stride 2: min 5, mean 5.5, median 5.5, p95 6, max 6" in out
    assert "signers: 3" in out and "total: 6 rows, 0 bad - corpus OK" in out


def test_short_config_flag_and_overrides_as_in_the_other_commands(tmp_path, capsys):
    root = make_phoenix_corpus(tmp_path / "corpus", {"train": 2, "dev": 1, "test": 1})
    config = write_config(tmp_path / "c.yaml", root=str(tmp_path / "elsewhere"))
    code, out = run_check(capsys, "-c", config, "--split", "dev", f"data.root={root}")
    assert code == 0, out
    assert "split dev: 1 rows, 1 good, 0 bad" in out and "split train" not in out


def test_manifest_with_wrong_delimiter_and_bad_rows(tmp_path, capsys):
    root = tmp_path / "corpus"
    make_video_manifest(root)
    (root / "semicolon.csv").write_text("video;text;split\nvideos/clip0.mp4;hallo;train\n",
                                        encoding="utf-8")
    config = write_config(tmp_path / "c.yaml", root=str(root), format="manifest",
                          manifest="semicolon.csv")
    code, out = run_check(capsys, "--config", config, "--split", "train")
    assert code == 1 and "wrong delimiter: header 'video;text;split' is semicolon-separated" in out

    (root / "rows.csv").write_text(
        "id,video,text,split\n"
        "a,videos/clip0.mp4,hallo,train\n"
        "b,videos/missing.mp4,hallo,train\n"
        "c,videos/clip1.mp4,hallo,welt,train\n"
        "d,../../etc/passwd,hallo,train\n",
        encoding="utf-8",
    )
    config = write_config(tmp_path / "c.yaml", root=str(root), format="manifest",
                          manifest="rows.csv")
    code, out = run_check(capsys, "--config", config, "--split", "train")
    assert code == 1
    assert "missing.mp4: video file does not exist" in out
    assert "rows.csv:4: row has 5 fields, header has 4" in out
    assert "escapes the data root" in out
    # The 5-field row names no readable split: counted once, charged to no split.
    assert "split train: 3 rows, 1 good, 2 bad" in out
    assert "lines of no known split: 1 bad" in out and "total: 4 rows, 3 bad" in out


def test_config_errors_are_one_line_messages(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("model: {}\n", encoding="utf-8")
    assert main(["data", "check", "--config", str(tmp_path / "c.yaml")]) == 2
    assert "no data: section" in capsys.readouterr().err
    config = write_config(tmp_path / "c.yaml", root=str(tmp_path), crop=32)
    assert main(["data", "check", "--config", config]) == 2
    assert "resize (16) must be at least crop (32)" in capsys.readouterr().err
