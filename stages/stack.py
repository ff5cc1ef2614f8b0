"""DVC stage `stack` (pipelines/stack/dvc.yaml): the stack-growth lab, every cell.

    python -m stages.stack

Runs the binary the build stage made (data/raw/build/go=LABEL/stack-growth/bin/stack-growth) for
every toolchain x GOMAXPROCS cell labs.stack.runs times, in interleaved rounds each shuffled from
labs.stack.seed (bench's schedule); one run is one process per GODEBUG variant of
labs.stack.godebug. In round 1 each cell also runs the lab's `-overhead` mode (sampler off vs
on, fresh processes, default GODEBUG). Writes the raw outputs to data/raw/stack/go=LABEL/
gomaxprocs=N/ (round=R/<variant>.csv and .meta.json, overhead.json) and the `stack` dataset
(partitioned go / gomaxprocs / round; one row per sample or phase-boundary row).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from releaselab.core import config, entry, gocmd, log, staging, store, toolchains
from releaselab.core.gocmd import Toolchain
from releaselab.core.paths import BUILD_ROOT, PARQUET_ROOT, RAW_ROOT
from releaselab.sched.rounds import Run, schedule
from releaselab.stack import cell


def _check(cfg: config.Config) -> None:
    lab = cfg.labs.stack
    if lab.overhead_reps < 1:
        raise config.ConfigError("params.yaml", ["labs.stack.overhead_reps: must be >= 1"])
    names = [cell.variant_name(g) for g in lab.godebug]
    if not lab.godebug or len(set(names)) != len(names):
        raise config.ConfigError(
            "params.yaml", ["labs.stack.godebug: list each GODEBUG variant once (at least one)"]
        )


def _binary(cfg: config.Config, label: str, build_root: Path) -> tuple[Toolchain, Path, str]:
    tc = toolchains.resolve(cfg.go.get(label))
    build_dir = build_root / f"go={label}"
    binary = (build_dir / cell.BINARY).resolve()
    if not binary.is_file():
        raise cell.StackLabError(f"{binary} is missing; run `dvc repro build@{label}` first")
    go_version = (build_dir / "go-version.txt").read_text(encoding="utf-8").strip()
    gocmd.verify_version(tc, go_version)
    return tc, binary, go_version


def run_one(
    cfg: config.Config, tc: Toolchain, binary: Path, run: Run, cell_raw: Path
) -> pl.DataFrame:
    """One run of one cell: every GODEBUG variant (and, in round 1, the overhead runs)."""
    lab = cfg.labs.stack
    where = f"[{run.go} GOMAXPROCS={run.gomaxprocs} round {run.round}]"
    run_dir = cell_raw / cell.RUN_DIR.format(run.round)
    run_dir.mkdir(parents=True)
    frames = []
    for godebug in lab.godebug:
        start = time.monotonic()
        df, meta = cell.run_variant(
            tc, binary, run_dir, gomaxprocs=run.gomaxprocs, godebug=godebug,
            interval=lab.interval, timeout=cfg.timeouts.run, rnd=run.round, order=run.order,
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


def stage(
    cfg: config.Config,
    *,
    build_root: Path = BUILD_ROOT,
    raw_root: Path = RAW_ROOT,
    parquet_root: Path = PARQUET_ROOT,
) -> Path:
    """Every run of every cell; raw outputs and the `stack` dataset, each replaced as a whole."""
    _check(cfg)
    lab = cfg.labs.stack
    bins = {label: _binary(cfg, label, build_root) for label in cfg.go.labels}
    cells = [(g, n) for g in cfg.go.labels for n in cfg.sweep.gomaxprocs]
    runs = schedule(cells, lab.runs, lab.seed)
    log.info(f"{len(runs)} runs: {len(cells)} cells x {lab.runs} rounds, seed {lab.seed}")
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
    raw_dir, out = raw_root / cell.DATASET, parquet_root / cell.DATASET
    with contextlib.ExitStack() as stack:
        raw_tmp = stack.enter_context(staging.staged_dir(raw_dir))
        out_tmp = stack.enter_context(staging.staged_dir(out))
        for i, run in enumerate(runs, 1):
            tc, binary, _ = bins[run.go]
            cell_raw = raw_tmp / f"go={run.go}" / f"gomaxprocs={run.gomaxprocs}"
            df = run_one(cfg, tc, binary, run, cell_raw)
            part = {"go": run.go, "gomaxprocs": str(run.gomaxprocs), "round": str(run.round)}
            where = {"gomaxprocs": run.gomaxprocs, "round": run.round, "order": run.order}
            store.write_dataset(
                df,
                out_tmp.joinpath(*(f"{k}={v}" for k, v in part.items())),
                dataset=cell.DATASET,
                params={**params, **where},
                go_versions=versions,
                host=cfg.host,
                partitions=(),
                fixed=part,
            )
            log.info(f"[{i}/{len(runs)}] round {run.round} go {run.go} GOMAXPROCS {run.gomaxprocs}")
    log.info(f"wrote {out} and {raw_dir}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    def body(args: argparse.Namespace, cfg: config.Config) -> None:
        del args
        stage(cfg)

    return entry.run(body, argv, args=entry.parser("stages.stack", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
