"""RWTH-PHOENIX-Weather 2014 T layout (also written by the SynthSign generator).

```
<root>/annotations/manual/PHOENIX-2014-T.<split>.corpus.csv
    '|'-separated: name|video|start|end|speaker|orth|translation
<root>/features/fullFrame-210x260px/<split>/<name>/images0001.png ...
```
In the public release the `video` column reads `<name>/1/*.png` but the frames lie directly
in `<split>/<name>/`; the reader uses that, or the folder the column names when that one
exists (the PHOENIX-2014 layout, with its extra `1/`).
"""

from __future__ import annotations

import csv
from pathlib import Path

from sign2gpt.data.config import DataConfig
from sign2gpt.data.keypoints.files import KEYPOINT_EXTENSIONS
from sign2gpt.data.records import (
    Problem,
    RecordTable,
    VideoRecord,
    clean_text,
    escaping_link,
    resolve_inside,
)
from sign2gpt.data.tables import read_delimited
from sign2gpt.errors import DataError

DEFAULT_FEATURES_DIR = "features/fullFrame-210x260px"
_REQUIRED = ("name", "translation")


def corpus_file(root: Path, split: str) -> Path:
    """The corpus CSV of `split`."""
    return root / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv"


def read_phoenix(cfg: DataConfig, split: str) -> RecordTable:
    """Read one split of a Phoenix14T-layout corpus."""
    root = Path(cfg.root)
    path = corpus_file(root, split)
    if not path.is_file():
        nested = root / "PHOENIX-2014-T"
        hint = f" (set data.root to {nested}?)" if nested.is_dir() else ""
        raise DataError(path, f"Phoenix14T corpus file of split {split!r} does not exist{hint}")
    features = root / (cfg.features_dir or DEFAULT_FEATURES_DIR) / split
    rows, problems = read_delimited(path, "|", _REQUIRED, quoting=csv.QUOTE_NONE)
    table = RecordTable(problems=problems)
    for number, row in rows:
        where = f"{path}:{number}"
        name = row["name"].strip()
        if not name or "/" in name or name in (".", ".."):
            table.problems.append(Problem(where, f"bad video name {name!r}"))
            continue
        folder = _frame_folder(root, features, name, row.get("video", ""), cfg.allow_absolute_paths)
        if isinstance(folder, str):
            table.problems.append(Problem(where, folder, name))
            continue
        table.records.append(
            VideoRecord(
                id=name,
                source=folder,
                text=clean_text(row["translation"]) or "",
                signer=row.get("speaker", "").strip(),
                split=split,
                where=where,
                confine=None if cfg.allow_absolute_paths else root,
            )
        )
    return table


def _frame_folder(
    root: Path, features: Path, name: str, video: str, allow_absolute: bool
) -> Path | str:
    """`<split>/<name>/`, unless the folder the video column names (`<name>/1/`) exists.

    A keypoint corpus in this layout (`model.spatial.kind: pose`, with `data.features_dir`
    naming its folder) has `<split>/<name>.pose` or `<split>/<name>.npz` instead.
    """
    direct = features / name
    if not allow_absolute and (reason := escaping_link(root, direct)):
        return reason
    if not direct.is_dir():
        for suffix in KEYPOINT_EXTENSIONS:
            if (features / f"{name}{suffix}").is_file():
                return features / f"{name}{suffix}"
    if not video.strip():
        return direct
    named = resolve_inside(features, str(Path(video.strip()).parent), allow_absolute=allow_absolute)
    if isinstance(named, str):
        return named
    return named if named != direct and named.is_dir() else direct
