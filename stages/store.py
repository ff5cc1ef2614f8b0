"""The one Parquet writer and reader: dataset layout, schemas, atomic writes, scans.

A dataset is data/parquet/<name>/, hive-partitioned (go=<label>[/gomaxprocs=<n>]/part-0.parquet).
Partition values are strings in paths; readers pass an explicit hive schema so that `1.30` never
comes back as the float 1.3. Writes are atomic: the whole dataset is written beside the old one,
read back and checked, then renamed into place. Rows are sorted first so the bytes (and DVC's
hashes) are stable; every file carries key-value metadata (schema version, go version, machine,
the run's parameters).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import re
import shutil
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

SCHEMA_VERSION = "1"
PARQUET_ROOT = Path("data/parquet")
RAW_ROOT = Path("data/raw")

# Column types of each dataset (partition columns included; they are not stored in the files).
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "toolchains": {
        "go": pl.String(),
        "label": pl.String(),
        "version": pl.String(),
        "source": pl.String(),
        "goroot": pl.String(),
        "go_version": pl.String(),
        "goos": pl.String(),
        "goarch": pl.String(),
        "wheel_sha256": pl.String(),
    },
    "escape": {
        "go": pl.String(),
        "lab": pl.String(),
        "package": pl.String(),
        "file": pl.String(),
        "line": pl.Int64(),
        "col": pl.Int64(),
        "kind": pl.String(),
        "subject": pl.String(),
        "message": pl.String(),
        "flow": pl.List(pl.String()),
        "function": pl.String(),
        "detail": pl.String(),
        "code": pl.String(),
        "lineno": pl.Int64(),
        "in_json": pl.Boolean(),
    },
    "escape_diff": {
        "from_go": pl.String(),
        "to_go": pl.String(),
        "lab": pl.String(),
        "package": pl.String(),
        "function": pl.String(),
        "file": pl.String(),
        "line": pl.Int64(),
        "col": pl.Int64(),
        "subject": pl.String(),
        "change": pl.String(),
        "kind_before": pl.String(),
        "kind_after": pl.String(),
    },
    "escape_ledger": {
        "go": pl.String(),
        "case": pl.String(),
        "variant": pl.String(),
        "function": pl.String(),
        "file": pl.String(),
        "line": pl.Int64(),
        "subject": pl.String(),
        "predicted": pl.String(),
        "compiler": pl.String(),
        "predicted_allocs": pl.Int64(),
        "benchmark": pl.String(),
        "allocs_op": pl.Float64(),
        "bytes_op": pl.Float64(),
        "verdict": pl.String(),
    },
    "bench": {
        "go": pl.String(),
        "gomaxprocs": pl.Int64(),
        "lab": pl.String(),
        "package": pl.String(),
        "name": pl.String(),
        "round": pl.Int64(),
        "order": pl.Int64(),
        "iterations": pl.Int64(),
        "unit": pl.String(),
        "value": pl.Float64(),
        "host": pl.String(),
    },
    "stack": {
        "go": pl.String(),
        "gomaxprocs": pl.Int64(),
        "godebug": pl.String(),
        "scenario": pl.String(),
        "phase": pl.String(),
        "kind": pl.String(),
        "t_ns": pl.Int64(),
        "stack_inuse_bytes": pl.Int64(),
        "stack_os_bytes": pl.Int64(),
        "goroutines": pl.Int64(),
        "starting_size_bytes": pl.Int64(),
        "gc_cycles": pl.Int64(),
        "memstats_stack_inuse": pl.Int64(),
    },
    # One Runnable -> Running wait (traceconv's waits.csv); `window` is the workload running
    # when it ended, `workload` the task of the goroutine (null: a runtime goroutine).
    "sched_waits": {
        "go": pl.String(),
        "gomaxprocs": pl.Int64(),
        "workload": pl.String(),
        "window": pl.String(),
        "goroutine": pl.Int64(),
        "reason": pl.String(),
        "detail": pl.String(),
        "waker": pl.Int64(),
        "task_id": pl.Int64(),
        "task_source": pl.String(),
        "proc": pl.Int64(),
        "start_ns": pl.Int64(),
        "end_ns": pl.Int64(),
        "wait_ns": pl.Int64(),
    },
    # One bucket [lo, hi) (the metric's unit, seconds) of a runtime/metrics histogram, counting
    # what happened during the workload.
    "sched_hist": {
        "go": pl.String(),
        "gomaxprocs": pl.Int64(),
        "workload": pl.String(),
        "metric": pl.String(),
        "bucket": pl.Int64(),
        "lo": pl.Float64(),
        "hi": pl.Float64(),
        "count": pl.Int64(),
    },
    "sched_requests": {
        "go": pl.String(),
        "gomaxprocs": pl.Int64(),
        "workload": pl.String(),
        "request_id": pl.Int64(),
        "start_ns": pl.Int64(),
        "latency_ns": pl.Int64(),
    },
}
# Partition columns of each dataset, outermost first, and the hive schema readers must pass.
PARTITIONS: dict[str, tuple[str, ...]] = {
    "toolchains": ("go",),
    "escape": ("go",),
    "escape_diff": (),
    "escape_ledger": ("go",),
    "bench": ("go", "gomaxprocs"),
    "bench_stats": ("go", "gomaxprocs"),
    "sched_waits": ("go", "gomaxprocs"),
    "sched_hist": ("go", "gomaxprocs"),
    "sched_requests": ("go", "gomaxprocs"),
    "stack": ("go", "gomaxprocs"),
}
HIVE_TYPES: dict[str, pl.DataType] = {"go": pl.String(), "gomaxprocs": pl.Int64()}


class StoreError(RuntimeError):
    """A dataset could not be written or read; nothing half-written is left behind."""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(host: str = "") -> dict[str, str]:
    """What the numbers were measured on."""
    return {
        "host": host or socket.gethostname(),
        "cpu_model": cpu_model(),
        "cores": str(os.cpu_count() or 0),
        "os": platform.platform(),
    }


def frame(rows: Sequence[Mapping[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Rows (dicts with every column of the schema) -> a DataFrame of exactly that schema."""
    return pl.DataFrame([dict(r) for r in rows], schema=dict(schema))


