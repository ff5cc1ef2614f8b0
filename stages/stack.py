"""DVC stage `stack@LABEL-GOMAXPROCS` (pipelines/stack/dvc.yaml): the stack-growth lab, one cell.

    python -m stages.stack LABEL GOMAXPROCS

Runs the binary the build stage made (data/raw/build/go=LABEL/stack-growth/bin/stack-growth) once
per GODEBUG variant of labs.stack.godebug, then once in its `-overhead` mode (sampler off vs on,
fresh processes, default GODEBUG). Writes the raw outputs to data/raw/stack/go=LABEL/gomaxprocs=N/
(<variant>.csv, <variant>.meta.json, overhead.json) and the `stack` dataset cell
data/parquet/stack/go=LABEL/gomaxprocs=N/ (one row per sample or phase-boundary row).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from stages import config, gocmd, log, store, toolchains
from stages.gocmd import GoCommandError, Toolchain

DATASET = "stack"
BINARY = Path("stack-growth") / "bin" / "stack-growth"  # inside data/raw/build/go=<label>/
OVERHEAD_FILE = "overhead.json"
# The lab's CSV contract (runtime-foundations/stack-growth/internal/lab/output.go, CSVHeader).
CSV_COLUMNS = (
    "t_ns", "scenario", "phase", "kind", "stack_inuse_bytes", "stack_os_bytes", "goroutines",
    "starting_size_bytes", "gc_cycles", "memstats_stack_inuse",
)  # fmt: skip
SORT_BY = ("godebug", "t_ns", "kind", "scenario", "phase")
_SLUG_BAD = re.compile(r"[^A-Za-z0-9._=+-]+")


class StackLabError(RuntimeError):
    """The lab's output does not match what was asked for or what the stage can read."""


def variant_name(godebug: str) -> str:
    """A file-name stem for one GODEBUG variant: `default` when unset.

    >>> variant_name(""), variant_name("adaptivestackstart=0,gctrace=1")
    ('default', 'adaptivestackstart=0+gctrace=1')
    """
    return _SLUG_BAD.sub("_", godebug.replace(",", "+")) if godebug else "default"


def parse_csv(text: str, *, go: str, gomaxprocs: int, godebug: str) -> pl.DataFrame:
    """The lab's CSV -> rows of the `stack` dataset; an empty field (metric absent) is null."""
    header = tuple(text.split("\n", 1)[0].strip().split(","))
    if header != CSV_COLUMNS:
        raise StackLabError(
            f"stack-growth CSV header is {','.join(header)!r}, expected {','.join(CSV_COLUMNS)!r}:"
            " the lab's output contract changed; update stages/stack.py and store.SCHEMAS"
        )
    schema = store.SCHEMAS[DATASET]
    try:
        df = pl.read_csv(io.StringIO(text), schema={c: schema[c] for c in CSV_COLUMNS})
    # polars 2.1 panics (PanicException, a BaseException) on a lone '"' at the very end.
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as err:
        raise StackLabError(f"stack-growth CSV does not parse: {err}") from err
    keys = pl.DataFrame(
        {"go": [go], "gomaxprocs": [gomaxprocs], "godebug": [godebug]},
        schema={k: schema[k] for k in ("go", "gomaxprocs", "godebug")},
    )
    return keys.join(df, how="cross").select(list(schema))


def check_meta(meta: dict[str, Any], tc: Toolchain, *, gomaxprocs: int, godebug: str) -> None:
    """Fail unless the run used this toolchain's Go, this GOMAXPROCS and exactly this GODEBUG."""
    problems = []
    if tc.version is not None and meta.get("go_version") != f"go{tc.version}":
        problems.append(f"runtime.Version() is {meta.get('go_version')!r}, not go{tc.version}")
    if meta.get("gomaxprocs") != gomaxprocs:
        problems.append(f"GOMAXPROCS was {meta.get('gomaxprocs')}, not {gomaxprocs}")
    if meta.get("godebug", "") != godebug:
        problems.append(f"GODEBUG was {meta.get('godebug')!r}, not {godebug!r}")
    if problems:
        raise StackLabError(f"stack-growth ({tc.label}) ran differently: {'; '.join(problems)}")


