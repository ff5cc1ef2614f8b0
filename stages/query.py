"""SQL over the datasets: one DuckDB view per dataset of the catalog (view name = dataset name),
partition columns typed from the catalog (DuckDB `hive_types`: `go` stays a string, so `1.30`
never reads back as 1.3).

    python -m stages.query "SELECT go, count(*) AS n FROM escape GROUP BY go ORDER BY go"
    python -m stages.query "SELECT * FROM bench_stats WHERE significant" --out sig.csv
    python -m stages.query "SELECT * FROM sched_waits" --out waits.parquet

Prints the result as a table (at most --rows rows), or writes it to --out (.csv or .parquet).
Bad SQL or a dataset that is not there gives `error:` and `fix:` lines and exit status 2.
Read-only: a tool for analysts, not a DVC stage.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from releaselab.core import catalog, entry
from releaselab.core.errors import InputMissing, LabError
from releaselab.core.paths import PARQUET_ROOT

DUCKDB_TYPES = {pl.String(): "VARCHAR", pl.Int64(): "BIGINT"}
OUT_FORMATS = (".csv", ".parquet")


class QueryError(LabError):
    """DuckDB refused the SQL."""

    fix = "fix the SQL; views: one per dataset (docs/DATA.md lists their columns)"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_sql(dataset: str, root: Path) -> str | None:
    """CREATE VIEW for a dataset under root, or None when it has no Parquet file there."""
    path = root / dataset
    first = next(path.rglob("*.parquet"), None) if path.is_dir() else None
    if first is None:
        return None
    # the catalog's partitions this dataset's paths hold (data written before a catalog change
    # that added one still reads)
    present = {p.split("=", 1)[0] for p in first.relative_to(path).parts[:-1] if "=" in p}
    hive = {k: t for k, t in catalog.hive_schema(dataset).items() if k in present}
    opts = ""
    if hive:
        types = ", ".join(f"{_quote(k)}: {DUCKDB_TYPES[t]}" for k, t in hive.items())
        opts = f", hive_partitioning = true, hive_types = {{{types}}}"
    else:
        opts = ", hive_partitioning = false"
    glob = (path / "**" / "*.parquet").as_posix()
    # the dataset name comes from the catalog, the path is quoted: nothing here is user input
    return f"CREATE VIEW {dataset} AS SELECT * FROM read_parquet({_quote(glob)}{opts})"  # noqa: S608


def connect(root: Path = PARQUET_ROOT) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """An in-memory DuckDB with a view per dataset present under root; (connection, missing)."""
    con = duckdb.connect(":memory:")
    missing = []
    for ds in catalog.DATASETS:
        sql = view_sql(ds.name, root)
        if sql is None:
            missing.append(ds.name)
        else:
            con.execute(sql)
    return con, missing


def _refers_to(sql: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", sql, re.IGNORECASE) is not None


def run_query(sql: str, root: Path = PARQUET_ROOT) -> duckdb.DuckDBPyRelation | None:
    """The result of sql over the views (None for a statement without a result)."""
    con, missing = connect(root)
    used = [m for m in missing if _refers_to(sql, m)]
    try:
        return con.sql(sql)
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0]
        if used:
            raise InputMissing(f"dataset {', '.join(used)} is not in {root} ({first})") from None
        views = ", ".join(sorted({d.name for d in catalog.DATASETS} - set(missing)))
        raise QueryError(f"DuckDB: {first} (views: {views or 'none'})") from None


def write(rel: duckdb.DuckDBPyRelation, out: Path) -> int:
    """Write the result to out (.csv or .parquet); the number of rows."""
    df: pl.DataFrame = rel.pl()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        df.write_csv(out)
    else:
        df.write_parquet(out, compression="zstd")
    return df.height


def show(rel: duckdb.DuckDBPyRelation, rows: int) -> str:
    df: pl.DataFrame = rel.pl()
    with pl.Config(tbl_rows=rows, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200,
                   tbl_hide_dataframe_shape=True):  # fmt: skip
        text = str(df.head(rows))
    more = f" (first {rows} shown)" if df.height > rows else ""
    return f"{text}\n{df.height} rows{more}\n"


def query(ns: argparse.Namespace) -> int:
    out: Path | None = ns.out
    if out is not None and out.suffix not in OUT_FORMATS:
        raise LabError(
            f"--out {out}: unknown format {out.suffix!r}\n"
            f"fix: name a file ending in {' or '.join(OUT_FORMATS)}"
        )
    rel = run_query(ns.sql, ns.root)
    if rel is None:
        print("ok (no result)")
        return 0
    try:
        if out is not None:
            print(f"wrote {write(rel, out)} rows to {out}")
        else:
            sys.stdout.write(show(rel, ns.rows))
    except duckdb.Error as err:  # errors DuckDB finds only while running the query
        raise QueryError(f"DuckDB: {str(err).strip().splitlines()[0]}") from None
    return 0


def parser() -> argparse.ArgumentParser:
    p = entry.parser("stages.query", __doc__)
    p.add_argument("sql", help="the SQL; views: " + ", ".join(d.name for d in catalog.DATASETS))
    p.add_argument("--out", type=Path, help="write the result here (.csv or .parquet)")
    p.add_argument("--rows", type=int, default=40, help="rows to print (default 40)")
    p.add_argument("--root", type=Path, default=PARQUET_ROOT, help="datasets (data/parquet)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run_tool(query, argv, args=parser())


if __name__ == "__main__":
    raise SystemExit(main())
