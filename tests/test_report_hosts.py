"""A report of data measured on two hosts: each host-partitioned lab gets its own sections in
that host's scope (no comparison crosses hosts), the summary has a row per host and toolchain
linking to that host's sections, and the page still draws every chart in Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from devtools import browser
from releaselab.core import catalog, config, store
from releaselab.report import document, sections
from releaselab.report.render import Link, Section
from tests.helpers import report_data

OTHER = "arm64box"


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Section]]:
    """The captured data as measured on host vm, and the same runs copied as host arm64box."""
    root = tmp_path_factory.mktemp("hosts")
    parquet_root, build_root = report_data.make(root)
    for dataset in ("sched_waits", "sched_hist", "sched_requests", "sched_runs", "stack"):
        shutil.copytree(parquet_root / dataset / f"host={report_data.HOST}",
                        parquet_root / dataset / f"host={OTHER}")  # fmt: skip
    raw = root / "data" / "raw" / "stack"
    shutil.copytree(raw / f"host={report_data.HOST}", raw / f"host={OTHER}")
    out = document.build(config.compose(["go=recent"]), parquet_root, build_root, root / "reports")
    return root, out


def test_each_host_has_its_own_lab_sections(two_hosts: tuple[Path, list[Section]]) -> None:
    titles = [s.title for s in two_hosts[1]]
    for host in (report_data.HOST, OTHER):
        mine = [t for t in titles if t.endswith(f"(host {host})")]
        assert any(t.startswith("Scheduling") for t in mine), titles
        assert any("StackInuse" in t or "Stack" in t for t in mine), titles


def test_a_hosts_sections_see_only_its_rows(tmp_path: Path) -> None:
    parquet_root, _ = report_data.make(tmp_path)
    shutil.copytree(parquet_root / "sched_runs" / f"host={report_data.HOST}",
                    parquet_root / "sched_runs" / f"host={OTHER}")  # fmt: skip
    with store.host_scope(OTHER):
        got = store.scan("sched_runs", parquet_root).collect()
    assert got["host"].unique().to_list() == [OTHER]
    assert got.height == store.scan("sched_runs", parquet_root).collect().height // 2


def test_the_summary_has_a_row_per_host_linking_to_that_hosts_section(
    two_hosts: tuple[Path, list[Section]],
) -> None:
    summary = two_hosts[1][0]
    table = summary.tables[0]
    assert table.columns[0] == "host"
    assert {r[0] for r in table.rows} == {report_data.HOST, OTHER}
    per_host = ("scheduling", "stack")  # the labs measured per host in this data
    links = [(row[0], c) for row in table.rows for c in row
             if isinstance(c, Link) and c.anchor.startswith(per_host)]  # fmt: skip
    assert {host for host, _ in links} == {report_data.HOST, OTHER}
    assert all(c.anchor.endswith(f"host-{host}") for host, c in links), links


def test_a_two_host_report_draws_every_chart(
    two_hosts: tuple[Path, list[Section]], tmp_path: Path
) -> None:
    result = browser.check(two_hosts[0] / "reports" / "index.html", tmp_path / "hosts.png")
    assert result.problems() == []
    assert len(result.facts["charts"]) > 0
    assert (two_hosts[0] / "reports" / "figures" / f"host={OTHER}").is_dir()


def _log_row(host: str, order: int, *, missing: bool) -> dict[str, object]:
    return {"host": host, "go": "1.27.3", "gomaxprocs": 1, "round": 1, "order": order,
            "cell": "labs:x", "node": "" if missing else "n1", "started": 10.0 + order,
            "ended": 10.5 + order, "attempts": 1, "missing": missing,
            "reason": "host beta lost: out for 60s" if missing else ""}  # fmt: skip


def test_the_runs_section_names_each_missing_run_and_its_reason() -> None:
    schema = catalog.schema("run_log")
    log = pl.DataFrame(
        [{**_log_row("alpha", 1, missing=False), "stage": "bench"},
         {**_log_row("beta", 1, missing=False), "stage": "bench"},
         {**_log_row("beta", 2, missing=True), "stage": "bench"}],
        schema=schema,
    )  # fmt: skip
    section = sections.runs_section(log)
    per, lost = section.tables
    assert [r[:4] for r in per.rows] == [("bench", "alpha", 1, 0), ("bench", "beta", 2, 1)]
    assert [(r[1], r[5], r[7]) for r in lost.rows] == [("beta", 2, "host beta lost: out for 60s")]


def test_a_fleet_without_losses_says_every_run_completed() -> None:
    log = pl.DataFrame([{**_log_row("alpha", 1, missing=False), "stage": "sched"}],
                       schema=catalog.schema("run_log"))  # fmt: skip
    _, lost = sections.runs_section(log).tables
    assert lost.rows == ()
    assert lost.empty == "Every scheduled run completed: no host was lost."
