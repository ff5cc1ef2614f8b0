"""The one Parquet writer and reader: dataset layout, schemas, atomic writes, scans.

A dataset is data/parquet/<name>/, hive-partitioned (go=<label>[/gomaxprocs=<n>]/part-0.parquet).
Partition values are strings in paths; readers pass an explicit hive schema so that `1.30` never
comes back as the float 1.3. Writes are atomic: the whole dataset is written beside the old one,
read back and checked, then renamed into place. Rows are sorted first so the bytes (and DVC's
hashes) are stable; every file carries key-value metadata (schema version, go version, machine,
the run's parameters).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from releaselab.core import catalog, hosts, paths, staging
from releaselab.core.errors import LabError

PARQUET_ROOT = paths.PARQUET_ROOT
RAW_ROOT = paths.RAW_ROOT
SCHEMA_VERSION = catalog.SCHEMA_VERSION


class StoreError(LabError, RuntimeError):
    """A dataset could not be written or read; nothing half-written is left behind."""

    fix = "fix the cause named above (free space, the stage, or the catalog on purpose), rerun"


def machine(host: str = "") -> dict[str, str]:
    """What the numbers were measured on (the file metadata; the `hosts` dataset has more)."""
    return hosts.metadata(host)


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


def _write_file(df: pl.DataFrame, path: Path, meta: dict[str, str], schema: Any) -> None:
    # Polars' own writer: byte-stable, 3x faster than to_arrow() + pyarrow's, and a stage
    # that only writes need not import pyarrow (0.15 s per DVC stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        df.write_parquet(
            path, compression="zstd", statistics=True, metadata=meta, arrow_schema=schema
        )
    except pl.exceptions.PolarsError as err:
        # Polars reports a failed write (disk full, file-size limit) as "... (os error N)"
        if (m := _OS_ERROR.search(str(err))) is None:
            raise
        code = int(m["code"])
        raise OSError(code, os.strerror(code), str(path)) from err


_OS_ERROR = re.compile(r"\(os error (?P<code>\d+)\)")


def _arrow_schema(df: pl.DataFrame, ds: catalog.Dataset) -> Any:
    """The frame's Arrow schema with each column's unit and meaning as field metadata."""
    import pyarrow as pa  # noqa: PLC0415 - only writers pay for pyarrow

    fields = []
    for f in df.head(0).to_arrow().schema:
        col = ds.column(f.name)
        meta = {"meaning": col.meaning, **({"unit": col.unit} if col.unit else {})}
        fields.append(f.with_metadata(meta))
    return pa.schema(fields)


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

    Partitions and sort keys come from the catalog unless given. params_by_go adds
    per-toolchain parameters to the files of that `go` partition only, so a partition's bytes
    change only when its own toolchain's parameters do. `fixed` names partition columns whose
    (single) values out_dir's own path already holds (see write_cell).
    """
    ds = check_schema(df, dataset)
    parts = list(partitions if partitions is not None else ds.partitions)
    keys = list(sort_by if sort_by is not None else ds.sort_by) or list(df.columns)
    df = df.sort(keys, nulls_last=True, maintain_order=True)
    try:
        with staging.staged_dir(out_dir) as tmp:
            groups = (
                df.partition_by(parts, as_dict=True, maintain_order=True) if parts else {(): df}
            )
            for values, part in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
                rel = Path(*(f"{k}={v}" for k, v in zip(parts, values, strict=True)))
                where = {**(fixed or {}), **dict(zip(parts, values, strict=True))}
                label = str(where.get("go", ""))
                file_params = {**params, **(params_by_go or {}).get(label, {})}
                body = part.drop([*parts, *(fixed or {})], strict=False)
                _write_file(
                    body,
                    tmp / rel / "part-0.parquet",
                    _metadata(dataset, file_params, (go_versions or {}).get(label), host),
                    _arrow_schema(body, ds),
                )
            _validate(tmp, len(df))
    except OSError as err:  # disk full, file-size limit, permissions
        raise StoreError(
            f"cannot write {out_dir} ({err.strerror or err}); the previous dataset is kept "
            "and nothing half-written is left"
        ) from err


