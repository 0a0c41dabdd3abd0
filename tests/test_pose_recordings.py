"""Real human motion: the 600 MediaPipe Holistic recordings of fingerspelled letters that the
`spoken-to-signed` package (0.4.0, MIT, a dev dependency) ships go through the pose reader and
`data check` from where the package installed them (they are never copied into this repo)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from sign2gpt.cli import main
from sign2gpt.data.keypoints import PARTS, read_keypoints
from sign2gpt.data.keypoints.transform import normalise_clips

spoken_to_signed = pytest.importorskip("spoken_to_signed")
LEXICON = Path(spoken_to_signed.__file__).parent / "assets" / "fingerspelling_lexicon"


def _letters() -> dict[str, dict[str, str]]:
    """Recording path (relative to the lexicon) -> its index row, one row per file; the
    language is the file's folder (the index lists the American files again under fsl)."""
    with (LEXICON / "index.csv").open(encoding="utf-8") as f:
        rows = {row["path"]: row for row in csv.DictReader(f)}
    return {path: {**row, "signed_language": path.split("/")[0]} for path, row in rows.items()}


def test_every_recording_passes_data_check(tmp_path, capsys):
    letters = _letters()
    assert len(letters) == 600 and len({r["signed_language"] for r in letters.values()}) == 19
    split_of = {"gsg": "dev", "ase": "test"}  # German and American letters held out
    manifest = tmp_path / "letters.csv"
    with manifest.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "video", "text", "split"])
        for path, row in letters.items():
            split = split_of.get(row["signed_language"], "train")
            writer.writerow([path, path, row["words"], split])
    config = tmp_path / "letters.yaml"
    config.write_text(yaml.safe_dump({"data": {
        "format": "manifest", "root": str(LEXICON), "manifest": str(manifest),
        "num_workers": 0, "frame_stride": 1,
    }}))  # fmt: skip
    code = main(["data", "check", "-c", str(config)])
    out = capsys.readouterr().out
    assert code == 0, out
    for split in ("train", "dev", "test"):
        rows = sum(split_of.get(r["signed_language"], "train") == split for r in letters.values())
        assert rows > 20 and f"split {split}: {rows} rows, {rows} good, 0 bad" in out


def test_german_letters_read_as_a_right_handed_signer():
    german = [p for p, r in _letters().items() if r["signed_language"] == "gsg"]
    clips = [read_keypoints(LEXICON / p) for p in sorted(german)[:5]]
    for kp in clips:
        assert kp.fps == 30 and len(kp) > 5
        right = kp.confidence[:, PARTS["right_hand"]]
        assert (right > 0).all(1).mean() > 0.5, "the fingerspelling hand is seen"
        assert (kp.confidence[:, PARTS["left_hand"]] == 0).all()  # the package removed it
        assert (kp.confidence[:, [11, 12]] > 0.9).all(), "both shoulders in every frame"
    joints = torch.from_numpy(clips[0].stacked())[None]
    out = normalise_clips(joints, torch.ones(1, len(clips[0]), dtype=torch.bool))
    width = (out[0, :, 11, :2] - out[0, :, 12, :2]).norm(dim=-1).mean().item()
    assert np.isclose(width, 1.0, atol=1e-4)
    # The signing hand moves about the chest: within a few shoulder widths of their centre.
    hand = out[0][:, PARTS["right_hand"], :2]
    assert 0.05 < hand.norm(dim=-1).mean() < 4
