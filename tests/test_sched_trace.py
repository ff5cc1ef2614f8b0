"""The sched stage on real traces and real toolchains: conversion of every trace format the lab
meets, the waits cross-checked with `go tool trace -d=parsed`, and the runtime/metrics histogram
checked against the trace of the same run."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from releaselab.build import binaries as build
from releaselab.core import config, gocmd, hosts, paths, store, toolchains
from releaselab.sched import cell as sched
from releaselab.sched import data as sched_data
from releaselab.sched.rounds import schedule

pytestmark = pytest.mark.slow

TESTDATA = paths.WORKSPACE / "tools" / "traceconv" / "testdata"
WORKLOADS = ["cpu", "pingpong", "timers", "syscall", "alloc", "serve"]
# trace made by -> the toolchain whose `go tool trace -d=parsed` reads it (Go 1.24+ has it;
# the newest reads the older formats).
READERS = {"1.21.13": "1.27.3", "1.22.10": "1.27.3", "1.25.5": "1.25.5", "1.27.3": "1.27.3"}


@pytest.mark.parametrize("made_by", sorted(READERS))
def test_traceconv_converts_the_trace_of(made_by: str, tmp_path: Path) -> None:
    summary = sched.convert(TESTDATA / f"lab-go{made_by}.trace", tmp_path / "conv")
    waits, tasks = sched.read_tables(tmp_path / "conv")
    assert waits.height == summary["waits"] > 0
    assert sched_data.windows(tasks)["window"].to_list() == WORKLOADS
    df = sched_data.waits_frame(waits, tasks, go=made_by, gomaxprocs=2)
    assert set(df["workload"].drop_nulls().unique().to_list()) == set(WORKLOADS)


def _parsed_matches_converted(tc: gocmd.Toolchain, trace: Path, conv: Path) -> None:
    summary = sched.convert(trace, conv)
    waits, _ = sched.read_tables(conv)
    ours = sorted(zip(waits["goroutine"], waits["end_ns"] + summary["trace_start"], strict=True))
    theirs = sorted(sched.parsed_transitions(tc, trace, timeout=300))
    assert len(ours) == len(theirs)
    assert ours == theirs


@pytest.mark.parametrize("made_by", sorted(READERS))
def test_waits_are_the_transitions_go_tool_trace_parses(made_by: str, tmp_path: Path) -> None:
    tc = toolchains.install(READERS[made_by])
    _parsed_matches_converted(tc, TESTDATA / f"lab-go{made_by}.trace", tmp_path / "conv")


AA = "aa_1_27_3"  # 1.27.3 under a second label: an A/A session
RUNS = 3


@pytest.fixture(scope="module")
def cell(go_newest: gocmd.Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real sched session run by the stage code: 1.27.3 under two labels, GOMAXPROCS=2,
    3 runs per cell, 20 ms per workload."""
    cfg = config.compose([
        "go=one", f"+go.toolchains.{AA}.version=1.27.3", "sweep.gomaxprocs=[2]",
        "labs.sched.duration=20ms", f"labs.sched.runs={RUNS}", "labs.sched.seed=7",
    ])  # fmt: skip
    root = tmp_path_factory.mktemp("sched")
    out = root / "build" / "go=1.27.3"
    gocmd.go(
        go_newest,
        ["build", *build.BUILD_FLAGS, "-o", str((out / sched.BINARY).resolve()), "."],
        cwd=paths.WORKSPACE / sched.LAB,
        timeout=300,
    )
    (out / "go-version.txt").write_text(gocmd.go_version(go_newest) + "\n")
    (root / "build" / f"go={AA}").symlink_to(out)
    sched.run_session(cfg, build_root=root / "build", raw_root=root / "raw",
                      parquet_root=root / "parquet")  # fmt: skip
    return root