def _metadata(
    dataset: str, params: Mapping[str, Any], go_version: str | None, host: str
) -> dict[str, str]:
    meta = {
        "schema_version": SCHEMA_VERSION,
        "dataset": dataset,
        "go_version": go_version or "",
        "params": json.dumps(params, sort_keys=True),
        **machine(host),
    }
    return dict(sorted(meta.items()))


def _write_file(df: pl.DataFrame, path: Path, meta: dict[str, str]) -> None:
    # Polars' own writer: byte-stable, 3x faster than to_arrow() + pyarrow's, and a stage
    # that only writes need not import pyarrow (0.15 s per DVC stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        df.write_parquet(path, compression="zstd", statistics=True, metadata=meta)
    except pl.exceptions.PolarsError as err:
        # Polars reports a failed write (disk full, file-size limit) as "... (os error N)"
        if (m := _OS_ERROR.search(str(err))) is None:
            raise
        code = int(m["code"])
        raise OSError(code, os.strerror(code), str(path)) from err


_OS_ERROR = re.compile(r"\(os error (?P<code>\d+)\)")


def write_dataset(
    df: pl.DataFrame,
    out_dir: Path,
    *,
    dataset: str,
    params: Mapping[str, Any],
    go_versions: Mapping[str, str] | None = None,
    params_by_go: Mapping[str, Mapping[str, Any]] | None = None,
    host: str = "",
    sort_by: Sequence[str] | None = None,
    partitions: Sequence[str] | None = None,
    fixed: Mapping[str, str] | None = None,
) -> None:
    """Write df as a hive-partitioned dataset at out_dir, atomically replacing what was there.

    params_by_go adds per-toolchain parameters to the files of that `go` partition only, so a
    partition's bytes change only when its own toolchain's parameters do. `fixed` names
    partition columns whose (single) values out_dir's own path already holds (see write_cell).
    """
    check_schema(df, dataset)
    parts = list(partitions if partitions is not None else PARTITIONS[dataset])
    keys = list(sort_by) if sort_by is not None else list(df.columns)
    df = df.sort(keys, nulls_last=True, maintain_order=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    recover(out_dir)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        groups = df.partition_by(parts, as_dict=True, maintain_order=True) if parts else {(): df}
        for values, part in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
            rel = Path(*(f"{k}={v}" for k, v in zip(parts, values, strict=True)))
            label = str({**(fixed or {}), **dict(zip(parts, values, strict=True))}.get("go", ""))
            file_params = {**params, **(params_by_go or {}).get(label, {})}
            _write_file(
                part.drop([*parts, *(fixed or {})], strict=False),
                tmp / rel / "part-0.parquet",
                _metadata(dataset, file_params, (go_versions or {}).get(label), host),
            )
        _validate(tmp, len(df))
        if out_dir.exists() and _exchange(tmp, out_dir):
            old = tmp  # out_dir was never missing; tmp now holds the previous dataset
        else:  # no atomic swap here: a kill between the renames is undone by recover()
            if out_dir.exists():
                out_dir.rename(old)
            tmp.rename(out_dir)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)  # put the previous dataset back
        if isinstance(err, OSError):  # disk full, file-size limit, permissions
            raise StoreError(
                f"cannot write {out_dir} ({err.strerror or err}); the previous dataset is kept "
                "and nothing half-written is left: free space or fix the cause, then rerun"
            ) from err
        raise
    shutil.rmtree(old, ignore_errors=True)


