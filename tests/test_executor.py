"""The executor on a real local Ray cluster (a head without a slot, two benchmark hosts) and on
this machine: each host runs its own jobs in order, one at a time, never on the head; a real Go
binary ships to the node with its exec bit; a lost node's runs are retried when its host returns
or recorded as missing; a run's own failure surfaces as its own error."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from devtools import fleet as raycluster
from releaselab.core import config, executor, gocmd
from releaselab.core.executor import Job, Outcome

HOSTS = ("alpha", "beta")


def run_sleeper(duration: str, tag: str, *, files: Mapping[str, Path]) -> str:
    """A job: run the shipped Go binary (on whatever node the executor chose)."""
    res = subprocess.run(
        [str(files["bin"]), duration, tag], capture_output=True, text=True, timeout=60, check=True
    )
    return res.stdout.strip()


def fail(*, files: Mapping[str, Path]) -> None:
    del files
    raise gocmd.GoCommandError("printed no benchmark results", argv=["x"], toolchain="t")


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Any, dict[str, Any]]]:
    with raycluster.cluster(HOSTS) as c:
        yield c


def _cfg(**kw: Any) -> config.ExecutorConfig:
    return config.ExecutorConfig(kind="ray", **kw)


def _jobs(sleeper: Path, n: int, duration: str = "150ms") -> list[Job]:
    return [
        Job(host=h, key=(h, i), fn=run_sleeper, args=(duration, f"{h}-{i}"), files={"bin": sleeper})
        for i in range(n)
        for h in HOSTS
    ]


def _by_host(outs: list[Outcome]) -> dict[str, list[Outcome]]:
    got: dict[str, list[Outcome]] = {}
    for o in outs:
        got.setdefault(o.job.host, []).append(o)
    return got


def test_each_host_runs_its_jobs_in_order_one_at_a_time(
    cluster: tuple[Any, dict[str, Any]], sleeper: Path
) -> None:
    outs = list(executor.RayExecutor(_cfg()).run(_jobs(sleeper, 4)))
    assert all(o.ok for o in outs)
    for host, got in _by_host(outs).items():
        assert [o.job.key for o in got] == [(host, i) for i in range(4)]
        assert [o.result.split()[1] for o in got] == [f"{host}-{i}" for i in range(4)]
        for a, b in itertools.pairwise(got):
            assert a.ended <= b.started, f"{host}: two runs overlapped"
        assert len({o.node for o in got}) == 1


def test_hosts_run_side_by_side_on_their_own_nodes_never_the_head(
    cluster: tuple[Any, dict[str, Any]], sleeper: Path
) -> None:
    c, nodes = cluster
    outs = list(executor.RayExecutor(_cfg()).run(_jobs(sleeper, 3, "400ms")))
    got = _by_host(outs)
    node_of = {h: {o.node for o in got[h]} for h in HOSTS}
    assert node_of == {h: {nodes[h].node_id} for h in HOSTS}
    assert c.head_node.node_id not in {o.node for o in outs}
    # the fleet is parallel across hosts (serial within one): some runs of the two overlap
    assert any(a.started < b.ended and b.started < a.ended
               for a in got["alpha"] for b in got["beta"])  # fmt: skip


def test_the_cluster_lists_its_benchmark_hosts_and_fingerprints_them(
    cluster: tuple[Any, dict[str, Any]],
) -> None:
    ex = executor.RayExecutor(_cfg())
    assert ex.hosts() == list(HOSTS)
    fps = ex.fingerprints()
    assert [fp["host"] for fp in fps] == list(HOSTS)
    assert all(int(fp["cores"]) >= 1 for fp in fps)


def test_a_run_that_fails_raises_its_own_error(
    cluster: tuple[Any, dict[str, Any]], sleeper: Path
) -> None:
    job = Job(host="alpha", key=("alpha", 0), fn=fail, files={"bin": sleeper})
    with pytest.raises(executor.RunFailed, match=r"on host alpha.*printed no benchmark") as err:
        list(executor.RayExecutor(_cfg()).run([job]))
    assert err.value.fix == gocmd.GoCommandError.fix


def test_the_local_executor_runs_in_order_on_this_host(sleeper: Path) -> None:
    jobs = [Job(host="here", key=(i,), fn=run_sleeper, args=("10ms", str(i)),
                files={"bin": sleeper}) for i in range(3)]  # fmt: skip
    outs = list(executor.LocalExecutor("here").run(jobs))
    assert [o.result.split()[1] for o in outs] == ["0", "1", "2"]
    assert {o.node for o in outs} == {"local"}
    assert all(a.ended <= b.started for a, b in itertools.pairwise(outs))