def test_stage_keeps_the_first_runs_trace_and_writes_every_dataset(cell: Path) -> None:
    for label in ("1.27.3", AA):
        raw = cell / "raw" / f"host={hosts.label()}" / f"go={label}" / "gomaxprocs=2"
        assert (raw / "trace.out").stat().st_size > 0
        assert sorted(p.name for p in raw.iterdir()) == sorted(
            [*sched.FIRST_RUN_FILES, "runs.json"]
        )
    for dataset in ("sched_waits", "sched_hist", "sched_requests"):
        df = store.scan(dataset, cell / "parquet").collect()
        cells = df.select("go", "gomaxprocs", "round").unique().sort("go", "round").rows()
        assert cells == [(g, 2, r) for g in sorted(["1.27.3", AA]) for r in range(1, RUNS + 1)]
        assert df["host"].unique().to_list() == [hosts.label()]


def test_every_run_is_in_the_run_log_in_session_order_one_at_a_time(cell: Path) -> None:
    log = store.scan("run_log", cell / "parquet").collect().sort("order")
    assert log["stage"].unique().to_list() == ["sched"]
    assert log["order"].to_list() == list(range(1, 2 * RUNS + 1))
    assert not log["missing"].any()
    assert (log["started"].shift(-1).drop_nulls() >= log["ended"].head(-1)).all()


def test_runs_are_interleaved_shuffled_rounds_recorded_in_the_data(cell: Path) -> None:
    runs = store.scan("sched_runs", cell / "parquet").collect()
    order = runs.select("go", "round", "order", "seed").unique().sort("order")
    assert order["order"].to_list() == list(range(1, 2 * RUNS + 1))
    assert order["round"].to_list() == [r for r in range(1, RUNS + 1) for _ in range(2)]
    assert order["seed"].unique().to_list() == [7]
    expected = schedule([("1.27.3", 2), (AA, 2)], RUNS, 7)
    assert [(g, r, o) for g, r, o, _ in order.rows()] == [
        (x.go, x.round, x.order) for x in expected
    ]


def test_each_run_has_its_own_summary_row_per_workload(cell: Path) -> None:
    runs = store.scan("sched_runs", cell / "parquet").collect()
    waits = store.scan("sched_waits", cell / "parquet").collect()
    per = runs.filter(pl.col("what") == "wait").group_by("go", "workload").len()
    assert per["len"].to_list() == [RUNS] * per.height
    assert set(per["workload"]) == set(WORKLOADS)
    counts = waits.filter(pl.col("workload").is_not_null()).group_by("go", "round").len()
    summed = (
        runs.filter(pl.col("what") == "wait").group_by("go", "round").agg(pl.col("count").sum())
    )
    assert (
        counts.sort("go", "round")["len"].to_list() == summed.sort("go", "round")["count"].to_list()
    )


def test_first_runs_waits_match_the_toolchains_own_reading_of_its_trace(
    cell: Path, go_newest: gocmd.Toolchain
) -> None:
    raw = cell / "raw" / f"host={hosts.label()}" / "go=1.27.3" / "gomaxprocs=2"
    start = json.loads((raw / "trace-summary.json").read_text())["trace_start"]
    waits = (
        store.scan("sched_waits", cell / "parquet")
        .filter((pl.col("go") == "1.27.3") & (pl.col("round") == 1))
        .collect()
    )
    ours = sorted(zip(waits["goroutine"], (waits["end_ns"] + start), strict=True))
    theirs = sorted(sched.parsed_transitions(go_newest, raw / "trace.out", timeout=300))
    assert len(ours) == len(theirs)
    assert ours == theirs


def test_histogram_is_a_one_in_eight_sample_of_the_traced_waits(cell: Path) -> None:
    first = (pl.col("go") == "1.27.3") & (pl.col("round") == 1)
    waits = store.scan("sched_waits", cell / "parquet").filter(first).collect()
    hist = store.scan("sched_hist", cell / "parquet").filter(first).collect()
    ping = sched_data.hist_vs_trace(waits, hist).filter(pl.col("workload") == "pingpong")
    row = ping.row(0, named=True)
    assert row["n_trace"] > 5000
    assert row["n_ratio"] == pytest.approx(1 / sched_data.SAMPLING_PERIOD, abs=0.01)
    assert abs(row["p50_shift"]) <= 1  # same or adjacent 64 ns bucket
