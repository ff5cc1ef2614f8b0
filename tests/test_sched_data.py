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


def test_cell_round_trips_through_the_store(tmp_path: Path) -> None:
    df = _waits("1.27.3")
    store.write_cell(
        df, "sched_waits", {"go": "1.27.3", "gomaxprocs": 2}, params={}, go_version="x",
        root=tmp_path, sort_by=["end_ns", "goroutine"],
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


def test_comparison_p_value_is_benchstats_mann_whitney() -> None:
    df = pl.concat([_waits(g) for g in CELLS]).filter(pl.col("workload") == "serve")
    cmp = sched_data.compare_to_baseline(df, "wait_ns", ["workload"], "1.25.5").row(0, named=True)
    x = df.filter(pl.col("go") == "1.27.3")["wait_ns"].drop_nulls().to_list()
    y = df.filter(pl.col("go") == "1.25.5")["wait_ns"].drop_nulls().to_list()
    assert cmp["p_value"] == pytest.approx(stats.mann_whitney_p(x, y), rel=1e-9)
    assert cmp["n"] == len(x)
    assert cmp["n_baseline"] == len(y)


def test_comparison_of_a_toolchain_with_itself_finds_no_shift() -> None:
    one = _waits("1.27.3").filter(pl.col("workload") == "pingpong")
    df = pl.concat([one, one.with_columns(go=pl.lit("copy"))])
    cmp = sched_data.compare_to_baseline(df, "wait_ns", ["workload"], "1.27.3").row(0, named=True)
    assert cmp["superiority"] == pytest.approx(0.5)
    assert cmp["p_value"] == pytest.approx(1.0)
    assert not cmp["significant"]


def test_comparison_is_holm_adjusted_over_the_table() -> None:
    df = pl.concat([_waits(g) for g in CELLS]).filter(pl.col("workload").is_not_null())
    cmp = sched_data.compare_to_baseline(df, "wait_ns", ["workload"], "1.25.5")
    expected = stats.holm(cmp["p_value"].to_numpy().astype(np.float64))
    assert cmp["p_adjusted"].to_list() == pytest.approx(expected.tolist())


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
