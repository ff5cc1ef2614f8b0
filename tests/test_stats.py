"""releaselab.bench.stats against real benchstat: saved `benchstat -format csv` output, and
live when the binary exists (BENCHSTAT, else `benchstat` on PATH, else /tmp/gotools/benchstat)."""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from releaselab.bench import benchfmt, stats

DATA = Path(__file__).parent / "data" / "bench"


def _benchstat_bin() -> str | None:
    path = os.environ.get("BENCHSTAT") or shutil.which("benchstat") or "/tmp/gotools/benchstat"
    return path if Path(path).is_file() else None


# --- benchstat's CSV --------------------------------------------------------------------------


@dataclass
class Cell:
    """One benchstat cell: what it printed and the warnings its CSV side channel gave it."""

    center: str
    ci: str
    delta: str | None = None
    p: str | None = None
    warnings: set[str] = field(default_factory=set)


def _start_col(exp: int) -> int:
    return 1 if exp == 0 else 3 + 4 * (exp - 1)


def _col_letter(col: int) -> str:
    return chr(ord("A") + col)


def parse_benchstat_csv(
    text: str, warnings_text: str
) -> tuple[dict[tuple[str, str, str, str], Cell], dict[tuple[str, str, str], Cell]]:
    """-> cells by (gomaxprocs, row label, unit, column) and geomeans by (gomaxprocs, unit, col)."""
    warns: dict[tuple[int, str], set[str]] = defaultdict(set)
    for line in warnings_text.splitlines():
        ref, _, msg = line.partition(": ")
        letters = ref.rstrip("0123456789")
        warns[(int(ref[len(letters) :]), letters)].add(msg)
    cells: dict[tuple[str, str, str, str], Cell] = {}
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
            if row[0] == "geomean":
                delta = row[c + 2] if exp > 0 and len(row) > c + 2 else None
                geo[(gmp, unit, col)] = Cell(
                    row[c] if len(row) > c else "", "", delta, None,
                    warns.get((rownum, _col_letter(c)), set()),
                )  # fmt: skip
                continue
            if len(row) <= c or row[c] == "":
                continue
            cell = Cell(row[c], row[c + 1], warnings=set(warns.get((rownum, _col_letter(c)), ())))
            if exp > 0 and len(row) > c + 2:
                cell.delta, cell.p = row[c + 2], row[c + 3]
                cell.warnings |= warns.get((rownum, _col_letter(c + 2)), set())
            cells[(gmp, row[0], unit, col)] = cell
    return cells, geo


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


def ours(text: str, baseline: str, exact: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    df, meta = long_frame(text)
    units = set(df["unit"].unique().to_list())
    exact_units = (
        {u for u in units if benchfmt.is_exact_unit(u, meta, frozenset())} if exact else set()
    )
    res = stats.compare(df, baseline, exact_units=exact_units)
    return res, stats.geomean(res)


CASES = [
    # (input file, saved csv stem, baseline, Unit lines honoured)
    ("lab.txt", "lab.exact", "1.25.5", True),
    ("lab.txt", "lab.nothing", "1.25.5", False),
    ("synthetic.txt", "synthetic", "base", False),
]


def _strip_unit_lines(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if not line.startswith("Unit "))


def _input_text(name: str, exact: bool) -> str:
    text = (DATA / name).read_text()
    return text if exact or name != "lab.txt" else _strip_unit_lines(text)


def _run_benchstat(binary: str, text: str, tmp_path: Path) -> tuple[str, str]:
    src = tmp_path / "input.txt"
    src.write_text(text)
    proc = subprocess.run(
        [binary, "-format", "csv", "-col", "go", "-ignore", "round", src.name],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return proc.stdout, proc.stderr


def assert_parity(text: str, baseline: str, exact: bool, csv_text: str, warn_text: str) -> int:
    """Every benchstat cell equals ours as printed; returns how many cells were checked."""
    res, geo = ours(text, baseline, exact)
    cells, geos = parse_benchstat_csv(csv_text, warn_text)
    by_key = {
        (r["gomaxprocs"], r["name"], r["unit"], r["go"]): r for r in res.iter_rows(named=True)
    }
    assert len(cells) == len(by_key)
    for key, cell in cells.items():
        gmp, name, unit, col = key
        if not gmp:  # no gomaxprocs config line: procs came from the name's suffix
            gmp = next(k[0] for k in by_key if k[1:] == (name, unit, col))
        r = by_key[(gmp, name, unit, col)]
        where = f"{name} {unit} {col}"
        assert float(cell.center) == pytest.approx(r["center"], rel=1e-15, abs=0), where
        assert cell.ci == stats.format_ci(r["center"], r["ci_low"], r["ci_high"]), where
        if cell.p is not None:
            assert cell.p == stats.format_p(r["p_value"], r["n"], r["n_baseline"]), where
            assert cell.delta == stats.format_delta(r["delta"], r["p_value"]), where
        ours_warn = set(r["warning"].split("; ")) if r["warning"] else set()
        assert cell.warnings == ours_warn, where
    rows = {(r["gomaxprocs"], r["unit"], r["go"]): r for r in geo.iter_rows(named=True)}
    for (gmp, unit, col), cell in geos.items():
        g = rows[(gmp or next(k[0] for k in rows if k[1:] == (unit, col)), unit, col)]
        if cell.center:
            assert float(cell.center) == pytest.approx(g["center"], rel=1e-12)
        else:
            assert g["center"] is None
        if cell.delta is not None:
            expect = "?" if g["delta"] is None else f"{g['delta']:+.2f}%"
            assert cell.delta == expect, f"geomean {unit} {col}"
        ours_warn = set(g["warning"].split("; ")) if g["warning"] else set()
        assert cell.warnings == ours_warn
    return len(cells)


@pytest.mark.parametrize(("name", "stem", "baseline", "exact"), CASES)
def test_matches_saved_benchstat_output(name: str, stem: str, baseline: str, exact: bool) -> None:
    checked = assert_parity(
        _input_text(name, exact), baseline, exact,
        (DATA / f"{stem}.csv").read_text(), (DATA / f"{stem}.warnings").read_text(),
    )  # fmt: skip
    assert checked > 10


@pytest.mark.parametrize(("name", "stem", "baseline", "exact"), CASES)
def test_matches_live_benchstat(
    name: str, stem: str, baseline: str, exact: bool, tmp_path: Path
) -> None:
    binary = _benchstat_bin()
    if binary is None:
        pytest.skip(
            "BENCHSTAT NOT FOUND: set BENCHSTAT or install golang.org/x/perf/cmd/benchstat;"
            " live parity with real benchstat was NOT checked"
        )
    text = _input_text(name, exact)
    out, err = _run_benchstat(binary, text, tmp_path)
    del stem
    assert assert_parity(text, baseline, exact, out, err) > 10


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
    """P(U1 <= Usmall) * 2 by enumerating every labelling (benchmath's exact rule)."""
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
    return 2 * sum(u <= usmall for u in allu) / len(allu)


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
    assert row["warning"] == "exact distribution expected, but values range from 40 to 49"


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
