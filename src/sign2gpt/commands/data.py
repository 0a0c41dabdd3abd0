"""Check a corpus before training, or cache its decoded frames.

  sign2gpt data check --config C [--split S]   validate every row and frame; list every bad
                                               row with its reason; exit 1 if there is one
  sign2gpt data cache --config C [--split S]   decode + resize every frame of a split into one
                                               memory-mapped file under data.cache_dir

The whole run config is checked (a config that passes also starts training); the corpus
is described by its `data:` section.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sign2gpt.data.config import DataConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate a corpus and print length statistics")
    cache = sub.add_parser("cache", help="write the decoded-frame cache of a split")
    for action in (check, cache):
        action.add_argument("-c", "--config", required=True,
                            help="YAML config with a data: section")
        action.add_argument("--split", action="append",
                            help="split to process (repeatable; default: every split)")
        action.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                            help="config overrides, e.g. data.root=/corpora/phoenix")
    check.add_argument("--quick", action="store_true",
                       help="only list frame folders / read video headers; do not decode frames")
    cache.add_argument("--skip-bad", action="store_true",
                       help="leave out (and report) videos that do not decode")


def run(args: argparse.Namespace) -> int:
    cfg = load_data_config(args.config, args.overrides)
    splits = args.split or cfg.all_splits
    if args.data_command == "check":
        return _check(cfg, splits, verify=not args.quick)
    return _cache(cfg, splits, skip_bad=args.skip_bad)


def load_data_config(path: str, overrides: list[str]) -> DataConfig:
    """The `data:` section of a run config (with `key=value` overrides) as DataConfig. The
    whole config is checked, so that a corpus that passes also starts training."""
    from sign2gpt.config import apply_overrides, load_config
    from sign2gpt.errors import ConfigError
    from sign2gpt.run_config import load_run_config

    if "data" not in apply_overrides(load_config(path), overrides):
        raise ConfigError(f"{path}: no data: section")
    return load_run_config(path, overrides).data


def _check(cfg: DataConfig, splits: list[str], *, verify: bool) -> int:
    from sign2gpt.data.check import check_corpus

    corpus = check_corpus(cfg, splits, verify=verify, progress=sys.stderr.isatty())
    for report in corpus.splits:
        print("\n".join(report.summary(cfg)))
        for problem in report.problems:
            print(f"  BAD {problem}")
    if corpus.shared:
        print(f"lines of no known split: {len(corpus.shared)} bad")
        for problem in corpus.shared:
            print(f"  BAD {problem}")
    bad = corpus.bad
    print(f"total: {corpus.rows} rows, {bad} bad" + ("" if bad else " - corpus OK"))
    return 1 if bad else 0


def _cache(cfg: DataConfig, splits: list[str], *, skip_bad: bool) -> int:
    from sign2gpt.data.cache import index_path, write_cache
    from sign2gpt.data.dataset import build_dataset

    index_path(cfg, splits[0])  # fails early when data.cache_dir is not set
    for split in splits:
        # Build without the old cache so that every video is decoded from its source.
        dataset = build_dataset(_without_cache(cfg), split, skip_bad=skip_bad, augment=False)
        summary = write_cache(cfg, split, dataset.records, skip_bad=skip_bad)
        print(
            f"split {split}: cached {summary.videos} videos, {summary.frames} frames, "
            f"{summary.bytes / 2**20:.1f} MiB in {summary.seconds:.1f} s"
            + (f" ({summary.skipped} skipped)" if summary.skipped else "")
            + f" -> {summary.index}"
        )
    return 0


def _without_cache(cfg: DataConfig) -> DataConfig:
    import dataclasses

    return dataclasses.replace(cfg, use_cache=False)
