"""Parse speed of releaselab.bench.benchfmt on >= 1,000,000 lines of benchmark text.

Two inputs: the real captured tests/data/bench/lab.txt replicated (config-heavy: a config block
per run, as the lab writes it), and generated -benchmem lines with fresh values on every line
(what a long `go test -bench -count` run looks like). Run: python bench/parse_benchfmt.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from stats_speed import make_text  # noqa: E402

from releaselab.bench import benchfmt  # noqa: E402

LINES = 1_000_000


def measure(label: str, text: str) -> None:
    n_lines = text.count("\n")
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        n_records = sum(1 for _ in benchfmt.parse(text))
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    print(
        f"{label}: {n_lines:,} lines, {n_records:,} records, best of 3:"
        f" {n_lines / best_wall:,.0f} lines/s wall, {n_lines / best_cpu:,.0f} lines/s CPU"
    )


def main() -> None:
    real = (ROOT / "tests" / "data" / "bench" / "lab.txt").read_text()
    measure("real lab.txt replicated", real * (LINES // real.count("\n") + 1))
    generated = make_text(10, total_rows=4 * LINES)  # 4 values per line
    measure("generated -benchmem lines", generated)


if __name__ == "__main__":
    main()
