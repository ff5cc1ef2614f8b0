"""releaselab.bench.stats against real benchstat: saved `benchstat -format csv` output, and live
with the benchstat `make test` builds (devtools.gotools; built here if missing, never skipped).

Ours equals benchstat's output with exactly stats.DIFFERENCES_FROM_BENCHSTAT applied to it
(`expected_cells`); tests/test_stats_differential.py does the same on generated files."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import subprocess
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from devtools import gotools
from releaselab.bench import benchfmt, stats
from releaselab.core import gocmd
from releaselab.core.gocmd import Toolchain

DATA = Path(__file__).parent / "data" / "bench"


@functools.cache
def benchstat_binary() -> str:
    """The benchstat `make test` builds (pinned in devtools.gotools.TOOLS), built if missing.

    Never a skip: a missing benchstat fails the parity tests (LabError from the build)."""
    path = gotools.ensure("benchstat")
    assert path == gotools.tool_path("benchstat")
    assert path.is_file(), f"benchstat was not built at {path}"
    return str(path)


# --- benchstat's CSV --------------------------------------------------------------------------


@dataclass
class Cell:
    """One benchstat cell as printed, with the warnings its CSV side channel gave it: those at
    the center column (sample and summary) and those at the delta column (comparison)."""

    center: str
    ci: str
    delta: str | None = None
    p: str | None = None
    warnings: list[str] = field(default_factory=list)
    cmp_warnings: list[str] = field(default_factory=list)


Key = tuple[str, str, str, str]  # (gomaxprocs, row label, unit, column)


def _start_col(exp: int) -> int:
    return 1 if exp == 0 else 3 + 4 * (exp - 1)


def _col_letter(col: int) -> str:
    return chr(ord("A") + col)


def parse_benchstat_csv(
    text: str, warnings_text: str
) -> tuple[dict[Key, Cell], dict[tuple[str, str, str], Cell]]:
    """-> cells by (gomaxprocs, row label, unit, column) and geomeans by (gomaxprocs, unit, col)."""
    warns: dict[tuple[int, str], list[str]] = defaultdict(list)
    for line in warnings_text.splitlines():
        ref, _, msg = line.partition(": ")
        letters = ref.rstrip("0123456789")
        warns[(int(ref[len(letters) :]), letters)].append(msg)
    cells: dict[Key, Cell] = {}
    geo: dict[tuple[str, str, str], Cell] = {}
    config: dict[str, str] = {}
    cols: list[str] = []
    unit = ""
    state = "header"
    for rownum, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or row == [""]:
            state = "header"
            continue
        if state == "header" and len(row) == 1:
            key, _, value = row[0].partition(": ")
            config[key] = value
            continue
        if state == "header":
            cols = [row[_start_col(e)] for e in range(len(row)) if _start_col(e) < len(row)]
            cols = [c for c in cols if c]
            state = "units"
            continue
        if state == "units":
            unit = row[1]
            state = "rows"
            continue
        gmp = config.get("gomaxprocs", "")
        for exp, col in enumerate(cols):
            c = _start_col(exp)
            at = warns.get((rownum, _col_letter(c)), [])
            if row[0] == "geomean":
                delta = row[c + 2] if exp > 0 and len(row) > c + 2 else None
                geo[(gmp, unit, col)] = Cell(
                    row[c] if len(row) > c else "", "", delta, None, list(at)
                )
                continue
            if len(row) <= c or row[c] == "":
                continue
            cell = Cell(row[c], row[c + 1], warnings=list(at))
            if exp > 0 and len(row) > c + 3 and row[c + 3]:  # blank: no baseline cell
                cell.delta, cell.p = row[c + 2], row[c + 3]
                cell.cmp_warnings = list(warns.get((rownum, _col_letter(c + 2)), []))
            cells[(gmp, row[0], unit, col)] = cell
    return cells, geo


def run_benchstat(text: str, tmp_path: Path, cols: str, extra: Sequence[str] = ()) -> Output:
    """benchstat -format csv -col COLS on text: the table on stdout, warnings on stderr."""
    src = tmp_path / "input.txt"
    src.write_text(text)
    proc = subprocess.run(
        [benchstat_binary(), "-format", "csv", "-col", cols, *extra, src.name],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return Output(*parse_benchstat_csv(proc.stdout, proc.stderr))


@dataclass
class Output:
    cells: dict[Key, Cell]
    geomeans: dict[tuple[str, str, str], Cell]


# --- the same numbers from releaselab.bench.stats ---------------------------------------------


def long_frame(text: str) -> tuple[pl.DataFrame, dict[tuple[str, str], str]]:
    """Parsed text -> long frame in benchstat's tidied units, rows named by full name."""
    records = list(benchfmt.parse(text))
    rows = []
    for r in benchfmt.to_long_rows(records):
        unit, factor = benchfmt.tidy_unit(str(r["unit"]))
        value = r["value"]
        assert isinstance(value, float)
        rows.append(
            {"go": r["go"], "gomaxprocs": r["gomaxprocs"], "name": r["full_name"],
             "unit": unit, "value": value * factor}
        )  # fmt: skip
    return pl.DataFrame(rows), benchfmt.unit_metadata(records)


