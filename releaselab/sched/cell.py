"""The schedule-forensics lab's session: every toolchain x GOMAXPROCS cell runs labs.sched.runs
times as separate processes, in interleaved rounds each shuffled from labs.sched.seed (as bench
does), so that drift of the machine hits every toolchain alike and run-to-run variation is
measured. One run: the binary build@LABEL made with -trace, -metrics and -requests, its trace
converted by tools/traceconv, its rows written as one round= partition of sched_waits,
sched_hist and sched_requests, its per-workload quantiles as rows of sched_runs
(the stage: stages/sched.py).

Raw outputs: the labeled trace.out (with metrics.json, requests.csv, tasks.csv and
trace-summary.json) of the first run of each cell in data/raw/sched/go=L/gomaxprocs=N/; every
run's trace-summary in runs.json beside it. Later runs' traces are deleted once converted.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from releaselab.core import config, gocmd, gotools, log, staging, store, toolchains
from releaselab.core.errors import InputMissing
from releaselab.core.gocmd import Toolchain
from releaselab.sched import data as sched_data
from releaselab.sched.rounds import Run, schedule

LAB = "schedule-forensics"
BINARY = f"{LAB}/bin/{LAB}"
CONVERT_TIMEOUT = 600.0
DATASETS = ("sched_waits", "sched_hist", "sched_requests")
RUNS_DATASET = "sched_runs"
FIRST_RUN_FILES = ("trace.out", "metrics.json", "requests.csv", "tasks.csv", "trace-summary.json")


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


@dataclass(frozen=True)
class Measured:
    """What one run produced: the three datasets' rows and traceconv's summary."""

    frames: dict[str, pl.DataFrame]
    summary: dict[str, Any]


def measure(cfg: config.Config, tc: Toolchain, binary: Path, run: Run, work: Path) -> Measured:
    """Run the lab once in `work` (an empty directory), convert its trace; the run's rows.

    Leaves trace.out, metrics.json, requests.csv, tasks.csv and trace-summary.json in work."""
    where = f"[{run.go} P={run.gomaxprocs} round {run.round}]"
    log.info(f"{where} running {LAB} ({cfg.labs.sched.duration} per workload)")
    gocmd.run_binary(
        tc, binary, lab_args(cfg, work.resolve()), cwd=work, timeout=cfg.timeouts.run,
        gomaxprocs=run.gomaxprocs,
    )  # fmt: skip
    conv = work / "conv"  # inside the run's dir: a killed run's leftovers go with it
    summary = convert(work / "trace.out", conv, tc=tc)
    waits, tasks = read_tables(conv)
    shutil.copy2(conv / "summary.json", work / "trace-summary.json")
    shutil.copy2(conv / "tasks.csv", work / "tasks.csv")
    shutil.rmtree(conv)
    log.info(
        f"{where} trace: {summary['events']} events, {summary['waits']} waits "
        f"({summary['waits_undetermined']} undetermined)"
    )
    report = json.loads((work / "metrics.json").read_text(encoding="utf-8"))
    requests = pl.read_csv(work / "requests.csv", schema=sched_data.REQUESTS_CSV)
    go, procs, rnd, order = run.go, run.gomaxprocs, run.round, run.order
    frames = {
        "sched_waits": sched_data.waits_frame(
            waits, tasks, go=go, gomaxprocs=procs, rnd=rnd, order=order
        ),
        "sched_hist": sched_data.hist_frame(report, go=go, gomaxprocs=procs, rnd=rnd, order=order),
        "sched_requests": sched_data.requests_frame(
            requests, go=go, gomaxprocs=procs, rnd=rnd, order=order
        ),
    }
    return Measured(frames, summary)


def binaries(
    cfg: config.Config, build_root: Path
) -> tuple[dict[str, Toolchain], dict[str, Path], dict[str, str]]:
    """(toolchain, lab binary, `go version`) of every configured label, checked."""
    tcs, bins, versions = {}, {}, {}
    for spec in cfg.go.toolchains:
        tc = toolchains.resolve(spec)
        build = build_root / f"go={spec.label}"
        binary = (build / BINARY).resolve()
        if not binary.is_file():
            raise InputMissing(f"{binary} is missing; run `dvc repro build@{spec.label}` first")
        versions[spec.label] = (build / "go-version.txt").read_text(encoding="utf-8").strip()
        gocmd.verify_version(tc, versions[spec.label])
        tcs[spec.label], bins[spec.label] = tc, binary
    return tcs, bins, versions


def session_runs(cfg: config.Config) -> list[Run]:
    """The session's schedule for this config."""
    lab = cfg.labs.sched
    cells = [(g, n) for g in cfg.go.labels for n in cfg.sweep.gomaxprocs]
    return schedule(cells, lab.runs, lab.seed)