def check_schema(df: pl.DataFrame, dataset: str) -> catalog.Dataset:
    """Refuse a dataset the catalog does not know, or a frame that breaks its entry."""
    try:
        ds = catalog.get(dataset)
    except catalog.UnknownDataset as err:
        raise StoreError(str(err.args[0])) from None
    want, got = ds.schema, dict(df.schema)
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    wrong = sorted(c for c in set(want) & set(got) if got[c] != want[c])
    if missing or extra or wrong:
        raise StoreError(
            f"{dataset}: the frame breaks its entry in the dataset catalog "
            f"(missing {missing}, unexpected {extra}, wrong types {wrong})"
        )
    return ds


def cell_dir(dataset: str, cell: Mapping[str, object], root: Path = PARQUET_ROOT) -> Path:
    """root/<dataset>/go=<label>/gomaxprocs=<n>: the directory one DVC matrix cell owns."""
    return root / dataset / Path(*(f"{k}={cell[k]}" for k in catalog.partitions(dataset)))


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
    values = {k: str(cell[k]) for k in catalog.partitions(dataset)}
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


_HOST_SCOPE: contextvars.ContextVar[str | None] = contextvars.ContextVar("host", default=None)


@contextlib.contextmanager
def host_scope(host: str | None) -> Iterator[None]:
    """Within the block, scans of host-partitioned datasets (and host_dirs) see one host only:
    the report builds each host's sections in its scope, so no comparison crosses hosts."""
    token = _HOST_SCOPE.set(host)
    try:
        yield
    finally:
        _HOST_SCOPE.reset(token)


def host_dirs(root: Path) -> list[Path]:
    """root/host=H directories (raw outputs of sched and stack) in the current host scope."""
    scope = _HOST_SCOPE.get()
    return [p for p in sorted(root.glob("host=*")) if scope in (None, p.name[len("host=") :])]


def hosts_in(dataset: str, root: Path = PARQUET_ROOT) -> list[str]:
    """The host labels a host-partitioned dataset holds (sorted), whatever the scope."""
    return sorted(p.name[len("host=") :] for p in (root / dataset).glob("host=*") if p.is_dir())


def scan(dataset: str, root: Path = PARQUET_ROOT) -> pl.LazyFrame:
    """A lazy scan of a dataset with the partition columns typed explicitly (one host's rows
    inside host_scope)."""
    path = root / dataset
    staging.recover(path)  # what a killed writer left beside it
    if not path.is_dir():
        raise StoreError(f"dataset {path} does not exist; run `dvc repro` to produce it")
    if next(path.rglob("*.parquet"), None) is None:  # no rows: written as no files at all
        return pl.LazyFrame(schema=catalog.schema(dataset))
    lf = pl.scan_parquet(
        path / "**" / "*.parquet",
        hive_partitioning=True,
        hive_schema=catalog.hive_schema(dataset),
    )
    scope = _HOST_SCOPE.get()
    if scope is not None and "host" in catalog.partitions(dataset):
        lf = lf.filter(pl.col("host") == scope)
    return lf


def read_metadata(dataset: str, root: Path = PARQUET_ROOT) -> list[dict[str, str]]:
    """The key-value metadata of every file of a dataset, in path order."""
    import pyarrow.parquet as pq  # noqa: PLC0415 - only readers of metadata pay for pyarrow

    out = []
    for p in sorted((root / dataset).rglob("*.parquet")):
        raw = pq.ParquetFile(p).metadata.metadata or {}
        meta = {k.decode(): v.decode() for k, v in raw.items() if k != b"ARROW:schema"}
        out.append(meta | {"path": str(p)})
    return out