def exact_units_of(df: pl.DataFrame, meta: dict[tuple[str, str], str], exact: bool) -> set[str]:
    """The units benchstat assumes exact: those with a `Unit U assume=exact` line (if honoured)."""
    units = set(df["unit"].unique().to_list())
    return {u for u in units if benchfmt.is_exact_unit(u, meta, frozenset())} if exact else set()


def ours(
    df: pl.DataFrame,
    meta: dict[tuple[str, str], str],
    baseline: str,
    exact: bool,
    geo_keys: tuple[str, ...] = ("gomaxprocs", "unit"),
) -> Ours:
    """geo_keys: benchstat's tables (one per gomaxprocs config value, else one for all)."""
    res = stats.compare(df, baseline, exact_units=exact_units_of(df, meta, exact))
    return Ours(res, stats.geomean(res, keys=geo_keys))


@dataclass
class Ours:
    stats: pl.DataFrame
    geomean: pl.DataFrame


def samples(df: pl.DataFrame) -> dict[Key, list[float]]:
    """Every cell's values by (gomaxprocs, name, unit, go), as benchstat groups them."""
    out: dict[Key, list[float]] = defaultdict(list)
    for r in df.iter_rows(named=True):
        out[(str(r["gomaxprocs"]), r["name"], r["unit"], r["go"])].append(r["value"])
    return out


# --- DIFFERENCES_FROM_BENCHSTAT applied to benchstat's output ---------------------------------

# benchmath's uTestSamples at alpha 0.05 (its "need >= 4 samples to detect a difference").
NEED_SAMPLES = 4
assert {d.key for d in stats.DIFFERENCES_FROM_BENCHSTAT} == {
    "p_clamped_to_1", "tied_exact_tail", "too_few_samples_never_significant"
}, "a new difference must be applied in expected_cells"  # fmt: skip


def _p_and_n(text: str) -> tuple[float, int, int]:
    """benchstat's "p=0.123 n=5+6" -> (p, n_baseline, n); no p: p = 0."""
    head, _, n_text = text.rpartition("n=")
    p = float(head.strip()[2:]) if head.startswith("p=") else 0.0
    nb, _, n = n_text.partition("+")
    return p, int(nb), int(n or nb)


def _format_delta(old: float, new: float) -> str:
    """benchstat's FormatDelta past its "~" (old and new as benchstat printed them)."""
    if old == new:
        return "0.00%"
    if old == 0:
        return "?"
    return f"{(new / old - 1.0) * 100.0:+.2f}%"


def _u_tail_is_upper(x1: Sequence[float], x2: Sequence[float]) -> bool:
    """Ties and benchmath's exact branch and U1 > U2: benchstat reads the wrong tail."""
    pooled = sorted([*x1, *x2])
    if len(set(pooled)) == len(pooled) or max(len(x1), len(x2)) > stats.TIES_EXACT_LIMIT:
        return False
    first = {v: pooled.index(v) for v in pooled}
    count = Counter(pooled)
    two_r1 = sum(2 * first[v] + count[v] + 1 for v in x1)  # 2 * sum of mid-ranks
    two_u1 = two_r1 - len(x1) * (len(x1) + 1)
    return two_u1 > len(x1) * len(x2)  # U1 > n1*n2/2, i.e. U1 > U2


