"""The pipeline on a fleet: `dvc repro` with executor=ray on a real local Ray cluster (a head
that runs no cell, two benchmark hosts alpha and beta, one slot each), a small matrix (1.27.3
and an A/A copy of it). Every measured dataset holds both hosts, every host ran its own runs
one at a time on its own node, comparisons stay within a host, the report has per-host
sections. `make fleet-demo` runs the same (devtools/fleet.py)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from devtools import fleet
from devtools.fleet import cluster
from releaselab.core import store
from tests.helpers import scratch

HOSTS = ("alpha", "beta")
MEASURED = ("bench", "bench_stats", "sched_waits", "sched_hist", "sched_requests", "sched_runs",
            "stack")  # fmt: skip


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Any]]:
    work = scratch.make(tmp_path_factory.mktemp("fleet"), fleet.OVERRIDES)
    with cluster(HOSTS) as (c, _):
        env = dict(os.environ, RAY_ADDRESS=c.address,
                   PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")  # fmt: skip
        res = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=work, env=env,
                             capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
        yield work, res.stdout + res.stderr, c
    assert res.returncode == 0, res.stdout + res.stderr


def _scan(work: Path, dataset: str) -> pl.DataFrame:
    return store.scan(dataset, work / "data" / "parquet").collect()


@pytest.mark.slow
def test_the_fleet_repro_succeeds(fleet_run: tuple[Path, str, Any]) -> None:
    assert "Running stage 'bench'" in fleet_run[1], fleet_run[1][-3000:]
    assert (fleet_run[0] / "reports" / "index.html").is_file(), fleet_run[1][-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("dataset", MEASURED)
def test_every_measured_dataset_holds_both_hosts(
    fleet_run: tuple[Path, str, Any], dataset: str
) -> None:
    assert sorted(_scan(fleet_run[0], dataset)["host"].unique().to_list()) == list(HOSTS)


@pytest.mark.slow
def test_the_hosts_dataset_fingerprints_each_host(fleet_run: tuple[Path, str, Any]) -> None:
    hosts = _scan(fleet_run[0], "hosts")
    assert hosts["host"].sort().to_list() == list(HOSTS)
    assert (hosts["cores"] >= 1).all()


@pytest.mark.slow
def test_no_two_runs_of_a_host_overlap_and_each_host_is_one_node_not_the_head(
    fleet_run: tuple[Path, str, Any],
) -> None:
    log = _scan(fleet_run[0], "run_log")
    assert set(log["stage"]) == {"bench", "sched", "stack"}
    assert not log["missing"].any()
    head = fleet_run[2].head_node.node_id
    for (host,), runs in log.sort("started").group_by(["host"], maintain_order=True):
        assert runs["node"].n_unique() == 1, host
        assert runs["node"][0] != head
        for a, b in itertools.pairwise(runs.iter_rows(named=True)):
            assert a["ended"] <= b["started"], f"{host}: {a} overlaps {b}"
    nodes = log.group_by("host").agg(pl.col("node").first())
    assert nodes["node"].n_unique() == len(HOSTS)


@pytest.mark.slow
def test_each_host_ran_its_own_full_schedule(fleet_run: tuple[Path, str, Any]) -> None:
    log = _scan(fleet_run[0], "run_log")
    per = log.group_by("stage", "host").agg(pl.len(), pl.col("order").sort())
    for _, rows in per.group_by("stage"):
        orders = rows["order"].to_list()
        assert orders[0] == orders[1]  # the same interleaved schedule on every host


@pytest.mark.slow
def test_bench_comparisons_stay_within_a_host(fleet_run: tuple[Path, str, Any]) -> None:
    st = _scan(fleet_run[0], "bench_stats")
    per_host = st.group_by("host").len().sort("host")
    assert per_host["len"].n_unique() == 1  # the same comparisons on each host, separately
    text = (fleet_run[0] / "data" / "raw" / "bench" / "bench.txt").read_text()
    assert all(f"host: {h}\n" in text for h in HOSTS)


@pytest.mark.slow
def test_the_report_has_sections_per_host(fleet_run: tuple[Path, str, Any]) -> None:
    md = (fleet_run[0] / "reports" / "report.md").read_text()
    for host in HOSTS:
        assert f"(host {host})" in md
    assert (fleet_run[0] / "reports" / "figures" / f"host={HOSTS[0]}").is_dir()


@pytest.mark.slow
def test_metrics_hold_each_hosts_figures_on_their_own(fleet_run: tuple[Path, str, Any]) -> None:
    figures = json.loads((fleet_run[0] / "reports" / "metrics.json").read_text())
    assert sorted(figures["hosts"]) == list(HOSTS)
    for host in HOSTS:
        assert "aa_1_27_3" in figures["hosts"][host]["bench"]
        assert figures["hosts"][host]["sched"]
    assert "bench" not in figures  # no top-level figure mixes hosts
