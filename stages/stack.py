"""DVC stage `stack@LABEL-GOMAXPROCS` (pipelines/stack/dvc.yaml): the stack-growth lab, one cell.

    python -m stages.stack LABEL GOMAXPROCS

Runs the binary the build stage made (data/raw/build/go=LABEL/stack-growth/bin/stack-growth) once
per GODEBUG variant of labs.stack.godebug, then once in its `-overhead` mode (sampler off vs on,
fresh processes, default GODEBUG). Writes the raw outputs to data/raw/stack/go=LABEL/gomaxprocs=N/
(<variant>.csv, <variant>.meta.json, overhead.json) and the `stack` dataset cell
data/parquet/stack/go=LABEL/gomaxprocs=N/ (one row per sample or phase-boundary row).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from releaselab.core import config, entry, gocmd, log, staging, store, toolchains
from releaselab.core.paths import BUILD_ROOT, PARQUET_ROOT, RAW_ROOT
from releaselab.stack import cell


def stage(
    cfg: config.Config,
    label: str,
    gomaxprocs: int,
    *,
    build_root: Path = BUILD_ROOT,
    raw_root: Path = RAW_ROOT,
    parquet_root: Path = PARQUET_ROOT,
) -> Path:
    """Run every GODEBUG variant and the overhead measurement of one cell; write raw and Parquet."""
    lab = cfg.labs.stack
    if lab.overhead_reps < 1:
        raise config.ConfigError("params.yaml", ["labs.stack.overhead_reps: must be >= 1"])
    names = [cell.variant_name(g) for g in lab.godebug]
    if not lab.godebug or len(set(names)) != len(names):
        raise config.ConfigError(
            "params.yaml", ["labs.stack.godebug: list each GODEBUG variant once (at least one)"]
        )
    tc = toolchains.resolve(cfg.go.get(label))
    build_dir = build_root / f"go={label}"
    binary = (build_dir / cell.BINARY).resolve()
    if not binary.is_file():
        raise cell.StackLabError(f"{binary} is missing; run `dvc repro build@{label}` first")
    go_version = (build_dir / "go-version.txt").read_text(encoding="utf-8").strip()
    gocmd.verify_version(tc, go_version)
    part = {"go": label, "gomaxprocs": gomaxprocs}
    raw_dir = store.cell_dir(cell.DATASET, part, raw_root)
    where = f"[{label} GOMAXPROCS={gomaxprocs}]"
    with staging.staged_dir(raw_dir) as tmp:
        frames = []
        for godebug in lab.godebug:
            start = time.monotonic()
            df, meta = cell.run_variant(
                tc,
                binary,
                tmp,
                gomaxprocs=gomaxprocs,
                godebug=godebug,
                interval=lab.interval,
                timeout=cfg.timeouts.run,
            )
            smp = meta["sampler"]
            log.info(
                f"{where} GODEBUG={godebug or '(unset)'}: {df.height} rows, {smp['samples']} "
                f"samples at {smp['achieved_hz']:.0f}/s, {time.monotonic() - start:.2f}s"
            )
            frames.append(df)
        start = time.monotonic()
        ovh = cell.run_overhead(
            tc,
            binary,
            tmp,
            gomaxprocs=gomaxprocs,
            interval=lab.interval,
            reps=lab.overhead_reps,
            timeout=cfg.timeouts.run,
        )
        log.info(
            f"{where} overhead ({lab.overhead_reps} reps off/on): total wall "
            f"{ovh['total_wall_delta_pct']:+.1f}% with the sampler on, "
            f"{time.monotonic() - start:.2f}s"
        )
    out = store.write_cell(
        pl.concat(frames),
        cell.DATASET,
        part,
        params={
            "labs.stack": {
                "interval": lab.interval,
                "godebug": list(lab.godebug),
                "overhead_reps": lab.overhead_reps,
            },
            "gomaxprocs": gomaxprocs,
        },
        go_version=go_version,
        host=cfg.host,
        root=parquet_root,
    )
    log.info(f"{where} wrote {out} and {raw_dir}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = entry.parser("stages.stack", __doc__)
    args.add_argument("label", help="toolchain label from params.yaml (go.toolchains)")
    args.add_argument("gomaxprocs", type=int, help="GOMAXPROCS for every run")
    return entry.run(lambda a, cfg: stage(cfg, a.label, a.gomaxprocs), argv, args=args)


if __name__ == "__main__":
    raise SystemExit(main())