def expected_cells(  # noqa: PLR0917 - the inputs of one comparison
    bs: Output,
    values: Mapping[Key, list[float]],
    baseline: str,
    mirrored: Mapping[str, Output] | None,
    exact_units: Collection[str],
    applied: Counter[str] | None = None,
) -> dict[Key, Cell]:
    """benchstat's cells with exactly stats.DIFFERENCES_FROM_BENCHSTAT applied.

    exact_units: the units benchstat assumes exact (its p = 0 is then no test: nothing differs).
    mirrored[col]: benchstat's output with `col` as the baseline and `baseline` second, which
    holds the other tail of each of col's comparisons ("tied_exact_tail").
    """
    out: dict[Key, Cell] = {}
    for key, cell in bs.cells.items():
        gmp, name, unit, col = key
        if cell.p is None or cell.delta is None or unit in exact_units:
            out[key] = cell
            continue
        p, nb, n = _p_and_n(cell.p)
        p_text = cell.p[: cell.p.rindex("n=")]  # as printed: "p=0.000 " is not "" (p = 0)
        delta, cmp_warnings = cell.delta, cell.cmp_warnings
        base_key = (gmp, name, unit, baseline)
        if _u_tail_is_upper(_values(values, base_key), _values(values, key)):
            assert mirrored is not None, f"{key}: no mirrored benchstat run"
            m = mirrored[col].cells[base_key]
            assert m.p is not None
            assert m.delta is not None
            p_m, _, _ = _p_and_n(m.p)
            if (p_m, m.delta == "~") != (p, delta == "~"):
                _count(applied, "tied_exact_tail")
            p, cmp_warnings = p_m, m.cmp_warnings
            p_text = m.p[: m.p.rindex("n=")]
            delta = "~" if m.delta == "~" else "delta"
        if p > 1:
            _count(applied, "p_clamped_to_1")
            p, p_text = 1.0, "p=1.000 "
        if min(nb, n) < NEED_SAMPLES and delta != "~":
            _count(applied, "too_few_samples_never_significant")
            delta = "~"
        if delta == "delta":
            delta = _format_delta(float(bs.cells[base_key].center), float(cell.center))
        n_text = f"n={n}" if n == nb else f"n={nb}+{n}"
        out[key] = replace(cell, delta=delta, p=p_text + n_text, cmp_warnings=cmp_warnings)
    return out


def _values(values: Mapping[Key, list[float]], key: Key) -> list[float]:
    if key in values:
        return values[key]
    _, name, unit, col = key  # no gomaxprocs config line: procs came from the name's suffix
    (found,) = [v for k, v in values.items() if k[1:] == (name, unit, col)]
    return found


def _count(counter: Counter[str] | None, what: str) -> None:
    if counter is not None:
        counter[what] += 1


