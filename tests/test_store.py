"""The Parquet contract: hive partitions as strings, stable bytes, metadata, atomic replacement."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from releaselab.core import catalog, store

SCHEMA = catalog.schema("toolchains")


def _rows(*labels: str) -> list[dict[str, str | None]]:
    return [
        {
            "go": lb,
            "label": lb,
            "version": lb,
            "source": "pypi",
            "goroot": f"/g/{lb}",
            "go_version": f"go version go{lb} linux/amd64",
            "goos": "linux",
            "goarch": "amd64",
            "wheel_sha256": None,
        }
        for lb in labels
    ]


def _write(root: Path, rows: list[dict[str, str | None]]) -> None:
    store.write_dataset(
        store.frame(rows, SCHEMA),
        root / "toolchains",
        dataset="toolchains",
        params={"k": 1},
        go_versions={"1.30": "go version go1.30 linux/amd64"},
    )


def test_hive_partition_keeps_string_version(tmp_path: Path) -> None:
    _write(tmp_path, _rows("1.30", "1.27.3"))
    df = store.scan("toolchains", tmp_path).collect()
    assert df.schema["go"] == pl.String
    assert sorted(df["go"].to_list()) == ["1.27.3", "1.30"]
    assert (tmp_path / "toolchains" / "go=1.30" / "part-0.parquet").is_file()


def test_partition_column_is_not_stored_in_the_file(tmp_path: Path) -> None:
    _write(tmp_path, _rows("1.30"))
    names = pq.read_schema(tmp_path / "toolchains" / "go=1.30" / "part-0.parquet").names
    assert "go" not in names
    assert "label" in names


def test_rewriting_the_same_rows_gives_the_same_bytes(tmp_path: Path) -> None:
    _write(tmp_path / "a", _rows("1.27.3", "1.30"))
    _write(tmp_path / "b", _rows("1.30", "1.27.3"))  # other input order, same sorted output
    for rel in ("go=1.30/part-0.parquet", "go=1.27.3/part-0.parquet"):
        a = (tmp_path / "a" / "toolchains" / rel).read_bytes()
        assert a == (tmp_path / "b" / "toolchains" / rel).read_bytes()


def test_every_file_carries_metadata(tmp_path: Path) -> None:
    _write(tmp_path, _rows("1.30"))
    (meta,) = store.read_metadata("toolchains", tmp_path)
    assert meta["schema_version"] == store.SCHEMA_VERSION
    assert meta["go_version"] == "go version go1.30 linux/amd64"
    assert meta["params"] == '{"k": 1}'
    assert {"host", "cpu_model", "cores", "os"} <= set(meta)


def test_failed_write_keeps_the_old_dataset_and_leaves_no_debris(tmp_path: Path) -> None:
    _write(tmp_path, _rows("1.27.3"))
    before = store.scan("toolchains", tmp_path).collect()
    bad = store.frame(_rows("1.30"), SCHEMA).with_columns(
        pl.Series("label", [object()], dtype=pl.Object)
    )  # no Parquet writer can store this
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure must leave the old data
        store.write_dataset(bad, tmp_path / "toolchains", dataset="toolchains", params={})
    assert_frame_equal(store.scan("toolchains", tmp_path).collect(), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toolchains"]


def test_successful_write_replaces_the_old_dataset(tmp_path: Path) -> None:
    _write(tmp_path, _rows("1.27.3"))
    _write(tmp_path, _rows("1.30"))
    assert store.scan("toolchains", tmp_path).collect()["go"].to_list() == ["1.30"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toolchains"]


def test_scan_of_a_missing_dataset_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(store.StoreError, match="dvc repro"):
        store.scan("toolchains", tmp_path)


def test_a_frame_that_breaks_the_contract_is_refused(tmp_path: Path) -> None:
    df = store.frame(_rows("1.27.3"), SCHEMA).drop("wheel_sha256")
    with pytest.raises(store.StoreError, match=r"missing \['wheel_sha256'\]"):
        store.write_dataset(df, tmp_path / "toolchains", dataset="toolchains", params={})
    assert not (tmp_path / "toolchains").exists()


def _runs_of(hosts_: list[str]) -> pl.DataFrame:
    row = {"go": "1.27.3", "gomaxprocs": 1, "round": 1, "order": 1, "seed": 1, "what": "wait",
           "workload": "cpu", "count": 3, "p50": 1.0, "p90": 2.0, "p99": 3.0, "p999": 3.0,
           "max": 3.0}  # fmt: skip
    return store.frame([{**row, "host": h} for h in hosts_], catalog.schema("sched_runs"))


def test_measured_rows_of_two_hosts_union_without_collision(tmp_path: Path) -> None:
    store.write_dataset(_runs_of(["amd", "arm"]), tmp_path / "sched_runs",
                        dataset="sched_runs", params={})  # fmt: skip
    assert store.hosts_in("sched_runs", tmp_path) == ["amd", "arm"]
    assert (tmp_path / "sched_runs/host=arm/go=1.27.3/gomaxprocs=1/part-0.parquet").is_file()
    assert store.scan("sched_runs", tmp_path).collect()["host"].sort().to_list() == ["amd", "arm"]


def test_a_host_scope_sees_one_hosts_rows_and_raw_dirs(tmp_path: Path) -> None:
    store.write_dataset(_runs_of(["amd", "arm"]), tmp_path / "sched_runs",
                        dataset="sched_runs", params={})  # fmt: skip
    for h in ("amd", "arm"):
        (tmp_path / "raw" / f"host={h}").mkdir(parents=True)
    with store.host_scope("arm"):
        assert store.scan("sched_runs", tmp_path).collect()["host"].to_list() == ["arm"]
        assert [p.name for p in store.host_dirs(tmp_path / "raw")] == ["host=arm"]
        assert store.scan("toolchains", _toolchains(tmp_path)).collect().height == 1
    assert len(store.host_dirs(tmp_path / "raw")) == 2


def _toolchains(root: Path) -> Path:
    """A dataset without a host partition: a scope does not filter it."""
    row = {"go": "1.27.3", "label": "1.27.3", "version": "1.27.3", "source": "pypi",
           "goroot": "/g", "go_version": "go version go1.27.3 linux/amd64", "goos": "linux",
           "goarch": "amd64", "wheel_sha256": None}  # fmt: skip
    store.write_dataset(store.frame([row], catalog.schema("toolchains")), root / "toolchains",
                        dataset="toolchains", params={})  # fmt: skip
    return root


def test_a_dataset_without_rows_scans_as_an_empty_frame_of_its_schema(tmp_path: Path) -> None:
    schema = catalog.schema("escape_ledger")
    store.write_dataset(pl.DataFrame(schema=schema), tmp_path / "escape_ledger",
                        dataset="escape_ledger", params={})  # fmt: skip
    df = store.scan("escape_ledger", tmp_path).collect()
    assert (df.height, df.schema) == (0, pl.Schema(schema))
