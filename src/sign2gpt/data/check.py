"""Corpus validation behind `sign2gpt data check`: every row, every frame, every defect."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from sign2gpt.data.config import DataConfig
from sign2gpt.data.frames import num_kept_frames
from sign2gpt.data.readers import read_split, split_file
from sign2gpt.data.records import Problem, VideoRecord, file_order
from sign2gpt.data.sources import count_frames
from sign2gpt.errors import DataError


@dataclass
class SplitReport:
    """What `check_split` found in one split."""

    split: str
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    frame_counts: list[int] = field(default_factory=list)  # source frames of good rows
    texts: list[str] = field(default_factory=list)
    signers: set[str] = field(default_factory=set)

    @property
    def good(self) -> int:
        return len(self.frame_counts)

    def summary(self, cfg: DataConfig) -> list[str]:
        """Human-readable counts and length statistics."""
        lines = [f"split {self.split}: {self.rows} rows, {self.good} good, "
                 f"{len(self.problems)} bad"]
        if not self.frame_counts:
            return lines
        kept = [num_kept_frames(n, cfg.frame_stride, 10**9) for n in self.frame_counts]
        longer = sum(k > cfg.max_frames for k in kept)
        lines.append(
            f"  frames after stride {cfg.frame_stride}: {_stats(kept)}; "
            f"{longer} longer than {cfg.max_frames} (sampled down)"
        )
        lines.append(f"  text words: {_stats([len(t.split()) for t in self.texts])}")
        lines.append(f"  text characters: {_stats([len(t) for t in self.texts])}")
        lines.append(f"  signers: {len(self.signers - {''})}")
        return lines


def check_split(
    cfg: DataConfig, split: str, *, verify: bool = True, progress: bool = True
) -> SplitReport:
    """Validate one split: rows, texts, ids, and (with `verify`) every frame decodes.

    Args:
        cfg: data config; `num_workers` processes decode in parallel (0: in this process).
        split: split name.
        verify: decode every frame; False only lists folders and reads video headers.
        progress: progress bar.
    """
    from tqdm import tqdm

    report = SplitReport(split)
    try:
        table = read_split(cfg, split)
    except DataError as exc:
        report.problems.append(Problem(exc.path, exc.problem))
        return report
    if not table.num_rows:  # a header-only file, or no row names this split
        report.problems.append(Problem(str(split_file(cfg, split)), f"no rows of split {split!r}"))
        return report
    report.rows = table.num_rows
    report.problems.extend(table.problems)
    results = _probe_all(table.records, cfg.min_frames, verify, cfg.num_workers)
    bar = tqdm(results, total=len(table.records), desc=f"checking {split}", unit="video",
               disable=not progress)
    for record, (count, error) in zip(table.records, bar, strict=True):
        if error is not None:
            report.problems.append(Problem(record.where, error, record.id))
            continue
        report.frame_counts.append(count)
        report.texts.append(record.text)
        report.signers.add(record.signer)
    report.problems.sort(key=file_order)
    return report


@dataclass
class CorpusReport:
    """`check_split` of each split, plus the defects of files several splits share (a shared
    manifest's unreadable or unknown-split lines), reported once and charged to no split."""

    splits: list[SplitReport]
    shared: list[Problem]

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.splits) + len(self.shared)

    @property
    def bad(self) -> int:
        return sum(len(r.problems) for r in self.splits) + len(self.shared)


def check_corpus(
    cfg: DataConfig, splits: list[str], *, verify: bool = True, progress: bool = True
) -> CorpusReport:
    """`check_split` for each split; a defect of a file shared by splits is reported once."""
    reports, shared = [], []
    seen: set[tuple[str, str, str]] = set()
    for split in splits:
        report = check_split(cfg, split, verify=verify, progress=progress)
        own = []
        for problem in report.problems:
            key = (problem.where, problem.reason, problem.item_id)
            if key in seen:
                continue
            seen.add(key)
            (shared if problem.shared else own).append(problem)
        report.rows -= len(report.problems) - len(own)  # shared lines count once, below
        report.problems = own
        reports.append(report)
    return CorpusReport(reports, sorted(shared, key=file_order))


def _probe(args: tuple[VideoRecord, int, bool]) -> tuple[int, str | None]:
    record, min_frames, verify = args
    try:
        return count_frames(record, min_frames=min_frames, verify=verify), None
    except DataError as exc:
        return 0, str(exc)


def _probe_all(
    records: list[VideoRecord], min_frames: int, verify: bool, workers: int
) -> Iterator[tuple[int, str | None]]:
    jobs = [(record, min_frames, verify) for record in records]
    if workers <= 0 or len(jobs) < 2:
        yield from map(_probe, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_probe, jobs, chunksize=8)


def _stats(values: list[int]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"min {ordered[0]}, mean {statistics.fmean(ordered):.1f}, "
        f"median {statistics.median(ordered):g}, p95 {p95}, max {ordered[-1]}"
    )
