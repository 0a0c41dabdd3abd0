"""Paired bootstrap BLEU-4 tests of a finished SynthSign run, from its work folder.

`bench/synthsign.py` runs these tests itself (the `significance` section of its results);
this script adds them to a run that predates them, or reruns them, as long as the run folders
named in its results file (`runs`) still hold their evaluations:

    .venv/bin/python bench/paired_bleu.py bench/results/synthsign-full-lm2.json

writes `bench/results/<results name>-paired.json` and `.md` (synthsign-full-lm2-paired.*).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common import git_commit, machine_info, save_results
from synthsign import COMPARISONS, EVALUATED_BY, significance, significance_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a bench/synthsign.py results JSON")
    args = parser.parse_args()
    if not args.results.is_file():
        raise SystemExit(f"{args.results}: no such results file")
    results = json.loads(args.results.read_text(encoding="utf-8"))
    runs = results.get("runs")
    if not isinstance(runs, dict):
        raise SystemExit(f"{args.results}: no `runs` (not a single-seed bench/synthsign.py run)")
    needed = {EVALUATED_BY.get(key, key) for pair in COMPARISONS.values() for key in pair}
    missing = sorted(runs[k] for k in needed if not (Path(runs[k]) / "eval").is_dir())
    if missing:
        raise SystemExit(f"{args.results}: the run's evaluations are gone: {missing[0]}/eval")
    tests = significance(runs)
    paired = {"results": str(args.results), "results_commit": results.get("commit"),
              "significance": tests, "machine": machine_info("cpu"),
              "date": time.strftime("%Y-%m-%d"), "commit": git_commit()}  # fmt: skip
    body = (f"Run of commit {results.get('commit')} ({args.results.name}, "
            f"{results.get('date')}); tests from commit {paired['commit']}.\n\n"
            + significance_table(tests))  # fmt: skip
    save_results(f"{args.results.stem}-paired", paired, body,
                 title=f"Paired BLEU-4 tests: {args.results.stem}")  # fmt: skip


if __name__ == "__main__":
    main()
