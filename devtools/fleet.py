"""A fleet on this machine: a local Ray cluster whose head runs no cell and whose worker nodes
are benchmark hosts (one slot each, `host:<label>`), and the pipeline run on it.

    python -m devtools.fleet demo [--hosts alpha,beta] [--keep DIR]   # `make fleet-demo`

The demo copies the pipeline into a scratch repository (DIR, default a temporary one) with a
small matrix (FLEET_OVERRIDES: Go 1.27.3 and an A/A copy of it, executor=ray), starts the
cluster, runs `dvc repro` against it (RAY_ADDRESS) and prints where every run ran. On real
machines start the nodes with `ray start` instead (docs/SCALE.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from releaselab.core import store
from releaselab.core.executor import SLOT_PREFIX

OVERRIDES = [
    "go=one", "+go.toolchains.aa_1_27_3.version=1.27.3", "sweep.gomaxprocs=[1]",
    "bench.rounds=2", "bench.benchtime=10x", "labs.sched.runs=2", "labs.sched.duration=20ms",
    "labs.stack.runs=1", "labs.stack.overhead_reps=1", "executor=ray",
]  # fmt: skip


@contextmanager
def cluster(host_labels: Sequence[str]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(cluster, {host label: node}) with ray.init connected to it; shut down on exit."""
    import ray  # noqa: PLC0415
    from ray.cluster_utils import Cluster  # noqa: PLC0415

    # a dead node is noticed within ~2 s instead of Ray's default ~30 s
    fast = {"health_check_period_ms": 500, "health_check_failure_threshold": 3}
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "_system_config": fast})
    nodes = {h: add_host(c, h) for h in host_labels}
    ray.init(address=c.address, log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield c, nodes
    finally:
        ray.shutdown()
        c.shutdown()  # type: ignore[no-untyped-call]


def add_host(c: Any, label: str) -> Any:
    """A worker node that is benchmark host `label`: one CPU, its one slot."""
    node = c.add_node(num_cpus=1, resources={f"{SLOT_PREFIX}{label}": 1})
    c.wait_for_nodes()
    return node


def demo(host_labels: Sequence[str], keep: Path | None) -> int:
    from tests.helpers import scratch  # noqa: PLC0415 - the test suite's scratch pipeline

    work = keep or Path(tempfile.mkdtemp(prefix="fleet-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    scratch.make(work, OVERRIDES)
    t0 = time.monotonic()
    with cluster(host_labels) as (c, _):
        print(f"cluster up in {time.monotonic() - t0:.1f}s: head + hosts {', '.join(host_labels)}")
        env = dict(os.environ, RAY_ADDRESS=c.address,
                   PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")  # fmt: skip
        t1 = time.monotonic()
        res = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=work, env=env,
                             timeout=3600, check=False)  # fmt: skip
        took = time.monotonic() - t1
    if res.returncode:
        print(f"dvc repro failed (exit {res.returncode}); the scratch pipeline is in {work}")
        return res.returncode
    log = store.scan("run_log", work / "data" / "parquet").collect()
    busy = log.group_by("stage", "host").agg(
        runs=pl.len(), busy_s=(pl.col("ended") - pl.col("started")).sum().round(1),
        missing=pl.col("missing").sum(),
    ).sort("stage", "host")  # fmt: skip
    print(busy)
    print(f"dvc repro on the fleet: {took:.0f}s; report: {work}/reports/index.html")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.fleet",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("demo", help="run the small matrix on a local two-host cluster")
    p.add_argument("--hosts", default="alpha,beta", help="comma-separated host labels")
    p.add_argument("--keep", type=Path, default=None, help="scratch directory to keep")
    args = parser.parse_args(argv)
    return demo([h for h in args.hosts.split(",") if h], args.keep)


if __name__ == "__main__":
    raise SystemExit(main())