def run_session(
    cfg: config.Config,
    *,
    build_root: Path,
    raw_root: Path,
    parquet_root: Path = store.PARQUET_ROOT,
    on_run: Callable[[Run, Measured], None] | None = None,
) -> pl.DataFrame:
    """Every run of every cell; writes raw_root (data/raw/sched), the three per-run datasets
    and sched_runs, each replaced as a whole when the session completes. Returns sched_runs."""
    lab = cfg.labs.sched
    tcs, bins, versions = binaries(cfg, build_root)
    runs = session_runs(cfg)
    log.info(
        f"{len(runs)} runs: {len(tcs)} toolchains x {len(cfg.sweep.gomaxprocs)} GOMAXPROCS x "
        f"{lab.runs} rounds, {lab.duration} per workload, seed {lab.seed}"
    )
    params = {
        "labs.sched.duration": lab.duration,
        "labs.sched.workloads": list(lab.workloads),
        "labs.sched.runs": lab.runs,
        "labs.sched.seed": lab.seed,
    }
    summaries: list[pl.DataFrame] = []
    trace_summaries: dict[tuple[str, int], list[dict[str, Any]]] = {}
    t0 = time.monotonic()
    with contextlib.ExitStack() as stack:
        raw_tmp = stack.enter_context(staging.staged_dir(raw_root))
        tmp = {d: stack.enter_context(staging.staged_dir(parquet_root / d)) for d in DATASETS}
        runs_tmp = stack.enter_context(staging.staged_dir(parquet_root / RUNS_DATASET))
        for i, run in enumerate(runs, 1):
            cell_raw = raw_tmp / f"go={run.go}" / f"gomaxprocs={run.gomaxprocs}"
            work = cell_raw / f".run-{run.round}"
            work.mkdir(parents=True)
            got = measure(cfg, tcs[run.go], bins[run.go], run, work)
            if on_run is not None:
                on_run(run, got)
            part = {"go": run.go, "gomaxprocs": str(run.gomaxprocs), "round": str(run.round)}
            run_params = {
                **params,
                "gomaxprocs": run.gomaxprocs,
                "round": run.round,
                "order": run.order,
                "trace_version": got.summary["trace_version"],
            }
            for dataset, df in got.frames.items():
                store.write_dataset(
                    df, tmp[dataset] / _rel(part), dataset=dataset, params=run_params,
                    go_versions=versions, host=cfg.host, partitions=(), fixed=part,
                )  # fmt: skip
            summaries.append(
                sched_data.run_summary(
                    got.frames["sched_waits"], got.frames["sched_requests"], seed=lab.seed
                )
            )
            trace_summaries.setdefault((run.go, run.gomaxprocs), []).append(
                {"round": run.round, "order": run.order, "seed": lab.seed, **got.summary}
            )
            if run.round == 1:  # the first run's files stay: its trace opens in `go tool trace`
                for name in FIRST_RUN_FILES:
                    (work / name).rename(cell_raw / name)
            shutil.rmtree(work)
            left = (time.monotonic() - t0) / i * (len(runs) - i)
            log.info(f"[{i}/{len(runs)}] round {run.round} go {run.go} GOMAXPROCS "
                     f"{run.gomaxprocs} done (~{left:.0f}s left)")  # fmt: skip
        for (go, procs), docs in trace_summaries.items():
            path = raw_tmp / f"go={go}" / f"gomaxprocs={procs}" / "runs.json"
            ordered = sorted(docs, key=lambda d: int(d["round"]))
            path.write_text(json.dumps(ordered, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        out = pl.concat(summaries)
        # written inside the staged dir so that all five outputs are swapped in together
        store.write_dataset(
            out, runs_tmp, dataset=RUNS_DATASET, params=params, go_versions=versions,
            host=cfg.host,
        )  # fmt: skip
    log.info(f"wrote {raw_root}, {', '.join(DATASETS)} and {RUNS_DATASET} ({out.height} rows)")
    return out


def _rel(part: Mapping[str, str]) -> Path:
    return Path(*(f"{k}={v}" for k, v in part.items()))
