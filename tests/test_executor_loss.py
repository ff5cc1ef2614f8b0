"""A node lost mid-run on a real local Ray cluster: its runs are retried when its host returns,
or recorded as missing (with the reason) when it does not; the other host is unaffected."""

from __future__ import annotations

import time
from pathlib import Path

from devtools import fleet as raycluster
from releaselab.core import executor
from releaselab.core.executor import Outcome
from tests.test_executor import HOSTS, _by_host, _cfg, _jobs


def test_a_lost_host_that_never_returns_has_its_runs_recorded_missing(sleeper: Path) -> None:
    outs: list[Outcome] = []
    with raycluster.cluster(HOSTS) as (c, nodes):
        run = executor.RayExecutor(_cfg(lost_host_wait=3, retries=1)).run(
            _jobs(sleeper, 6, "300ms")
        )
        for o in run:
            outs.append(o)
            if o.job.host == "beta" and sum(x.job.host == "beta" for x in outs) == 1:
                c.remove_node(nodes["beta"], allow_graceful=False)  # its next run is in flight
    got = _by_host(outs)
    assert [o.ok for o in got["alpha"]] == [True] * 6
    beta = got["beta"]
    assert len(beta) == 6  # every run is accounted for: ran, or missing with the reason
    assert [o.ok for o in beta] == [True] + [False] * 5
    assert all("host beta lost" in o.error and o.result is None for o in beta[1:])


def test_a_lost_host_that_returns_finishes_its_runs(sleeper: Path) -> None:
    outs: list[Outcome] = []
    alpha = [j for j in _jobs(sleeper, 40, "200ms") if j.host == "alpha"]
    jobs = alpha + [j for j in _jobs(sleeper, 4, "1500ms") if j.host == "beta"]
    with raycluster.cluster(HOSTS) as (c, nodes):
        removed = 0.0
        for o in executor.RayExecutor(_cfg(lost_host_wait=60, retries=2)).run(jobs):
            outs.append(o)
            if o.job.host == "beta" and not removed:
                time.sleep(0.5)  # the host's next run (1.5 s) is running now
                c.remove_node(nodes["beta"], allow_graceful=False)  # its next run is in flight
                removed = time.monotonic()
            elif removed > 0 and time.monotonic() - removed > 3:
                raycluster.add_host(c, "beta")  # the host comes back as a new node
                removed = -1.0
    beta = _by_host(outs)["beta"]
    assert [o.ok for o in beta] == [True] * 4
    assert [o.result.split()[1] for o in beta] == [f"beta-{i}" for i in range(4)]
    assert len({o.node for o in beta}) == 2
    assert max(o.attempts for o in beta) == 2  # the run lost with its node ran again