def assert_parity(
    ours_: Ours, bs: Output, expected: Mapping[Key, Cell], checks: Counter[str] | None = None
) -> int:
    """Every benchstat cell (after the differences) equals ours as printed; counts what it
    compared in `checks`, returns how many cells were checked."""
    res, geo = ours_.stats, ours_.geomean
    by_key = {
        (str(r["gomaxprocs"]), r["name"], r["unit"], r["go"]): r for r in res.iter_rows(named=True)
    }
    assert len(expected) == len(by_key), (sorted(expected), sorted(by_key))
    for key, cell in expected.items():
        gmp, name, unit, col = key
        if not gmp:  # no gomaxprocs config line: procs came from the name's suffix
            gmp = next(k[0] for k in by_key if k[1:] == (name, unit, col))
        r = by_key[(gmp, name, unit, col)]
        where = f"{gmp} {name} {unit} {col}"
        assert float(cell.center) == pytest.approx(r["center"], rel=1e-15, abs=0), where
        assert cell.ci == stats.format_ci(r["center"], r["ci_low"], r["ci_high"]), where
        want = cell.warnings + (cell.cmp_warnings if cell.p else [])
        assert r["warnings"] == want, f"{where}: {r['warnings']} != {want}"
        _count(checks, "center")
        _count(checks, "interval")
        _count(checks, "warnings")
        if cell.p is not None:
            too_few = r["assumption"] != "exact" and stats.too_few_samples(r["n_baseline"], r["n"])
            got = stats.format_p(r["p_value"], r["n"], r["n_baseline"])
            assert cell.p == got, f"{where}: {got} != {cell.p}"
            got = stats.format_delta(r["delta"], r["p_value"], too_few=too_few)
            assert cell.delta == got, f"{where}: {got} != {cell.delta}"
            # significant (Holm) can only be true where benchstat's "vs base" is a difference
            assert not r["significant"] or cell.delta != "~", where
            _count(checks, "p_value")
            _count(checks, "delta")
        else:
            assert r["p_value"] is None or r["n_baseline"] is None, where
    rows = {
        (str(r.get("gomaxprocs", "")), r["unit"], r["go"]): r for r in geo.iter_rows(named=True)
    }
    assert len(rows) == len(bs.geomeans)
    for (gmp, unit, col), cell in bs.geomeans.items():
        g = rows[(gmp, unit, col)]
        if cell.center:
            assert float(cell.center) == pytest.approx(g["center"], rel=1e-12)
        else:
            assert g["center"] is None
        if cell.delta is not None:
            expect = "?" if g["delta"] is None else f"{g['delta']:+.2f}%"
            assert cell.delta == expect, f"geomean {unit} {col}"
            _count(checks, "geomean delta")
        assert cell.warnings == g["warnings"], f"geomean {unit} {col}"
        _count(checks, "geomean center")
        _count(checks, "warnings")
    return len(expected)


CASES = [
    # (input file, saved csv stem, baseline, Unit lines honoured, benchstat's extra arguments)
    ("lab.txt", "lab.exact", "1.25.5", True, ("-ignore", "round")),
    ("lab.txt", "lab.nothing", "1.25.5", False, ("-ignore", "round")),
    ("synthetic.txt", "synthetic", "base", False, ()),
]
# The other column of each case: STEM.mirror.csv is benchstat -col 'go@(OTHER BASELINE)'.
OTHER = {"1.25.5": "1.27.3", "base": "new"}


def _saved(stem: str) -> Output:
    return Output(*parse_benchstat_csv(
        (DATA / f"{stem}.csv").read_text(), (DATA / f"{stem}.warnings").read_text()
    ))  # fmt: skip


def _strip_unit_lines(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if not line.startswith("Unit "))


def _input_text(name: str, exact: bool) -> str:
    text = (DATA / name).read_text()
    return text if exact or name != "lab.txt" else _strip_unit_lines(text)


def check_against_benchstat(  # noqa: PLR0917 - the inputs of one comparison
    text: str,
    baseline: str,
    exact: bool,
    bs: Output,
    mirrored: Mapping[str, Output] | None,
    checks: Counter[str] | None = None,
    applied: Counter[str] | None = None,
) -> int:
    df, meta = long_frame(text)
    exact_units = exact_units_of(df, meta, exact)
    expected = expected_cells(bs, samples(df), baseline, mirrored, exact_units, applied)
    tables = {k[0] for k in bs.cells}  # "": no gomaxprocs config line, one table for all
    geo_keys = ("gomaxprocs", "unit") if tables != {""} else ("unit",)
    return assert_parity(ours(df, meta, baseline, exact, geo_keys), bs, expected, checks)


@pytest.mark.parametrize(("name", "stem", "baseline", "exact", "extra"), CASES)
def test_matches_saved_benchstat_output(
    name: str, stem: str, baseline: str, exact: bool, extra: tuple[str, ...]
) -> None:
    del extra
    mirrored = {OTHER[baseline]: _saved(f"{stem}.mirror")}
    checked = check_against_benchstat(
        _input_text(name, exact), baseline, exact, _saved(stem), mirrored
    )
    assert checked > 10


