"""Row-by-row reading of delimited text files and JSON-lines files.

Every defect becomes a `Problem` naming the file and line: a line that is not UTF-8, a
missing column (with a hint when the file uses another delimiter), a row with the wrong
number of fields, a line that is not a JSON object. Good rows are returned with their line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from sign2gpt.data.records import Problem
from sign2gpt.errors import DataError

Row = tuple[int, dict[str, str]]  # (line number, column -> value)

_OTHER_DELIMITERS = {",": "comma", "|": "pipe", "\t": "tab", ";": "semicolon"}


def read_lines(path: Path) -> tuple[list[str], list[Problem]]:
    """Read a text file as lines; a line that is not UTF-8 becomes "" plus a Problem."""
    if not path.is_file():
        raise DataError(path, "file does not exist")
    data = path.read_bytes()
    data = data.removeprefix(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    lines: list[str] = []
    problems: list[Problem] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(f"{path}:{number}", f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
            )
            lines.append("")
    return lines, problems


def read_delimited(
    path: Path, delimiter: str, required: Sequence[str], *, quoting: int = csv.QUOTE_MINIMAL
) -> tuple[list[Row], list[Problem]]:
    """Read a delimited file with a header line.

    Args:
        path: the file.
        delimiter: the field separator ("|" for Phoenix14T / CSL-Daily, "," for manifests).
        required: columns that must be in the header.
        quoting: a `csv` quoting mode (Phoenix text has no quoting: QUOTE_NONE).
    """
    lines, problems = read_lines(path)
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        return [], [*problems, Problem(f"{path}:1", "file has no header line")]
    header_line = lines[header_index]
    header = next(csv.reader([header_line], delimiter=delimiter, quoting=quoting))
    header = [name.strip() for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        reason = f"missing column(s) {', '.join(missing)}; header has {header}"
        others = [n for d, n in _OTHER_DELIMITERS.items() if d != delimiter and d in header_line]
        if len(header) == 1 and others:
            reason = (
                f"wrong delimiter: header {header_line!r} is {others[0]}-separated, "
                f"expected {delimiter!r}"
            )
        return [], [*problems, Problem(f"{path}:{header_index + 1}", reason)]
    text = "\n".join(lines[header_index + 1 :])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=quoting)
    rows: list[Row] = []
    for fields in reader:
        number = header_index + 1 + reader.line_num
        if not fields or not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.append(
                Problem(
                    f"{path}:{number}",
                    f"row has {len(fields)} fields, header has {len(header)} "
                    f"(wrong delimiter or an unquoted {delimiter!r} in the text?)",
                )
            )
            continue
        rows.append((number, dict(zip(header, fields, strict=True))))
    return rows, problems


def read_jsonl(path: Path, required: Sequence[str]) -> tuple[list[Row], list[Problem]]:
    """Read a JSON-lines file: one object per line with at least the `required` keys."""
    lines, problems = read_lines(path)
    rows: list[Row] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(f"{path}:{number}", f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(item, dict):
            problems.append(Problem(f"{path}:{number}", "line is not a JSON object"))
            continue
        missing = [key for key in required if key not in item]
        if missing:
            problems.append(Problem(f"{path}:{number}", f"missing column(s) {', '.join(missing)}"))
            continue
        rows.append((number, {k: "" if v is None else str(v) for k, v in item.items()}))
    return rows, problems