_DEBRIS = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def recover(path: Path) -> None:
    """Undo what a killed writer left beside `path` and inside it: a dataset it had moved aside
    (`.NAME.old-PID`) goes back if NAME is missing; its other leftovers are deleted. Leftovers of
    writers still running are not touched."""
    inside = sorted(path.rglob(".*.*-*")) if path.is_dir() else []
    for debris in [*sorted(path.parent.glob(f".{path.name}.*-*")), *inside]:
        m = _DEBRIS.match(debris.name)
        if m is None or not debris.exists() or _alive(int(m["pid"])):
            continue
        target = debris.parent / m["name"]
        if m["kind"] == "old" and not target.exists():
            debris.rename(target)
        else:
            _sweep(debris)


def _sweep(debris: Path, attempts: int = 5) -> None:
    """Delete a dead writer's leftover. rmtree can lose a race with a process that still
    creates files inside (an orphaned child of the dead writer), so retry, then say so."""
    for _ in range(attempts):
        shutil.rmtree(debris, ignore_errors=True)
        if not debris.exists():
            return
        time.sleep(0.05)
    raise StoreError(
        f"cannot delete {debris}, a killed run's leftover: something still writes into it. "
        "Stop that process (`fuser -v` on the directory names it), delete the directory, rerun"
    )


def check_schema(df: pl.DataFrame, dataset: str) -> None:
    """Refuse to write a frame that breaks the dataset's column contract (SCHEMAS)."""
    want = SCHEMAS.get(dataset)
    if want is None:
        return
    got = dict(df.schema)
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    wrong = sorted(c for c in set(want) & set(got) if got[c] != want[c])
    if missing or extra or wrong:
        raise StoreError(
            f"{dataset}: the frame breaks the column contract in stages/store.py SCHEMAS "
            f"(missing {missing}, unexpected {extra}, wrong types {wrong}); fix the stage or "
            "change the contract (and the docs) on purpose"
        )


def cell_dir(dataset: str, cell: Mapping[str, object], root: Path = PARQUET_ROOT) -> Path:
    """root/<dataset>/go=<label>/gomaxprocs=<n>: the directory one DVC matrix cell owns."""
    return root / dataset / Path(*(f"{k}={cell[k]}" for k in PARTITIONS[dataset]))


def write_cell(
    df: pl.DataFrame,
    dataset: str,
    cell: Mapping[str, object],
    *,
    params: Mapping[str, Any],
    go_version: str,
    host: str = "",
    root: Path = PARQUET_ROOT,
    sort_by: Sequence[str] | None = None,
) -> Path:
    """Atomically write one partition cell (e.g. go=1.27.3/gomaxprocs=2) of a dataset."""
    values = {k: str(cell[k]) for k in PARTITIONS[dataset]}
    for k, v in values.items():
        if k in df.columns and df.height and set(map(str, df[k].unique())) != {v}:
            raise StoreError(f"{dataset}: rows with {k} other than {v} in the cell {values}")
    out_dir = cell_dir(dataset, values, root)
    write_dataset(
        df,
        out_dir,
        dataset=dataset,
        params=params,
        host=host,
        sort_by=sort_by,
        go_versions={values["go"]: go_version},
        partitions=(),
        fixed=values,
    )
    return out_dir


def _validate(tmp: Path, expected_rows: int) -> None:
    files = sorted(tmp.rglob("*.parquet"))
    got = pl.scan_parquet(files).select(pl.len()).collect().item() if files else 0
    if got != expected_rows:
        raise StoreError(f"wrote {got} rows to {tmp} but expected {expected_rows}")


def scan(dataset: str, root: Path = PARQUET_ROOT) -> pl.LazyFrame:
    """A lazy scan of a dataset with the partition columns typed explicitly."""
    path = root / dataset
    recover(path)
    if not path.is_dir():
        raise StoreError(f"dataset {path} does not exist; run `dvc repro` to produce it")
    parts = PARTITIONS.get(dataset, ("go",))
    return pl.scan_parquet(
        path / "**" / "*.parquet",
        hive_partitioning=True,
        hive_schema={p: HIVE_TYPES[p] for p in parts},
    )


def read_metadata(dataset: str, root: Path = PARQUET_ROOT) -> list[dict[str, str]]:
    """The key-value metadata of every file of a dataset, in path order."""
    import pyarrow.parquet as pq  # noqa: PLC0415 - only readers of metadata pay for pyarrow

    out = []
    for p in sorted((root / dataset).rglob("*.parquet")):
        raw = pq.ParquetFile(p).metadata.metadata or {}
        meta = {k.decode(): v.decode() for k, v in raw.items() if k != b"ARROW:schema"}
        out.append(meta | {"path": str(p)})
    return out