@pytest.mark.parametrize(("name", "stem", "baseline", "exact", "extra"), CASES)
def test_matches_live_benchstat(  # noqa: PLR0917 - parametrized
    name: str, stem: str, baseline: str, exact: bool, extra: tuple[str, ...], tmp_path: Path
) -> None:
    text = _input_text(name, exact)
    bs = run_benchstat(text, tmp_path, "go", extra)
    cols = sorted({k[3] for k in bs.cells} - {baseline})
    mirrored = {c: run_benchstat(text, tmp_path, f"go@({c} {baseline})", extra) for c in cols}
    assert check_against_benchstat(text, baseline, exact, bs, mirrored) > 10
    # the saved output is what this benchstat prints
    saved = _saved(stem)
    assert (saved.cells, saved.geomeans) == (bs.cells, bs.geomeans)
    saved_mirror = _saved(f"{stem}.mirror").cells
    assert saved_mirror == mirrored[OTHER[baseline]].cells


def test_one_sample_against_twenty_tied_is_not_significant(tmp_path: Path) -> None:
    """The issue's case: benchstat prints p=1.905 (unclamped, and its tied CDF adds the mass of
    a value below the support); the exact tied p is 2/21 and n=1 can never be significant."""
    text = "go: base\nBenchmarkX 1 48 B/op\ngo: new\n" + "BenchmarkX 1 16 B/op\n" * 20
    bs = run_benchstat(text, tmp_path, "go")
    (cell,) = [c for k, c in bs.cells.items() if k[3] == "new"]
    assert (cell.delta, cell.p) == ("~", "p=1.905 n=1+20")
    df, meta = long_frame(text)
    res = ours(df, meta, "base", exact=False).stats.filter(pl.col("go") == "new")
    (row,) = res.iter_rows(named=True)
    assert row["p_value"] == pytest.approx(2 / 21, rel=1e-12)
    assert row["significant"] is False
    assert row["delta"] == pytest.approx(-200 / 3)
    assert stats.format_delta(row["delta"], row["p_value"], too_few=True) == "~"
    mirrored = {"new": run_benchstat(text, tmp_path, "go@(new base)")}
    assert check_against_benchstat(text, "base", False, bs, mirrored) == 2


def test_geomean_of_cancelling_ratios_has_benchstats_sign(tmp_path: Path) -> None:
    """B/op 35 -> 36 and 36 -> 35: the ratios' logs cancel to -2**-54, whose exp benchstat (Go)
    rounds to 1.0: `+0.00%`. NumPy's exp rounds it to 1 - 2**-53, which printed `-0.00%`."""
    text = (
        "go: base\nBenchmarkCopy 1 35 B/op\nBenchmarkCopy-2 1 36 B/op\nBenchmarkCopy-4 1 35 B/op\n"
        "go: new\nBenchmarkCopy 1 36 B/op\nBenchmarkCopy-2 1 35 B/op\n"
    )
    bs = run_benchstat(text, tmp_path, "go")
    assert bs.geomeans[("", "B/op", "new")].delta == "+0.00%"
    mirrored = {"new": run_benchstat(text, tmp_path, "go@(new base)")}
    assert check_against_benchstat(text, "base", False, bs, mirrored) == 5


GO_LOG = r"""package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
)

// Each line of the file os.Args[1] is a float64's bits in hex: print math.Log's bits.
func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	in := bufio.NewScanner(f)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		b, err := strconv.ParseUint(in.Text(), 16, 64)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(out, "%016x\n", math.Float64bits(math.Log(math.Float64frombits(b))))
	}
}
"""


