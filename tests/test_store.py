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


def test_a_dataset_without_rows_scans_as_an_empty_frame_of_its_schema(tmp_path: Path) -> None:
    schema = catalog.schema("escape_ledger")
    store.write_dataset(pl.DataFrame(schema=schema), tmp_path / "escape_ledger",
                        dataset="escape_ledger", params={})  # fmt: skip
    df = store.scan("escape_ledger", tmp_path).collect()
    assert (df.height, df.schema) == (0, pl.Schema(schema))
