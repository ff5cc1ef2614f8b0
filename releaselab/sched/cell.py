"""One cell of the schedule-forensics lab: run the binary build@LABEL made with -trace,
-metrics and -requests, convert the trace with tools/traceconv, and write one partition cell of
sched_waits, sched_hist and sched_requests (the stage: stages/sched.py)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from releaselab.core import config, gocmd, gotools, log, staging, store, toolchains
from releaselab.core.gocmd import Toolchain
from releaselab.sched import data as sched_data

LAB = "schedule-forensics"
BINARY = f"{LAB}/bin/{LAB}"
CONVERT_TIMEOUT = 600.0


def lab_args(cfg: config.Config, out: Path) -> list[str]:
    """The lab's flags: every output goes to a path in `out`."""
    return [
        f"-duration={cfg.labs.sched.duration}",
        f"-workloads={','.join(cfg.labs.sched.workloads)}",
        f"-trace={out / 'trace.out'}",
        f"-metrics={out / 'metrics.json'}",
        f"-requests={out / 'requests.csv'}",
    ]


def convert(
    trace: Path, out_dir: Path, *, timeout: float = CONVERT_TIMEOUT, tc: Toolchain | None = None
) -> dict[str, Any]:
    """traceconv's tables of `trace` in out_dir; returns its summary.json.

    tc: the toolchain whose hermetic environment traceconv (a static binary) runs in; a cell
    passes its own so it does not resolve and verify a second toolchain.
    """
    tool = gotools.traceconv()
    env = gocmd.hermetic_env(tc or toolchains.install(gotools.tools_go()))
    out_dir, trace = out_dir.resolve(), trace.resolve()
    gocmd.run([tool, "-q", "-o", out_dir, trace], env=env, cwd=out_dir.parent, timeout=timeout)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert isinstance(summary, dict)
    return summary


def read_tables(conv: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(waits, tasks) as traceconv wrote them."""
    waits = pl.read_csv(conv / "waits.csv", schema=sched_data.WAITS_CSV)
    tasks = pl.read_csv(conv / "tasks.csv", schema=sched_data.TASKS_CSV)
    return waits, tasks


def parsed_transitions(tc: Toolchain, trace: Path, *, timeout: float) -> list[tuple[int, int]]:
    """(goroutine, trace time) of each Runnable -> Running transition as `go tool trace
    -d=parsed` of toolchain tc (Go 1.24+) reads `trace`: the toolchain's own reading."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "parsed.txt"
        gocmd.go(
            tc, ["tool", "trace", "-d=parsed", trace], cwd=Path(tmp), timeout=timeout,
            stdout_path=out,
        )  # fmt: skip
        with out.open(encoding="utf-8") as f:
            return sched_data.parsed_waits(f)


def run_cell(
    cfg: config.Config,
    label: str,
    gomaxprocs: int,
    *,
    build_root: Path,
    raw_root: Path,
    parquet_root: Path = store.PARQUET_ROOT,
) -> None:
    """Run one cell: the lab, its trace conversion, and the three datasets' partitions."""
    tc = toolchains.resolve(cfg.go.get(label))
    build = build_root / f"go={label}"
    go_version = (build / "go-version.txt").read_text(encoding="utf-8").strip()
    gocmd.verify_version(tc, go_version)
    raw = raw_root / f"go={label}" / f"gomaxprocs={gomaxprocs}"
    with staging.staged_dir(raw) as tmp:
        log.info(f"[{label} P={gomaxprocs}] running {LAB} ({cfg.labs.sched.duration} per workload)")
        gocmd.run_binary(
            tc, (build / BINARY).resolve(), lab_args(cfg, tmp.resolve()), cwd=tmp,
            timeout=cfg.timeouts.run, gomaxprocs=gomaxprocs,
        )  # fmt: skip
        conv = tmp / "conv"  # inside the cell's tmp dir: a killed run's leftovers go with it
        summary = convert(tmp / "trace.out", conv, tc=tc)
        waits, tasks = read_tables(conv)
        shutil.copy2(conv / "summary.json", tmp / "trace-summary.json")
        shutil.copy2(conv / "tasks.csv", tmp / "tasks.csv")
        shutil.rmtree(conv)
        log.info(
            f"[{label} P={gomaxprocs}] trace: {summary['events']} events, {summary['waits']} "
            f"waits ({summary['waits_undetermined']} undetermined)"
        )
        report = json.loads((tmp / "metrics.json").read_text(encoding="utf-8"))
        requests = pl.read_csv(tmp / "requests.csv", schema=sched_data.REQUESTS_CSV)
        frames = {
            "sched_waits": sched_data.waits_frame(waits, tasks, go=label, gomaxprocs=gomaxprocs),
            "sched_hist": sched_data.hist_frame(report, go=label, gomaxprocs=gomaxprocs),
            "sched_requests": sched_data.requests_frame(requests, go=label, gomaxprocs=gomaxprocs),
        }
    params = {
        "labs.sched.duration": cfg.labs.sched.duration,
        "labs.sched.workloads": list(cfg.labs.sched.workloads),
        "gomaxprocs": gomaxprocs,
        "trace_version": summary["trace_version"],
    }
    cell = {"go": label, "gomaxprocs": gomaxprocs}
    for dataset, df in frames.items():
        store.write_cell(
            df, dataset, cell, params=params, go_version=go_version, host=cfg.host,
            root=parquet_root,
        )  # fmt: skip
        log.info(f"[{label} P={gomaxprocs}] wrote {dataset} ({df.height} rows)")