def test_go_log_is_gos_math_log_bit_for_bit(go_newest: Toolchain, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    xs = np.concatenate([
        np.exp(rng.uniform(-700, 700, 20_000)),  # every exponent
        1 + rng.normal(0, 1e-3, 20_000),  # ratios near 1
        rng.integers(1, 200, 5_000) / rng.integers(1, 200, 5_000),
        [2.0, 0.5, 1.0, 36 / 35, 35 / 36, 1e-310, 5e-324, math.nextafter(1, 0), math.sqrt(2) / 2],
    ])  # fmt: skip
    (tmp_path / "go.mod").write_text("module example.com/golog\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text(GO_LOG)
    (tmp_path / "x.txt").write_text("".join(f"{b:016x}\n" for b in xs.view(np.uint64).tolist()))
    gocmd.go(go_newest, ["build", "-o", "golog", "."], cwd=tmp_path, timeout=300)
    res = gocmd.run_binary(
        go_newest, tmp_path / "golog", ["x.txt"], cwd=tmp_path, timeout=60, gomaxprocs=1
    )
    want = np.array([int(v, 16) for v in res.stdout.split()], dtype=np.uint64)
    got = stats.go_log(xs).view(np.uint64)
    assert want.size == xs.size
    assert (got == want).all(), xs[got != want][:5]
    assert (np.log(xs).view(np.uint64) != want).any()  # what NumPy's log would have missed


def test_saved_output_covers_every_case() -> None:
    warnings = (DATA / "lab.exact.warnings").read_text()
    assert "need >= 6 samples for confidence interval" in warnings
    assert "need >= 4 samples to detect a difference" in warnings
    assert "exact distribution expected" in warnings
    csv_text = (DATA / "lab.exact.csv").read_text()
    assert "OnlyNew,,," in csv_text  # missing in the baseline column
    assert "sec/elem" in csv_text  # custom ReportMetric unit, tidied


# --- units of the method ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "lo", "hi"),
    # From moremath's stats.QuantileCI(n, 0.5, 0.95) run in Go.
    [
        (1, 0, 2),
        (5, 0, 5),
        (6, 1, 6),
        (10, 2, 9),
        (24, 8, 18),  # exp(lgamma) breaks moremath's tie of equally likely orders the other way
        (25, 8, 18),
        (30, 10, 21),
        (31, 10, 22),
        (50, 18, 32),
        (100, 40, 60),
        (1000, 469, 532),
    ],
)
def test_median_ci_orders_match_moremath(n: int, lo: int, hi: int) -> None:
    got_lo, got_hi, conf = stats.median_ci_orders(n)
    assert (got_lo, got_hi) == (lo, hi)
    assert conf >= 0.95 or lo == 0 or hi > n


def _brute_force_p(x1: list[float], x2: list[float]) -> float:
    """Twice the tail of U1 the observation is in, at most 1, by enumerating every labelling
    (benchmath's exact rule with DIFFERENCES_FROM_BENCHSTAT's tail and clamp)."""
    pooled = sorted(x1 + x2)
    ranks = {v: (pooled.index(v) + 1 + len(pooled) - pooled[::-1].index(v)) / 2 for v in pooled}
    n1, n2 = len(x1), len(x2)
    u1 = sum(ranks[v] for v in x1) - n1 * (n1 + 1) / 2
    usmall = min(u1, n1 * n2 - u1)
    if u1 == n1 * n2 - u1:
        return 1.0
    allu = [
        sum(ranks[pooled[i]] for i in idx) - n1 * (n1 + 1) / 2
        for idx in itertools.combinations(range(n1 + n2), n1)
    ]
    tail = sum(u <= u1 for u in allu) if u1 == usmall else sum(u >= u1 for u in allu)
    return min(1.0, 2 * tail / len(allu))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=6),
    st.lists(st.integers(0, 4), min_size=1, max_size=6),
)
def test_exact_u_distribution_with_ties_equals_enumeration(x1: list[int], x2: list[int]) -> None:
    a, b = [float(v) for v in x1], [float(v) for v in x2]
    if len(set(a + b)) == 1:
        assert stats.mann_whitney_p(a, b) == 1.0  # benchmath: all samples are equal
        return
    assert stats.mann_whitney_p(a, b) == pytest.approx(_brute_force_p(a, b), rel=1e-12)


def _tie_runs(values: list[float]) -> tuple[int, ...]:
    _, runs = np.unique(values, return_counts=True)
    return tuple(runs.tolist())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=7),
    st.lists(st.integers(0, 5), min_size=1, max_size=7),
    st.integers(0, 120),
)
def test_meet_in_the_middle_tie_count_equals_enumeration(
    x1: list[int], x2: list[int], cap: int
) -> None:
    pooled = sorted(x1 + x2)
    two_rank = {v: pooled.index(v) + len(pooled) - pooled[::-1].index(v) + 1 for v in pooled}
    want = sum(
        sum(two_rank[pooled[i]] for i in idx) <= cap
        for idx in itertools.combinations(range(len(pooled)), len(x1))
    )
    ties = _tie_runs([float(v) for v in pooled])
    assert stats._tied_rank_sum_count(len(x1), ties, cap) == want


