"""The report's "What changed" summary (releaselab.report.summary), on statistics of real captured
benchmark, compiler, scheduling and stack outputs (tests/helpers/report_data.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from releaselab.bench import report as bench_report
from releaselab.bench import units
from releaselab.core import store
from releaselab.escape import data as escape_data
from releaselab.escape import report as escape_report
from releaselab.report import human, render, summary
from releaselab.report.render import Link, Row, Section, slug
from releaselab.sched import report as sched_report
from tests.helpers import report_data

BASE = report_data.BASELINE
ORDER = ["1.25.5", "1.26.6", "1.27.3"]


@pytest.fixture(scope="module")
def parquet_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report_data.make(tmp_path_factory.mktemp("summary"))[0]


@pytest.fixture(scope="module")
def lab_stats() -> pl.DataFrame:
    return report_data.lab_stats()


def _read(root: Path, dataset: str) -> pl.DataFrame:
    return store.scan(dataset, root).collect()


def _inputs(root: Path) -> summary.Inputs:
    return summary.Inputs(
        baseline=BASE,
        bench_stats=_read(root, "bench_stats"),
        escape_diff=_read(root, "escape_diff"),
        escape_analysed=tuple(report_data.ESCAPE_GO),
        sched_runs=_read(root, "sched_runs"),
        stack=_read(root, "stack"),
    )


def _every_anchor() -> set[str]:
    titles = (bench_report.TITLE, escape_report.DIFF_TITLE, sched_report.COMPARE_TITLE)
    return {slug(t) for t in titles}


def _table(sec: Section) -> tuple[tuple[str, ...], list[Row]]:
    (t,) = sec.tables
    return t.columns, list(t.rows)


def test_time_cell_counts_the_benchmarks_significant_after_holm(lab_stats: pl.DataFrame) -> None:
    time = lab_stats.filter((pl.col("unit") == "ns/op") & (pl.col("go") == "1.27.3"))
    sig = time.filter(pl.col("significant").fill_null(False))
    slower, faster = sig.filter(pl.col("delta") > 0).height, sig.filter(pl.col("delta") < 0).height
    compared = time.filter(pl.col("delta").is_not_null()).height
    assert slower + faster > 0  # the captured session has a real regression to count
    cell = summary.time_cells(lab_stats, [1, 2])["1.27.3"]
    assert cell.startswith(f"{slower} slower, {faster} faster of {compared}\ngeomean ")


def test_time_cell_says_no_change_when_nothing_is_significant(parquet_root: Path) -> None:
    st = _read(parquet_root, "bench_stats")  # two rounds each: never enough for a test
    assert not st.filter(pl.col("unit") == "ns/op")["significant"].any()
    assert summary.time_cells(st, [1, 2])["1.27.3"].startswith("no significant change (84 ")


def test_allocation_cell_names_the_few_benchmarks_whose_counts_changed(parquet_root: Path) -> None:
    st = _read(parquet_root, "bench_stats")
    base = st.filter(pl.col("go") == BASE).select("gomaxprocs", "name", "unit", b=pl.col("center"))
    changed = (
        st.filter((pl.col("go") == "1.26.6") & pl.col("unit").is_in(units.ALLOC_UNITS))
        .join(base, on=["gomaxprocs", "name", "unit"])
        .filter(pl.col("center") != pl.col("b"))
    )
    names = sorted(set(changed["name"]))
    assert 0 < len(names) <= summary.MAX_NAMED
    cell = summary.alloc_cells(st)["1.26.6"]
    assert [line.split(":")[0] for line in cell.splitlines()] == names
    for r in changed.iter_rows(named=True):
        assert f"{r['unit']} {human.percent(r['delta'])}" in cell


def test_allocation_cell_counts_when_many_changed(parquet_root: Path) -> None:
    st = _read(parquet_root, "bench_stats").with_columns(
        significant=pl.when(pl.col("go") != pl.col("baseline")).then(True),
        delta=pl.lit(-10.0),
    )
    n = st.filter(pl.col("unit") == "allocs/op")["name"].n_unique()
    assert summary.alloc_cells(st)["1.27.3"].splitlines()[0] == f"allocs/op: {n} down, 0 up"


def test_escape_cell_counts_changes_against_the_previous_toolchain(tmp_path: Path) -> None:
    gos = ["1.21.13", "1.25.5", "1.27.3"]
    diff = escape_data.release_diff(report_data.escape_frame(gos, tmp_path), gos)
    cells = summary.escape_cells(diff, gos)
    for go, before in (("1.25.5", "1.21.13"), ("1.27.3", "1.25.5")):
        mine = diff.filter(pl.col("to_go") == go)
        if mine.is_empty():
            assert cells[go] == f"no change\n(vs go {before})"
        else:
            n = mine.group_by("change").len()
            appear = n.filter(pl.col("change") == "appears")["len"].sum()
            assert cells[go].startswith(f"{appear} appear, ")
            assert cells[go].endswith(f"(vs go {before})")
    assert not diff.filter(pl.col("to_go") == "1.25.5").is_empty()  # 1.21 -> 1.25 changed


def test_sched_cell_gives_request_p99_ratios_and_only_significant_waits(
    parquet_root: Path,
) -> None:
    runs = _read(parquet_root, "sched_runs")
    cmp = sched_report.comparisons(runs, BASE)
    req = cmp["request"].filter(pl.col("statistic") == "p99").row(0, named=True)
    waits = cmp["wait"].filter(pl.col("statistic") == "p99")
    cell = summary.sched_cells(runs, BASE, [2])["1.27.3"]
    assert cell.splitlines()[0] == f"requests {human.ratio(req['ratio'])}"
    assert not waits["significant"].any()  # one run each: nothing can be significant
    assert cell.splitlines()[1] == f"waits: no significant change ({waits.height})"


def test_rows_split_by_target_when_the_data_has_that_column(parquet_root: Path) -> None:
    st = _read(parquet_root, "bench_stats")
    amd64 = st.with_columns(target=pl.lit("linux/amd64"))
    # the same session on a second target where no allocation count changed
    alloc_cmp = pl.col("unit").is_in(units.ALLOC_UNITS) & (pl.col("go") != pl.col("baseline"))
    arm64 = st.with_columns(
        target=pl.lit("linux/arm64"),
        significant=pl.when(alloc_cmp).then(False).otherwise(pl.col("significant")),
    )
    inputs = summary.Inputs(baseline=BASE, bench_stats=pl.concat([amd64, arm64]))
    columns, rows = _table(summary.section(inputs, ORDER, _every_anchor()))
    assert columns[:2] == ("target", "toolchain")
    assert [r[:2] for r in rows] == [
        ("linux/amd64", "go 1.26.6"), ("linux/amd64", "go 1.27.3"),
        ("linux/arm64", "go 1.26.6"), ("linux/arm64", "go 1.27.3"),
    ]  # fmt: skip
    alloc = columns.index("allocations")
    assert [render.fmt(r[alloc]) for r in rows[2:]] == ["no change", "no change"]
    assert "Prealloc/before" in render.fmt(rows[0][alloc])


def test_without_host_or_target_columns_a_row_is_a_toolchain(parquet_root: Path) -> None:
    columns, rows = _table(summary.section(_inputs(parquet_root), ORDER, _every_anchor()))
    assert columns[0] == "toolchain"
    assert [r[0] for r in rows] == ["go 1.26.6", "go 1.27.3"]


def test_every_cell_links_to_its_section_when_the_page_has_it(parquet_root: Path) -> None:
    present = _every_anchor()
    _, rows = _table(summary.section(_inputs(parquet_root), ORDER, present))
    cells = [c for r in rows for c in r[1:] if c]
    assert cells
    assert all(isinstance(c, Link) and c.anchor in present for c in cells if c != "")
    # a section the page lacks gets no link
    _, bare = _table(summary.section(_inputs(parquet_root), ORDER, set()))
    assert not [c for r in bare for c in r if isinstance(c, Link)]


def test_one_toolchain_says_why_there_is_nothing_to_compare(parquet_root: Path) -> None:
    one = _read(parquet_root, "bench_stats").filter(pl.col("go") == BASE)
    sec = summary.section(summary.Inputs(baseline=BASE, bench_stats=one), [BASE], set())
    (table,) = sec.tables
    assert table.rows == ()
    assert table.empty.startswith(f"Only go {BASE} ran: nothing to compare")
