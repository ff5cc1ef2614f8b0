"""Differential test: releaselab.bench.stats against real benchstat on generated benchmark files.

Hypothesis writes Go benchmark text (2-3 columns, 1 to 60 samples per cell, heavy ties, exact
units with and without `Unit ... assume=exact` lines, benchmarks missing from some columns,
several GOMAXPROCS as config lines or name suffixes, custom units), runs the benchstat
`make test` builds (`-format csv`: the table on stdout, every warning on stderr with its cell),
and compares every printed center, interval, p-value, delta, geomean and warning with ours,
after exactly stats.DIFFERENCES_FROM_BENCHSTAT are applied to benchstat's output
(tests/test_stats.py `expected_cells`). For the tied-tail difference it also runs benchstat
with each column as the baseline (`-col 'go@(COL base)'`), which prints the other tail.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releaselab.bench import stats
from tests.test_stats import check_against_benchstat, run_benchstat

COLUMNS = ("base", "new", "alt")
NAMES = ("Sum", "Join", "Copy/size=64", "Grow")
EXTRA_UNITS = ("B/op", "allocs/op", "items/op", "ns/elem")  # ns/elem: tidied to sec/elem
TIDIED_UNITS = ("ns/op", "ns/elem")
EXAMPLES = 1000


@dataclass(frozen=True)
class BenchFile:
    text: str
    columns: tuple[str, ...]
    exact: bool  # Unit lines honoured (always: benchstat reads them when present)


@st.composite
def bench_files(draw: st.DrawFn) -> BenchFile:
    cols = COLUMNS[: draw(st.integers(2, 3))]
    procs = draw(st.lists(st.sampled_from([1, 2, 4, 8]), min_size=1, max_size=3, unique=True))
    procs_in_name = draw(st.booleans())  # BenchmarkX-4 (as go test -cpu) vs "gomaxprocs: 4"
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    units = ("ns/op", *draw(st.lists(st.sampled_from(EXTRA_UNITS), unique=True, max_size=3)))
    unit_lines = draw(st.lists(st.sampled_from(units[1:] or ("B/op",)), unique=True))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)

    # samples per (col, procs, name); absent cells: benchmarks missing from some columns.
    sizes: dict[tuple[str, int, str], int] = {}
    for col in cols:
        for p in procs:
            for name in names:
                # every table needs the baseline (benchstat's first column) and every column a cell
                forced = name == names[0] and (col == "base" or p == procs[0])
                if forced or draw(st.integers(0, 5)) > 0:
                    small = draw(st.booleans())
                    sizes[(col, p, name)] = draw(st.integers(1, 8 if small else 60))
    # how each (name, unit) varies: few tied values, continuous, or constant (exact-like)
    styles = {
        (name, u): draw(st.sampled_from(["tied", "tied", "continuous", "constant", "zeroish"]))
        for name in names
        for u in units
    }
    shift = {col: draw(st.sampled_from([0, 0, 1, 2, 5])) for col in cols}

    def value(name: str, unit: str, col: str) -> str:
        style = styles[(name, unit)]
        base = 10 * (NAMES.index(name) + 1)
        if style == "tied":
            return str(base + shift[col] + rng.choice([0, 0, 1, 2]))
        if style == "continuous":
            return f"{rng.uniform(base, base * 1.3) + shift[col]:.3f}"
        if style == "constant":
            return str(base + (shift[col] if rng.random() < 0.8 else rng.randint(0, 3)))
        # zeros and negatives: geomean and interval warnings ("?", summaries must be >0). Not
        # in units benchstat tidies: it keeps "0 ns/op" untidied (benchfmt's Reader tidies only
        # when value*factor != value), so zeros would split a column into two tables.
        if unit in TIDIED_UNITS:
            return str(rng.choice([1, 1, 2]))
        return str(rng.choice([0, 0, 0, 1, -1] if unit == "items/op" else [0, 0, 1]))

    lines = [f"Unit {u} assume=exact" for u in unit_lines]
    for r in range(max(sizes.values())):
        for col in cols:
            for p in procs:
                lines.append(f"go: {col}")
                if not procs_in_name:
                    lines.append(f"gomaxprocs: {p}")
                for name in names:
                    if sizes.get((col, p, name), 0) <= r:
                        continue
                    suffix = f"-{p}" if procs_in_name and p != 1 else ""
                    fields = [f"Benchmark{name}{suffix}", "1000"]
                    for u in units:
                        fields += [value(name, u, col), u]
                    lines.append("\t".join(fields))
    present = tuple(c for c in cols if any(k[0] == c for k in sizes))
    return BenchFile("\n".join(lines) + "\n", present, exact=True)


def test_stats_equal_benchstat_on_generated_files() -> None:
    counts: Counter[str] = Counter()
    applied: Counter[str] = Counter()
    started = time.monotonic()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(bench_files())
    def check(f: BenchFile) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            bs = run_benchstat(f.text, tmp_path, f"go@({' '.join(f.columns)})")
            mirrored = {c: run_benchstat(f.text, tmp_path, f"go@({c} base)") for c in f.columns[1:]}
            checks: Counter[str] = Counter()
            diffs: Counter[str] = Counter()
            cells = check_against_benchstat(f.text, "base", f.exact, bs, mirrored, checks, diffs)
        # only a passing example counts (hypothesis reruns failing ones while shrinking)
        counts["files"] += 1
        counts["benchstat runs"] += 1 + len(mirrored)
        counts["cells"] += cells
        counts["tests"] += sum(1 for c in bs.cells.values() if c.p and c.p.startswith("p="))
        counts["geomeans"] += len(bs.geomeans)
        counts.update({f"compared {k}": v for k, v in checks.items()})
        applied.update(diffs)

    check()
    compared = sum(v for k, v in counts.items() if k.startswith("compared "))
    print(
        f"\ndifferential: {counts['files']} files, {counts['cells']} cells "
        f"({counts['tests']} Mann-Whitney tests), {counts['geomeans']} geomeans, "
        f"{compared} comparisons, {counts['benchstat runs']} benchstat runs, "
        f"{time.monotonic() - started:.1f} s; " + ", ".join(f"{k}: {v}" for k, v in counts.items())
    )
    print("differences applied: " + ", ".join(f"{k}: {v}" for k, v in sorted(applied.items())))
    assert counts["files"] >= EXAMPLES * 0.9
    assert counts["tests"] > counts["files"]
    # the generator reaches every intended difference (else it tests less than it claims)
    assert set(applied) == {d.key for d in stats.DIFFERENCES_FROM_BENCHSTAT}, applied
