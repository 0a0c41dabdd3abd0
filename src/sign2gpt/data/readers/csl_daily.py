"""CSL-Daily layout (the public release, Zhou et al. 2021).

```
<root>/sentence_label/video_map.txt   index|name|length|gloss|char|word|postag
<root>/sentence_label/split_1.txt     name|split           (split: train / dev / test)
<root>/sentence/frames_512x512/<name>/000000.jpg ...
```
(some copies unpack the frames to `sentence_frames-512x512/frames_512x512/`; both are found.)
The sentence is the `char` column with its separating spaces removed. The release's label
pickle (`csl2020ct_v2.pkl`) holds the same text and is deliberately not read: this project
never unpickles files. The signer is the `P....` part of names like `S000007_P0003_T00`.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

from sign2gpt.data.config import DataConfig
from sign2gpt.data.records import Problem, RecordTable, VideoRecord, clean_text
from sign2gpt.data.tables import read_delimited
from sign2gpt.errors import DataError

FRAME_DIR_CANDIDATES = ("sentence/frames_512x512", "sentence_frames-512x512/frames_512x512")
_SIGNER = re.compile(r"_(P\d+)_")


def label_files(root: Path) -> tuple[Path, Path]:
    """(video_map.txt, split_1.txt) of a CSL-Daily root."""
    labels = root / "sentence_label"
    return labels / "video_map.txt", labels / "split_1.txt"


def read_csl_daily(cfg: DataConfig, split: str) -> RecordTable:
    """Read one split of a CSL-Daily-layout corpus."""
    root = Path(cfg.root)
    video_map, split_file = label_files(root)
    frames = _frames_dir(root, cfg.features_dir)
    split_rows, problems = read_delimited(
        split_file, "|", ("name", "split"), quoting=csv.QUOTE_NONE
    )
    wanted = {row["name"].strip() for _, row in split_rows if row["split"].strip() == split}
    label_rows, label_problems = read_delimited(
        video_map, "|", ("name", "char"), quoting=csv.QUOTE_NONE
    )
    # Both label files hold every split: their bad lines belong to no known split.
    shared = [dataclasses.replace(p, shared=True) for p in problems + label_problems]
    table = RecordTable(problems=shared)
    for number, row in label_rows:
        name = row["name"].strip()
        if name not in wanted:
            continue
        wanted.discard(name)
        where = f"{video_map}:{number}"
        if not name or "/" in name or name in (".", ".."):
            table.problems.append(Problem(where, f"bad video name {name!r}"))
            continue
        signer = _SIGNER.search(f"_{name}_")
        table.records.append(
            VideoRecord(
                id=name,
                source=frames / name,
                text=clean_text("".join(row["char"].split())) or "",
                signer=signer.group(1) if signer else "",
                split=split,
                where=where,
                confine=None if cfg.allow_absolute_paths else root,
            )
        )
    for name in sorted(wanted):
        table.problems.append(Problem(str(split_file), f"no row in {video_map.name}", name))
    return table


def _frames_dir(root: Path, configured: str | None) -> Path:
    if configured:
        return root / configured
    for candidate in FRAME_DIR_CANDIDATES:
        if (root / candidate).is_dir():
            return root / candidate
    raise DataError(
        root, f"no CSL-Daily frame folder (looked for {', '.join(FRAME_DIR_CANDIDATES)})"
    )
