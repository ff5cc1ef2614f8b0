"""The sched transforms and statistics, on real captured lab and traceconv output."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from releaselab.bench import stats
from releaselab.core import catalog, store
from releaselab.sched import data as sched_data

DATA = Path(__file__).parent / "data" / "sched"
CELLS = ("1.25.5", "1.27.3")


def _cell(go: str) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any], pl.DataFrame]:
    """(waits.csv, tasks.csv, metrics JSON, requests.csv) of one captured run."""
    d = DATA / f"go{go}-P2"
    waits = pl.read_csv(d / "waits.csv.gz", schema=sched_data.WAITS_CSV)
    tasks = pl.read_csv(d / "tasks.csv", schema=sched_data.TASKS_CSV)
    metrics = json.loads(gzip.decompress((d / "metrics.json.gz").read_bytes()))
    requests = pl.read_csv(d / "requests.csv", schema=sched_data.REQUESTS_CSV)
    return waits, tasks, metrics, requests


def _waits(go: str) -> pl.DataFrame:
    waits, tasks, _, _ = _cell(go)
    return sched_data.waits_frame(waits, tasks, go=go, gomaxprocs=2)


def _hist(go: str) -> pl.DataFrame:
    return sched_data.hist_frame(_cell(go)[2], go=go, gomaxprocs=2)


def test_windows_run_from_previous_task_end_to_own_end() -> None:
    _, tasks, _, _ = _cell("1.27.3")
    win = sched_data.windows(tasks)
    assert win["window"].to_list() == ["cpu", "pingpong", "timers", "syscall", "alloc", "serve"]
    assert win["lo"][0] == tasks.sort("start_ns")["start_ns"][0]
    assert win["lo"][1:].to_list() == win["hi"][:-1].to_list()


@pytest.mark.parametrize("go", CELLS)
def test_waits_frame_has_the_dataset_schema_and_every_wait(go: str) -> None:
    waits, _, _, _ = _cell(go)
    df = _waits(go)
    assert df.schema == pl.Schema(catalog.schema("sched_waits"))
    assert df.height == waits.height
    summary = json.loads((DATA / f"go{go}-P2" / "summary.json").read_text())
    assert df.height == summary["waits"]


def test_waits_frame_puts_each_wait_in_the_window_it_ended_in() -> None:
    df = _waits("1.27.3")
    win = sched_data.windows(_cell("1.27.3")[1])
    joined = df.join(win, on="window")
    assert joined.height == df.filter(pl.col("window").is_not_null()).height
    assert joined.filter(
        (pl.col("end_ns") <= pl.col("lo")) | (pl.col("end_ns") > pl.col("hi"))
    ).is_empty()


def test_waits_frame_keeps_runtime_goroutines_with_no_workload() -> None:
    df = _waits("1.27.3")
    runtime = df.filter(pl.col("workload").is_null())
    assert runtime.height > 0
    assert runtime["task_id"].null_count() == runtime.height


def test_hist_frame_covers_each_workload_with_complete_histograms() -> None:
    df = _hist("1.27.3")
    lat = df.filter(pl.col("metric") == sched_data.LATENCY_METRIC)
    assert sorted(lat["workload"].unique().to_list()) == sorted(
        ["cpu", "pingpong", "timers", "syscall", "alloc", "serve"]
    )
    one = lat.filter(pl.col("workload") == "pingpong").sort("bucket")
    assert one["lo"][0] == -math.inf
    assert one["hi"][-1] == math.inf
    assert one["lo"][1:].to_list() == one["hi"][:-1].to_list()


def test_hist_frame_counts_match_the_cumulative_snapshots() -> None:
    metrics = _cell("1.27.3")[2]
    totals = {
        s["label"]: m["histogram"]["total"]
        for s in metrics["snapshots"]
        for m in s["metrics"]
        if m["name"] == sched_data.LATENCY_METRIC
    }
    lat = _hist("1.27.3").filter(pl.col("metric") == sched_data.LATENCY_METRIC)
    assert lat["count"].sum() == totals["serve"] - totals["start"]


def test_requests_frame_keeps_every_request_with_the_cell_keys() -> None:
    requests = _cell("1.27.3")[3]
    df = sched_data.requests_frame(requests, go="1.27.3", gomaxprocs=2)
    assert df.schema == pl.Schema(catalog.schema("sched_requests"))
    assert df.height == requests.height > 0
    assert df["go"].unique().to_list() == ["1.27.3"]


@pytest.mark.parametrize("go", CELLS)
def test_parsed_waits_reads_both_line_forms_of_go_tool_trace(go: str) -> None:
    lines = (DATA / f"parsed-go{go}.txt").read_text().splitlines()
    got = sched_data.parsed_waits(lines)
    assert len(got) == sum("Runnable->Running" in ln for ln in lines) == 5
    assert all(g > 0 and t > 0 for g, t in got)


def test_run_round_trips_through_the_store_as_its_round_partition(tmp_path: Path) -> None:
    df = _waits("1.27.3").with_columns(round=pl.lit(3, pl.Int64), order=pl.lit(7, pl.Int64))
    part = {"go": "1.27.3", "gomaxprocs": "2", "round": "3"}
    out = tmp_path / "sched_waits" / "go=1.27.3" / "gomaxprocs=2" / "round=3"
    store.write_dataset(
        df, out, dataset="sched_waits", params={}, partitions=(), fixed=part
    )  # fmt: skip
    back = store.scan("sched_waits", tmp_path).collect().select(df.columns)
    assert_frame_equal(back, df.sort("end_ns", "goroutine"))


def test_latency_summary_matches_numpy_quantiles() -> None:
    df = _waits("1.27.3").filter(pl.col("workload") == "pingpong")
    s = sched_data.latency_summary(df, "wait_ns", ["workload"]).row(0, named=True)
    x = df["wait_ns"].drop_nulls().to_numpy()
    assert s["count"] == len(x)
    for name, q in zip(sched_data.LEVEL_NAMES, sched_data.LEVELS, strict=True):
        assert s[name] == pytest.approx(np.quantile(x, q))
    assert s["max"] == x.max()


def test_ecdf_points_are_few_and_monotone() -> None:
    df = pl.concat([_waits(g) for g in CELLS]).filter(pl.col("workload").is_not_null())
    pts = sched_data.ecdf_points(df, "wait_ns", ["go", "workload"])
    groups = df.select("go", "workload").unique().height
    assert pts.height == groups * len(sched_data.ECDF_LEVELS)
    ok = pts.group_by("go", "workload").agg(
        pl.col("wait_ns").sort_by("level").diff().drop_nulls().min() >= 0
    )
    assert ok["wait_ns"].all()


def _runs() -> pl.DataFrame:
    """sched_runs of the two captured runs (one per toolchain)."""
    frames = [_cell(g) for g in CELLS]
    waits = pl.concat([_waits(g) for g in CELLS])
    requests = pl.concat(
        [
            sched_data.requests_frame(f[3], go=g, gomaxprocs=2)
            for g, f in zip(CELLS, frames, strict=True)
        ]
    )
    return sched_data.run_summary(waits, requests, seed=1)


def test_run_summary_has_the_catalog_schema_and_the_runs_quantiles() -> None:
    runs = _runs()
    assert runs.schema == pl.Schema(catalog.schema("sched_runs"))
    row = runs.filter(
        (pl.col("go") == "1.27.3") & (pl.col("what") == "wait") & (pl.col("workload") == "pingpong")
    ).row(0, named=True)
    x = _waits("1.27.3").filter(pl.col("workload") == "pingpong")["wait_ns"].drop_nulls()
    assert row["count"] == x.len()
    assert row["p999"] == pytest.approx(np.quantile(x.to_numpy(), 0.999))
    assert set(runs.filter(pl.col("what") == "request")["workload"]) == {"serve"}


def _replicated(values: dict[str, list[float]]) -> pl.DataFrame:
    """sched_runs-shaped rows: one run per value, per toolchain, of one workload."""
    rows = [
        {"go": g, "gomaxprocs": 2, "round": i, "what": "wait", "workload": "w", "p50": v, "p99": v}
        for g, vs in values.items()
        for i, v in enumerate(vs, 1)
    ]
    return pl.DataFrame(rows)


def test_comparison_of_runs_is_benchstats_mann_whitney_of_the_run_values() -> None:
    base, new = [10.0, 12.0, 11.0, 13.0, 9.0], [14.0, 15.0, 13.5, 16.0, 12.5]
    rows = sched_data.compare_runs(_replicated({"a": base, "b": new}), "a", statistics=["p50"])
    (row,) = rows
    assert row["p_value"] == stats.mann_whitney_p(new, base)
    assert (row["runs"], row["runs_baseline"]) == (5, 5)
    assert row["value"] == 14.0
    assert row["value_baseline"] == 11.0


def test_ratio_interval_inverts_the_exact_mann_whitney_test() -> None:
    # 5 vs 5, no ties: P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252, so the 95% interval is
    # the 3rd smallest to the 3rd largest of the 25 pairwise ratios
    x, base = [2.0, 3.0, 5.0, 7.0, 11.0], [1.0, 1.5, 2.5, 4.0, 6.0]
    ratios = sorted(a / b for a in x for b in base)
    est, lo, hi = sched_data.ratio_interval(x, base)
    assert (lo, hi) == (ratios[2], ratios[-3])
    assert est == ratios[12]
    cdf = sched_data._u_null_cdf(5, 5)
    assert cdf[2] == pytest.approx(4 / 252)
    assert cdf[3] == pytest.approx(7 / 252)


def test_runs_of_one_toolchain_compared_with_themselves_find_nothing() -> None:
    vals = [10.0, 12.0, 11.0, 13.0, 9.0]
    table = sched_data.table_of_runs(
        sched_data.compare_runs(_replicated({"a": vals, "b": vals}), "a")
    )
    assert table["p_value"].to_list() == [1.0, 1.0]
    assert table["ratio"].to_list() == [1.0, 1.0]
    assert sched_data.aa_counts(table, "a", "b") == (2, 0, 0)


def test_comparison_of_runs_is_holm_adjusted_over_the_family() -> None:
    runs = pl.concat([
        _replicated({"a": [1.0, 2, 3, 4, 5], "b": [6.0, 7, 8, 9, 10]}),
        _replicated({"a": [1.0, 2, 3, 4, 5], "b": [1.5, 2.5, 3.5, 4.5, 5.5]}).with_columns(
            workload=pl.lit("v")),
    ])  # fmt: skip
    table = sched_data.table_of_runs(sched_data.compare_runs(runs, "a"))
    expected = stats.holm(table["p_value"].to_numpy().astype(np.float64))
    assert table["p_adjusted"].to_list() == pytest.approx(expected.tolist())
    assert table.height == 4


def test_bin_counts_uses_the_histograms_half_open_buckets() -> None:
    edges = [-math.inf, 0.0, 64e-9, 128e-9, math.inf]
    counts = sched_data.bin_counts(np.array([0.0, 63.0, 64.0, 127.0, 128.0, 1e9]), edges)
    assert counts.tolist() == [0, 2, 2, 2]


def test_random_one_in_eight_subset_passes_the_shape_test() -> None:
    w = _waits("1.27.3").filter(pl.col("workload") == "pingpong")["wait_ns"].drop_nulls()
    edges = (
        _hist("1.27.3")
        .filter(
            (pl.col("metric") == sched_data.LATENCY_METRIC) & (pl.col("workload") == "pingpong")
        )
        .sort("bucket")
    )
    e = [*edges["lo"].to_list(), edges["hi"][-1]]
    x = w.to_numpy().astype(np.float64)
    rng = np.random.default_rng(8)
    sample = sched_data.bin_counts(rng.choice(x, len(x) // 8, replace=False), e)
    shifted = sched_data.bin_counts(rng.choice(x, len(x) // 8, replace=False) + 64, e)
    population = sched_data.bin_counts(x, e)
    assert sched_data._gof(sample, population)[0] > 0.01
    assert sched_data._gof(shifted, population)[0] < 1e-6


def test_hist_vs_trace_counts_one_in_eight_and_splits_off_round_trips() -> None:
    hv = sched_data.hist_vs_trace(_waits("1.27.3"), _hist("1.27.3"))
    ping = hv.filter(pl.col("workload") == "pingpong").row(0, named=True)
    assert ping["n_trace"] > 1000
    assert ping["n_ratio"] == pytest.approx(1 / sched_data.SAMPLING_PERIOD, rel=0.15)
    lat = _hist("1.27.3").filter(pl.col("metric") == sched_data.LATENCY_METRIC)
    assert hv.select(pl.col("n_hist") + pl.col("n_hist_zero")).sum().item() == lat["count"].sum()