@pytest.mark.parametrize("seed", range(6))
def test_meet_in_the_middle_p_is_bit_equal_to_the_whole_dp_at_25_samples(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x1 = np.round(rng.normal(1000, 8 + 4 * seed, 25)).tolist()
    x2 = np.round(rng.normal(1003, 8 + 4 * seed, 25)).tolist()
    ties = _tie_runs(x1 + x2)
    assert max(ties) > 1
    cum = stats._rank_sum_cdf(25, ties)
    for cap in range(0, cum.size, 7):
        got = stats._exact_p(25, ties, cap, tied=True)
        assert got == 2 * float(cum[cap])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=2, max_size=8),  # tie runs of the pooled sample
    st.integers(1, 8),
    st.booleans(),
    st.data(),
)
def test_counting_every_subset_gives_the_dps_p_bit_for_bit(
    runs: list[int], n1: int, upper: bool, data: st.DataObject
) -> None:
    """Small samples count all C(N, n1) subsets (_enumerated_ps); the DP's CDF is the same."""
    size = sum(runs)
    n1 = min(n1, size - 1)
    assume(math.comb(size, n1) <= stats._ENUMERATED_SUBSETS)  # where compare counts them
    starts = list(itertools.accumulate(runs))[:-1]  # positions starting a run, after 0
    bits = sum(1 << (j - 1) for j in starts) if len(runs) < size else 0  # 0: no ties
    cap = n1 * (size + 1)
    thresholds = np.array(data.draw(st.lists(st.integers(n1 * (n1 + 1), cap), min_size=1)))
    got = stats._enumerated_ps(
        n1, size, np.array([bits]), np.array([upper]), np.zeros(thresholds.size, np.int64),
        thresholds,
    )  # fmt: skip
    cum = stats._rank_sum_cdf(n1, tuple(runs[::-1] if upper else runs))
    assert got.tolist() == (2 * cum[np.minimum(thresholds, cum.size - 1)]).tolist()


def test_compare_rows_follow_the_sort_of_keys_then_column_nulls_first() -> None:
    """The order of sort([*keys, col]) (geomean and the report read it), for any key dtype."""
    rng = np.random.default_rng(3)
    rows = [
        {"go": go, "gomaxprocs": gmp, "name": name, "unit": "ns/op", "value": float(v)}
        for go in ("b", "a", None) for gmp in (10, 2, None, 1) for name in ("Z", "b", "B", "é")
        for v in rng.integers(0, 9, 3)
    ]  # fmt: skip
    df = pl.DataFrame(rows).sample(fraction=1.0, shuffle=True, seed=1)
    for frame in (df, df.with_columns(pl.col("gomaxprocs").cast(pl.String))):
        res = stats.compare(frame, "a")
        want = frame.select("go", "gomaxprocs", "name", "unit").unique()
        want = want.sort("gomaxprocs", "name", "unit", "go")
        assert res.select("go", "gomaxprocs", "name", "unit").equals(want)


@pytest.mark.parametrize(("n1", "n2"), [(3, 3), (5, 8), (10, 10), (20, 30)])
def test_exact_p_without_ties_equals_scipy_exact(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1 * 100 + n2)
    x1, x2 = rng.normal(0, 1, n1), rng.normal(0.7, 1, n2)
    want = sps.mannwhitneyu(x1, x2, method="exact").pvalue
    assert stats.mann_whitney_p(list(x1), list(x2)) == pytest.approx(want, rel=1e-9)


def test_large_samples_use_scipy_asymptotic_with_tie_correction() -> None:
    rng = np.random.default_rng(7)
    x1, x2 = rng.integers(0, 20, 40).astype(float), rng.integers(2, 22, 45).astype(float)
    want = sps.mannwhitneyu(x1, x2, method="asymptotic", use_continuity=True).pvalue
    assert stats.mann_whitney_p(list(x1), list(x2)) == pytest.approx(want, rel=1e-9)


