"""The stack-growth lab's session: every toolchain x GOMAXPROCS cell labs.stack.runs times, in
interleaved rounds each shuffled from labs.stack.seed (bench's schedule), on every host of the
executor; one run is one process per GODEBUG variant of labs.stack.godebug, and in round 1 each
cell also runs the lab's `-overhead` mode (sampler off vs on, fresh processes, default GODEBUG).

Raw outputs: data/raw/stack/host=H/go=L/gomaxprocs=N/ (round=R/<variant>.csv and .meta.json,
overhead.json); the `stack` dataset (host / go / gomaxprocs / round); run_log/stage=stack.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from releaselab.core import config, executor, gocmd, log, staging, store, toolchains
from releaselab.core.gocmd import Toolchain
from releaselab.sched.rounds import Run, schedule
from releaselab.stack import cell


def check(cfg: config.Config) -> None:
    lab = cfg.labs.stack
    if lab.overhead_reps < 1:
        raise config.ConfigError("params.yaml", ["labs.stack.overhead_reps: must be >= 1"])
    names = [cell.variant_name(g) for g in lab.godebug]
    if not lab.godebug or len(set(names)) != len(names):
        raise config.ConfigError(
            "params.yaml", ["labs.stack.godebug: list each GODEBUG variant once (at least one)"]
        )


def binary(cfg: config.Config, label: str, build_root: Path) -> tuple[Toolchain, Path, str]:
    tc = toolchains.resolve(cfg.go.get(label))
    build_dir = build_root / f"go={label}"
    path = (build_dir / cell.BINARY).resolve()
    if not path.is_file():
        raise cell.StackLabError(f"{path} is missing; run `dvc repro build@{label}` first")
    go_version = (build_dir / "go-version.txt").read_text(encoding="utf-8").strip()
    gocmd.verify_version(tc, go_version)
    return tc, path, go_version


def run_one(
    cfg: config.Config, tc: Toolchain, binary: Path, run: Run, cell_raw: Path, *, host: str
) -> pl.DataFrame:
    """One run of one cell: every GODEBUG variant (and, in round 1, the overhead runs)."""
    lab = cfg.labs.stack
    where = f"[{host} {run.go} GOMAXPROCS={run.gomaxprocs} round {run.round}]"
    run_dir = cell_raw / cell.RUN_DIR.format(run.round)
    run_dir.mkdir(parents=True)
    frames = []
    for godebug in lab.godebug:
        start = time.monotonic()
        df, meta = cell.run_variant(
            tc, binary, run_dir, gomaxprocs=run.gomaxprocs, godebug=godebug,
            interval=lab.interval, timeout=cfg.timeouts.run, rnd=run.round, order=run.order,
            host=host,
        )  # fmt: skip
        smp = meta["sampler"]
        log.info(
            f"{where} GODEBUG={godebug or '(unset)'}: {df.height} rows, {smp['samples']} "
            f"samples at {smp['achieved_hz']:.0f}/s, {time.monotonic() - start:.2f}s"
        )
        frames.append(df)
    if run.round == 1:
        start = time.monotonic()
        ovh = cell.run_overhead(
            tc, binary, cell_raw, gomaxprocs=run.gomaxprocs, interval=lab.interval,
            reps=lab.overhead_reps, timeout=cfg.timeouts.run,
        )  # fmt: skip
        log.info(
            f"{where} overhead ({lab.overhead_reps} reps off/on): total wall "
            f"{ovh['total_wall_delta_pct']:+.1f}% with the sampler on, "
            f"{time.monotonic() - start:.2f}s"
        )
    return pl.concat(frames)


def run_on_host(
    cfg: config.Config,
    spec: config.ToolchainSpec,
    run: Run,
    host: str,
    *,
    files: Mapping[str, Path],
) -> tuple[pl.DataFrame, dict[str, bytes]]:
    """One run on whichever host the executor chose: its rows, and its raw files (paths
    relative to the cell's raw directory) for the driver to keep."""
    tc = toolchains.resolve(spec)
    with tempfile.TemporaryDirectory(prefix="stack-run-") as tmp:
        df = run_one(cfg, tc, files["bin"], run, Path(tmp), host=host)
        raw = {
            str(p.relative_to(tmp)): p.read_bytes()
            for p in sorted(Path(tmp).rglob("*"))
            if p.is_file()
        }
    return df, raw


def run_session(
    cfg: config.Config, *, build_root: Path, raw_root: Path, parquet_root: Path
) -> Path:
    """Every run of every cell on every host; raw outputs, the `stack` dataset and
    run_log/stage=stack, swapped in together when the session completes."""
    check(cfg)
    lab = cfg.labs.stack
    bins = {label: binary(cfg, label, build_root) for label in cfg.go.labels}
    cells = [(g, n) for g in cfg.go.labels for n in cfg.sweep.gomaxprocs]
    runs = schedule(cells, lab.runs, lab.seed)
    ex = executor.make(cfg)
    hosts_ = ex.hosts()
    log.info(f"{len(runs)} runs on each of {len(hosts_)} host(s) ({', '.join(hosts_)}): "
             f"{len(cells)} cells x {lab.runs} rounds, seed {lab.seed}")  # fmt: skip
    params = {
        "labs.stack": {
            "interval": lab.interval,
            "godebug": list(lab.godebug),
            "overhead_reps": lab.overhead_reps,
            "runs": lab.runs,
            "seed": lab.seed,
        },
    }
    versions = {label: v for label, (_, _, v) in bins.items()}
    jobs = [
        executor.Job(
            host,
            executor.run_key(run),
            run_on_host,
            (cfg, cfg.go.get(run.go), run, host),
            {"bin": bins[run.go][1]},
        )
        for host in hosts_
        for run in runs
    ]
    raw_dir, out = raw_root / cell.DATASET, parquet_root / cell.DATASET
    outcomes: list[executor.Outcome] = []
    with contextlib.ExitStack() as stack:
        raw_tmp = stack.enter_context(staging.staged_dir(raw_dir))
        out_tmp = stack.enter_context(staging.staged_dir(out))
        log_tmp = stack.enter_context(
            staging.staged_dir(executor.run_log_dir("stack", parquet_root))
        )
        for i, outcome in enumerate(ex.run(jobs), 1):
            outcomes.append(outcome)
            host, run = outcome.job.host, outcome.job.args[2]
            state = "done" if outcome.ok else f"MISSING ({outcome.error})"
            log.info(f"[{i}/{len(jobs)}] {host} round {run.round} go {run.go} "
                     f"GOMAXPROCS {run.gomaxprocs} {state}")  # fmt: skip
            if not outcome.ok:
                continue
            df, raw = outcome.result
            part = {"host": host, "go": run.go, "gomaxprocs": str(run.gomaxprocs)}
            cell_raw = raw_tmp.joinpath(*(f"{k}={v}" for k, v in part.items()))
            for rel, blob in raw.items():
                (cell_raw / rel).parent.mkdir(parents=True, exist_ok=True)
                (cell_raw / rel).write_bytes(blob)
            part["round"] = str(run.round)
            where = {"gomaxprocs": run.gomaxprocs, "round": run.round, "order": run.order}
            store.write_dataset(
                df,
                out_tmp.joinpath(*(f"{k}={v}" for k, v in part.items())),
                dataset=cell.DATASET,
                params={**params, **where},
                go_versions=versions,
                host=host,
                partitions=(),
                fixed=part,
            )
        if not any(o.ok for o in outcomes):
            raise executor.ExecutorError("no stack run completed on any host; nothing written")
        executor.write_run_log("stack", outcomes, log_tmp)
    log.info(f"wrote {out}, {raw_dir} and run_log")
    return out
