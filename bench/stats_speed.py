"""Time releaselab.bench.stats on 1,000,000 sample rows, and real benchstat on the same text.

Shape (realistic for the lab): 2 toolchains x 2 GOMAXPROCS x BENCHMARKS benchmarks x 4 units
(ns/op, MB/s, B/op, allocs/op) x COUNT samples; values printed the way `go test` prints them,
so ties happen as often as they do in real output. Run: python bench/stats_speed.py [COUNT].
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from releaselab.bench import benchfmt, stats

TOTAL_ROWS = 1_000_000
TOOLCHAINS = ("1.25.5", "1.27.3")
GOMAXPROCS = ("1", "2")


def go_pretty(ns: float) -> str:
    """testing.prettyPrint: about 4 significant digits, which is what makes ties."""
    y = abs(ns)
    if y == 0 or y >= 999.95:
        return f"{ns:.0f}"
    if y >= 99.995:
        return f"{ns:.1f}"
    if y >= 9.9995:
        return f"{ns:.2f}"
    if y >= 0.99995:
        return f"{ns:.3f}"
    return f"{ns:.4f}"


def make_text(count: int, seed: int = 1, total_rows: int = TOTAL_ROWS) -> str:
    """Benchmark text with lab config lines, interleaved rounds, -benchmem and SetBytes.

    `total_rows` values, 4 per line (so total_rows / 4 result lines).
    """
    n_bench = total_rows // (len(TOOLCHAINS) * len(GOMAXPROCS) * 4 * count)
    rng = np.random.default_rng(seed)
    base_ns = np.exp(rng.uniform(np.log(2), np.log(2e6), n_bench))
    shift = {"1.25.5": np.ones(n_bench), "1.27.3": rng.choice([0.9, 1.0, 1.0, 1.05], n_bench)}
    allocs = rng.integers(0, 4, n_bench)
    out: list[str] = []
    for rnd in range(1, count + 1):
        for go in TOOLCHAINS:
            for gmp in GOMAXPROCS:
                out.append(f"go: {go}\ngomaxprocs: {gmp}\nround: {rnd}\n")
                suffix = "" if gmp == "1" else f"-{gmp}"
                ns = base_ns * shift[go] * rng.lognormal(0, 0.02, n_bench)
                out.extend(
                    f"BenchmarkB{i}{suffix}\t1000\t{go_pretty(ns[i])} ns/op\t"
                    f"{4096e3 / ns[i]:.2f} MB/s\t{allocs[i] * 16} B/op\t{allocs[i]} allocs/op\n"
                    for i in range(n_bench)
                )
    return "".join(out)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    text = make_text(count)
    t0 = time.perf_counter()
    rows = benchfmt.to_long_rows(benchfmt.parse(text))
    df = pl.DataFrame(
        [{k: r[k] for k in ("go", "gomaxprocs", "name", "unit", "value")} for r in rows]
    )
    t_parse = time.perf_counter() - t0
    print(f"rows: {df.height:,} ({count} samples per cell), parse+frame {t_parse:.2f} s")

    t0 = time.perf_counter()
    res = stats.compare(df, TOOLCHAINS[0])
    geo = stats.geomean(res)
    t_stats = time.perf_counter() - t0
    cpu = time.process_time()
    n_tests = res.filter(pl.col("assumption") == "nothing")["p_value"].is_not_null().sum()
    print(
        f"releaselab.bench.stats compare+geomean: {t_stats:.2f} s wall for {res.height:,} cells,"
        f" {n_tests:,} U tests, {geo.height} geomean rows (process CPU so far {cpu:.1f} s)"
    )

    # Where the dev setup builds it when it is not on PATH.
    fallback = "/tmp/gotools/benchstat"  # noqa: S108
    binary = os.environ.get("BENCHSTAT") or shutil.which("benchstat") or fallback
    if not Path(binary).is_file():
        print("benchstat not found: skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "bench.txt"
        src.write_text(text)
        t0 = time.perf_counter()
        subprocess.run(
            [binary, "-format", "csv", "-col", "go", "-ignore", "round", str(src)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"benchstat (same text, parse+stats): {time.perf_counter() - t0:.2f} s wall")


if __name__ == "__main__":
    main()