def test_holm_matches_the_textbook_example() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    assert stats.holm(p)[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(stats.holm(p)[4])


def _frame(groups: dict[tuple[str, str], list[float]], unit: str = "ns/op") -> pl.DataFrame:
    return pl.DataFrame(
        [{"go": go, "gomaxprocs": "1", "name": name, "unit": unit, "value": v}
         for (go, name), vs in groups.items() for v in vs]
    )  # fmt: skip


def test_every_column_is_compared_with_the_baseline_and_holm_adjusted() -> None:
    base = [float(v) for v in range(100, 110)]
    df = _frame({
        ("a", "X"): base, ("b", "X"): [v + 50 for v in base], ("c", "X"): [v + 0.5 for v in base],
        ("a", "Y"): base, ("b", "Y"): [v + 1 for v in base], ("c", "Y"): [v + 60 for v in base],
    })  # fmt: skip
    res = stats.compare(df, "a").filter(pl.col("go") != "a").sort("go", "name")
    assert res["baseline"].to_list() == ["a"] * 4
    p, adj = res["p_value"].to_numpy(), res["p_adjusted"].to_numpy()
    assert adj == pytest.approx(stats.holm(p))
    assert (adj >= p).all()
    assert res["significant"].to_list() == (adj <= 0.05).tolist()


def test_exact_units_compare_by_value_with_p_zero() -> None:
    df = _frame({("a", "X"): [2.0] * 5, ("b", "X"): [3.0] * 5, ("c", "X"): [2.0] * 5}, "allocs/op")
    res = stats.compare(df, "a").filter(pl.col("go") != "a").sort("go")
    assert res["p_value"].to_list() == [0.0, 0.0]
    assert res["significant"].to_list() == [True, False]
    assert res["delta"].to_list() == [50.0, 0.0]


def test_unequal_exact_values_warn_and_center_on_the_mode() -> None:
    df = _frame({("a", "X"): [40.0, 41.0, 41.0, 49.0]}, "B/op")
    (row,) = stats.summarize(df).iter_rows(named=True)
    assert (row["center"], row["ci_low"], row["ci_high"]) == (41.0, 40.0, 49.0)
    assert row["warnings"] == ["exact distribution expected, but values range from 40 to 49"]


def test_a_benchmark_missing_in_the_baseline_has_no_comparison() -> None:
    df = _frame({("a", "X"): [1.0, 2.0, 3.0], ("b", "X"): [1.0, 2.0], ("b", "New"): [1.0, 2.0]})
    res = stats.compare(df, "a").filter(pl.col("name") == "New")
    assert res["delta"].to_list() == [None]
    assert res["p_value"].to_list() == [None]
    assert res["significant"].to_list() == [None]


def test_aa_false_positive_rate_counts_significant_comparisons() -> None:
    rng = np.random.default_rng(1)
    groups = {(go, f"B{i}"): list(rng.normal(100, 5, 10)) for go in ("a", "a2") for i in range(200)}
    aa = stats.aa_false_positive_rate(_frame(groups), "a", "a2")
    assert aa.n_comparisons == 200
    assert aa.rate == aa.n_significant_raw / 200
    assert aa.rate < 0.12  # about alpha for a calibrated test
    assert aa.n_significant_adjusted <= aa.n_significant_raw


@pytest.mark.parametrize(
    ("value", "text"),
    [(41.0, "41"), (0.5, "0.5"), (1e-05, "1e-05"), (1.5e21, "1.5e+21"), (123456.0, "123456")],
)
def test_go_float_formats_like_go_percent_v(value: float, text: str) -> None:
    assert stats.go_float(value) == text


@pytest.mark.parametrize(
    ("values", "mode"),
    [([1.0, 1.0, 2.0, 2.0], 1.0), ([1.0, 2.0, 2.0, 3.0, 3.0], 2.0), ([5.0, 7.0, 7.0], 7.0)],
)
def test_exact_center_is_the_smallest_most_common_value(values: list[float], mode: float) -> None:
    df = _frame({("a", "X"): values, ("a", "Y"): [3.0, 3.0]}, "allocs/op")
    res = stats.summarize(df).filter(pl.col("name") == "X")
    assert res["center"].to_list() == [mode]
