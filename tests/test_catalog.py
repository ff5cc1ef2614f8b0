"""One dataset catalog: the writer's checks, the docs and the files' field metadata come from it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from devtools import catalog as catalog_docs
from releaselab.core import catalog, store


def test_generated_docs_match_the_catalog() -> None:
    assert catalog_docs.main(["--check"]) == 0, "run `python -m devtools.catalog`"


def test_every_dataset_sorts_by_its_own_columns() -> None:
    for ds in catalog.DATASETS:
        assert set(ds.sort_by) <= set(ds.schema), ds.name
        assert set(ds.partitions) <= set(ds.schema), ds.name


def test_writer_refuses_a_dataset_not_in_the_catalog(tmp_path: Path) -> None:
    df = pl.DataFrame({"go": ["1.27.3"], "x": [1]})
    with pytest.raises(store.StoreError, match="not in the dataset catalog"):
        store.write_dataset(df, tmp_path / "nope", dataset="nope", params={})
    assert not (tmp_path / "nope").exists()


def test_writer_refuses_a_frame_that_breaks_its_entry(tmp_path: Path) -> None:
    df = pl.DataFrame({"go": ["1.27.3"], "label": ["1.27.3"]})
    with pytest.raises(store.StoreError, match=r"missing \['go_version'"):
        store.write_dataset(df, tmp_path / "toolchains", dataset="toolchains", params={})


def test_each_parquet_field_carries_its_unit_and_meaning(tmp_path: Path) -> None:
    rows = [{"go": "1.27.3", "workload": "serve", "request_id": 1, "start_ns": 5,
             "latency_ns": 1200, "gomaxprocs": 2, "round": 1, "order": 1}]  # fmt: skip
    df = store.frame(rows, catalog.schema("sched_requests"))
    store.write_dataset(df, tmp_path / "sched_requests", dataset="sched_requests", params={})
    (path,) = (tmp_path / "sched_requests").rglob("*.parquet")
    field = pq.read_schema(path).field("latency_ns")
    assert field.metadata == {
        b"meaning": b"end-to-end latency of the request",
        b"unit": b"ns",
    }
    assert store.scan("sched_requests", tmp_path).collect()["latency_ns"].to_list() == [1200]
