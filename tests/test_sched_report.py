"""The sched report sections, built from real captured runs of two toolchains."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from releaselab.report import figures, render
from releaselab.report.render import Section
from releaselab.sched import data as sched_data
from releaselab.sched import report as report_sched

DATA = Path(__file__).parent / "data" / "sched"
ORDER = ["1.25.5", "1.27.3"]


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(sched_waits, sched_hist, sched_requests) of the captured GOMAXPROCS=2 runs."""
    waits, hist, requests = [], [], []
    for go in ORDER:
        d = DATA / f"go{go}-P2"
        w = pl.read_csv(d / "waits.csv.gz", schema=sched_data.WAITS_CSV)
        t = pl.read_csv(d / "tasks.csv", schema=sched_data.TASKS_CSV)
        waits.append(sched_data.waits_frame(w, t, go=go, gomaxprocs=2))
        m = json.loads(gzip.decompress((d / "metrics.json.gz").read_bytes()))
        hist.append(sched_data.hist_frame(m, go=go, gomaxprocs=2))
        r = pl.read_csv(d / "requests.csv", schema=sched_data.REQUESTS_CSV)
        requests.append(sched_data.requests_frame(r, go=go, gomaxprocs=2))
    return pl.concat(waits), pl.concat(hist), pl.concat(requests)


def _runs(waits: pl.DataFrame, requests: pl.DataFrame) -> pl.DataFrame:
    """sched_runs of the captured runs (one per toolchain), as the sched stage writes them."""
    return sched_data.run_summary(waits, requests, seed=1)


def _build(frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], out: Path) -> list[Section]:
    waits, hist, requests = frames
    return report_sched.build_sections(
        waits, hist, requests, _runs(waits, requests), order=ORDER, baseline=ORDER[0],
        figures_dir=out,
    )  # fmt: skip


def test_report_is_byte_identical_on_rerun(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    a, b = _build(frames, tmp_path / "a"), _build(frames, tmp_path / "b")
    assert render.markdown("t", a) == render.markdown("t", b)
    assert render.page("t", a) == render.page("t", b)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_latency_table_has_a_row_per_workload_toolchain_and_gomaxprocs(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    waits = frames[0].filter(pl.col("workload").is_not_null())
    table = report_sched.runs_table(_runs(frames[0], frames[2]), "wait", ORDER)
    assert table.columns[3:] == (
        "runs", "count per run", "p50", "p50 range", "p90", "p99", "p99 range", "p99.9", "max",
    )  # fmt: skip
    expected = waits.select("workload", "gomaxprocs", "go").unique().height
    assert len(table.rows) == expected
    assert [r[2] for r in table.rows[:2]] == ORDER  # baseline first within a workload


def test_ecdf_chart_is_aggregated_before_charting(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    waits = frames[0].filter(pl.col("workload").is_not_null())
    pts = sched_data.ecdf_points(waits, "wait_ns", report_sched.KEYS)
    spec = json.loads(figures.spec_json(report_sched.ecdf_chart(pts, "wait_ns", ORDER, "x")))
    rows = sum(len(v) for v in spec["datasets"].values())
    assert rows == pts.height < figures.MAX_ROWS
    assert spec["spec"]["encoding"]["x"]["scale"]["type"] == "log"


def test_sections_explain_the_comparison_methods(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    md = render.markdown("t", _build(frames, tmp_path))
    assert "Mann-Whitney U" in md
    assert "Holm" in md
    assert "run against run" in md
    assert "| 95% interval |" in md
    assert "binned with the histogram's own bucket edges" in md
    assert "![Scheduling latency](figures/sched_waits_ecdf.svg)" in md


def test_one_toolchain_gives_empty_comparisons_not_errors(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    one = tuple(f.filter(pl.col("go") == "1.27.3") for f in frames)
    secs = report_sched.build_sections(
        one[0], one[1], one[2], _runs(one[0], one[2]), order=["1.27.3"], baseline="1.27.3",
        figures_dir=tmp_path,
    )  # fmt: skip
    comparisons = next(s for s in secs if s.title == "Scheduling latency across toolchains")
    assert all(t.rows == () for t in comparisons.tables)


def test_an_aa_pair_prints_the_sched_false_positive_rate(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    one = [f.filter(pl.col("go") == "1.27.3") for f in frames]
    two = [pl.concat([f, f.with_columns(go=pl.lit("aa_1_27_3"))]) for f in one]
    runs = _runs(two[0], two[2])
    secs = report_sched.build_sections(
        two[0], two[1], two[2], runs, order=["1.27.3", "aa_1_27_3"], baseline="1.27.3",
        figures_dir=tmp_path, aa_pairs=[("1.27.3", "aa_1_27_3")],
    )  # fmt: skip
    text = next(s for s in secs if s.title == "Scheduling latency across toolchains").text
    n = report_sched.comparisons(runs, "1.27.3")
    total = sum(t.height for t in n.values())
    assert f"A/A 1.27.3 vs aa_1_27_3 (one toolchain under two labels): 0/{total} scheduling" in text


def _two_procs(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with a copy of its rows as GOMAXPROCS=3 (two GOMAXPROCS values to slice)."""
    return pl.concat([frame, frame.with_columns(gomaxprocs=pl.lit(3, pl.Int64))])


def test_aggregates_of_workload_slices_equal_those_of_the_whole(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    waits = _two_procs(frames[0])
    whole = report_sched.aggregate([waits], "wait_ns", owned_only=True)
    own = waits.filter(pl.col("workload").is_not_null())
    parts = report_sched.aggregate(own.partition_by("gomaxprocs", "workload"), "wait_ns")
    assert parts.undetermined == whole.undetermined
    for name in ("summary", "ecdf"):
        assert getattr(parts, name).equals(getattr(whole, name)), name


def test_hist_against_trace_by_gomaxprocs_equals_the_whole(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    waits, hist = _two_procs(frames[0]), _two_procs(frames[1])
    whole = report_sched.hist_against_trace([waits], hist)
    parts = report_sched.hist_against_trace(waits.partition_by("gomaxprocs"), hist)
    key = ["go", "gomaxprocs", "workload"]
    assert parts.height == 2 * frames[1]["workload"].n_unique() * len(ORDER)
    assert parts.sort(key).equals(whole.sort(key))