def run_variant(
    tc: Toolchain,
    binary: Path,
    raw_dir: Path,
    *,
    gomaxprocs: int,
    godebug: str,
    interval: str,
    timeout: float,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Run the lab once with GODEBUG=godebug; keep its CSV and meta JSON in raw_dir."""
    name = variant_name(godebug)
    csv, meta_path = raw_dir / f"{name}.csv", raw_dir / f"{name}.meta.json"
    gocmd.run_binary(
        tc,
        binary,
        [f"-interval={interval}", f"-out={csv.resolve()}", f"-meta={meta_path.resolve()}"],
        cwd=raw_dir,
        timeout=timeout,
        gomaxprocs=gomaxprocs,
        godebug=godebug or None,
    )
    meta = _lab_json(meta_path, tc, binary)
    check_meta(meta, tc, gomaxprocs=gomaxprocs, godebug=godebug)
    text = csv.read_text(encoding="utf-8")
    return parse_csv(text, go=tc.label, gomaxprocs=gomaxprocs, godebug=godebug), meta


def run_overhead(
    tc: Toolchain,
    binary: Path,
    raw_dir: Path,
    *,
    gomaxprocs: int,
    interval: str,
    reps: int,
    timeout: float,
) -> dict[str, Any]:
    """The lab's -overhead mode (reps fresh processes with the sampler off, reps with it on)."""
    path = raw_dir / OVERHEAD_FILE
    gocmd.run_binary(
        tc,
        binary,
        [f"-interval={interval}", f"-overhead={path.resolve()}", f"-overhead-reps={reps}"],
        cwd=raw_dir,
        timeout=timeout,
        gomaxprocs=gomaxprocs,
    )
    data = _lab_json(path, tc, binary)
    check_meta(data, tc, gomaxprocs=gomaxprocs, godebug="")
    return data


def _lab_json(path: Path, tc: Toolchain, binary: Path) -> dict[str, Any]:
    """A JSON object the lab wrote; anything else is a StackLabError naming binary and file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        data, why = None, str(err)
    else:
        why = f"a JSON {type(data).__name__}, not an object"
    if not isinstance(data, dict):
        raise StackLabError(
            f"{binary} ({tc.label}) did not write its JSON to {path}: {why}; rerun "
            f"`dvc repro -f build@{tc.label}` if the binary is stale"
        )
    return data


def stage(
    label: str,
    gomaxprocs: int,
    *,
    build_root: Path = store.RAW_ROOT / "build",
    raw_root: Path = store.RAW_ROOT,
    parquet_root: Path = store.PARQUET_ROOT,
) -> Path:
    """Run every GODEBUG variant and the overhead measurement of one cell; write raw and Parquet."""
    cfg = config.load()
    lab = cfg.labs.stack
    if lab.overhead_reps < 1:
        raise config.ConfigError("params.yaml", ["labs.stack.overhead_reps: must be >= 1"])
    names = [variant_name(g) for g in lab.godebug]
    if not lab.godebug or len(set(names)) != len(names):
        raise config.ConfigError(
            "params.yaml", ["labs.stack.godebug: list each GODEBUG variant once (at least one)"]
        )
    tc = toolchains.resolve(cfg.go.get(label))
    build_dir = build_root / f"go={label}"
    binary = (build_dir / BINARY).resolve()
    if not binary.is_file():
        raise StackLabError(f"{binary} is missing; run `dvc repro build@{label}` first")
    go_version = (build_dir / "go-version.txt").read_text(encoding="utf-8").strip()
    gocmd.verify_version(tc, go_version)
    cell = {"go": label, "gomaxprocs": gomaxprocs}
    raw_dir = store.cell_dir(DATASET, cell, raw_root)
    tmp = raw_dir.parent / f".{raw_dir.name}.tmp-{os.getpid()}"
    store.recover(raw_dir)  # what a killed run of this cell left beside it
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    where = f"[{label} GOMAXPROCS={gomaxprocs}]"
    try:
        frames = []
        for godebug in lab.godebug:
            start = time.monotonic()
            df, meta = run_variant(
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
        ovh = run_overhead(
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
        shutil.rmtree(raw_dir, ignore_errors=True)
        tmp.rename(raw_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = store.write_cell(
        pl.concat(frames),
        DATASET,
        cell,
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
        sort_by=SORT_BY,
    )
    log.info(f"{where} wrote {out} and {raw_dir}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stages.stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("label", help="toolchain label from params.yaml (go.toolchains)")
    parser.add_argument("gomaxprocs", type=int, help="GOMAXPROCS for every run")
    args = parser.parse_args(argv)
    try:
        stage(args.label, args.gomaxprocs)
    except (
        GoCommandError,
        StackLabError,
        toolchains.ToolchainError,
        config.ConfigError,
        store.StoreError,
    ) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
