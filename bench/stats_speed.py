"""Text -> statistics on 1,000,000 sample rows, ours against real benchstat on the same file.

Ours end to end: read the file, parse it into the long frame (releaselab.bench.benchtext), the
statistics (stats.compare) and the geomean rows; benchstat: the same file to its CSV. Each run
is a fresh process for both (no warm caches: benchstat starts cold too), and the two alternate,
REPEAT times (--repeat, default 5) in the same run, so a busy machine (shared cores) slows both
alike: every run's ratio is printed, then the median. Timed inside our process from reading the
file; benchstat's time is its process's wall time (its start-up is a few ms, Python's is not
counted). The CPU time of both (every thread: Polars and Go both use the cores) is printed too:
on a loaded machine it is the steadier comparison of the work done. `--reference` also times the
line parser's path (benchfmt.parse -> to_long_rows -> frame) and checks both frames are equal.

Shape (realistic for the lab): 2 toolchains x 2 GOMAXPROCS x BENCHMARKS benchmarks x 4 units
(ns/op, MB/s, B/op, allocs/op) x COUNT samples; values printed the way `go test` prints them,
so ties happen as often as they do in real output.
Run: python bench/stats_speed.py [COUNT] [--repeat N] [--reference].
"""

from __future__ import annotations

import json
import os
import resource
import statistics
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


def ours_in_a_fresh_process(path: Path) -> dict[str, float]:
    """`ours` in a new interpreter (imports done before the clock starts), as JSON."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    timing: dict[str, float] = json.loads(out.stdout)
    return timing


def child(path: Path) -> None:
    cpu = time.process_time()
    t_parse, t_cmp, t_geo, df, res = ours(path)
    cpu = time.process_time() - cpu  # every thread's (Polars runs several)
    n_tests = res.filter(pl.col("assumption") == "nothing")["p_value"].is_not_null().sum()
    print(json.dumps({"parse": t_parse, "compare": t_cmp, "geomean": t_geo, "cpu": cpu,
                      "rows": df.height, "cells": res.height, "tests": int(n_tests)}))  # fmt: skip


def benchstat(binary: str, path: Path) -> tuple[float, float]:
    """benchstat's (wall s, CPU s: user + system of every thread)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [binary, "-format", "csv", "-col", "go", "-ignore", "round", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


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
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]))
        return
    args = sys.argv[1:]
    repeat = 5
    if "--repeat" in args:
        at = args.index("--repeat")
        repeat = int(args[at + 1])
        del args[at : at + 2]
    args = [a for a in args if not a.startswith("--")]
    count = int(args[0]) if args else 10
    text = make_text(count)
    # Where the dev setup builds it when it is not on PATH.
    binary = os.environ.get("BENCHSTAT") or str(gotools.ensure("benchstat"))  # make test's
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "bench.txt"
        src.write_text(text)
        for run in range(1, repeat + 1):
            # Alternate who goes first, so a slow stretch of the machine hits both alike.
            bs = benchstat(binary, src) if run % 2 == 0 else None
            t = ours_in_a_fresh_process(src)
            t_bs, cpu_bs = bs or benchstat(binary, src)
            total = t["parse"] + t["compare"] + t["geomean"]
            if run == 1:
                print(f"rows: {t['rows']:,.0f} ({count} samples per cell), {t['cells']:,.0f} "
                      f"cells, {t['tests']:,.0f} U tests")  # fmt: skip
            ratios.append(t_bs / total)
            cpu_ratios.append(cpu_bs / t["cpu"])
            print(f"run {run}: ours {total:.2f} s (read+parse->frame {t['parse']:.2f}, compare "
                  f"{t['compare']:.2f}, geomean {t['geomean']:.2f}; CPU {t['cpu']:.2f} s), "
                  f"benchstat {t_bs:.2f} s (CPU {cpu_bs:.2f} s): {ratios[-1]:.2f}x")  # fmt: skip
        if "--reference" in sys.argv:
            _, _, _, df, _ = ours(src)
            reference(text, df)
    print(f"ratio benchstat / ours: median {statistics.median(ratios):.2f}x, "
          f"min {min(ratios):.2f}x, max {max(ratios):.2f}x over {repeat} runs "
          f"(CPU time: median {statistics.median(cpu_ratios):.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
