"""Text -> statistics on 1,000,000 sample rows, ours against real benchstat on the same file.

Ours end to end: read the file, parse it into the long frame (releaselab.bench.benchtext), the
statistics (stats.compare) and the geomean rows; benchstat: the same file to its CSV, in the same
run, so the ratio is fair on a busy machine. `--reference` also times the line parser's path
(benchfmt.parse -> to_long_rows -> frame) and checks both frames are equal.

Shape (realistic for the lab): 2 toolchains x 2 GOMAXPROCS x BENCHMARKS benchmarks x 4 units
(ns/op, MB/s, B/op, allocs/op) x COUNT samples; values printed the way `go test` prints them,
so ties happen as often as they do in real output.
Run: python bench/stats_speed.py [COUNT] [--reference].
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from devtools import gotools
from releaselab.bench import benchtext, stats

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


def ours(path: Path) -> tuple[float, float, float, pl.DataFrame, pl.DataFrame]:
    """Read -> frame -> compare -> geomean: (parse s, compare s, geomean s, frame, stats)."""
    t0 = time.perf_counter()
    parsed = benchtext.parse(path.read_bytes())
    df = parsed.frame
    t1 = time.perf_counter()
    res = stats.compare(df, TOOLCHAINS[0])
    t2 = time.perf_counter()
    stats.geomean(res)
    return t1 - t0, t2 - t1, time.perf_counter() - t2, df, res


def benchstat(binary: str, path: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [binary, "-format", "csv", "-col", "go", "-ignore", "round", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def reference(text: str, df: pl.DataFrame) -> None:
    """The line parser's path on the same text: time, and the same frame."""
    t0 = time.perf_counter()
    ref = benchtext.reference(text).frame
    print(
        f"line parser (benchfmt.parse -> to_long_rows -> frame): {time.perf_counter() - t0:.2f} s"
    )
    if not ref.equals(df):
        raise SystemExit("the vectorised parser's frame differs from the line parser's")
    print("frames equal")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 10
    text = make_text(count)
    # Where the dev setup builds it when it is not on PATH.
    binary = os.environ.get("BENCHSTAT") or str(gotools.ensure("benchstat"))  # make test's
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "bench.txt"
        src.write_text(text)
        t_parse, t_cmp, t_geo, df, res = ours(src)
        ours_total = t_parse + t_cmp + t_geo
        n_tests = res.filter(pl.col("assumption") == "nothing")["p_value"].is_not_null().sum()
        print(f"rows: {df.height:,} ({count} samples per cell), {res.height:,} cells, "
              f"{n_tests:,} U tests")  # fmt: skip
        print(f"ours: read+parse->frame {t_parse:.2f} s, compare {t_cmp:.2f} s, "
              f"geomean {t_geo:.2f} s: end to end {ours_total:.2f} s wall")  # fmt: skip
        if not Path(binary).is_file():
            print("benchstat not found: skipped")
        else:
            t_bs = benchstat(binary, src)
            print(f"benchstat (same file, parse+stats): {t_bs:.2f} s wall")
            print(f"ratio benchstat / ours: {t_bs / ours_total:.2f}x")
    if "--reference" in sys.argv:
        reference(text, df)


if __name__ == "__main__":
    main()
