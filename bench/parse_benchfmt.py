"""Parse speed on >= 1,000,000 lines of benchmark text: the line parser (releaselab.bench.benchfmt,
text -> records) and the vectorised parser (releaselab.bench.benchtext, text -> the long frame,
which is more work than records: configuration in force, GOMAXPROCS, one row per value).

Two inputs: the real captured tests/data/bench/lab.txt replicated (config-heavy: a config block
per run, as the lab writes it), and generated -benchmem lines with fresh values on every line
(what a long `go test -bench -count` run looks like). Run: python bench/parse_benchfmt.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from stats_speed import make_text  # noqa: E402

from releaselab.bench import benchfmt, benchtext  # noqa: E402

LINES = 1_000_000


def line_parser(text: str) -> int:
    return sum(1 for _ in benchfmt.parse(text))


def vectorised(text: str) -> int:
    return benchtext.parse(text).frame.height


def measure(label: str, text: str, parser: Callable[[str], int], what: str) -> None:
    n_lines = text.count("\n")
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        n_out = parser(text)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    print(
        f"{label}: {n_lines:,} lines, {n_out:,} {what}, best of 3:"
        f" {n_lines / best_wall:,.0f} lines/s wall, {n_lines / best_cpu:,.0f} lines/s CPU"
    )


def main() -> None:
    real = (ROOT / "tests" / "data" / "bench" / "lab.txt").read_text()
    inputs = {
        "real lab.txt replicated": real * (LINES // real.count("\n") + 1),
        "generated -benchmem lines": make_text(10, total_rows=4 * LINES),  # 4 values per line
    }
    for label, text in inputs.items():
        measure(f"{label}, line parser (records)", text, line_parser, "records")
        measure(f"{label}, benchtext (frame)", text, vectorised, "rows")


if __name__ == "__main__":
    main()
