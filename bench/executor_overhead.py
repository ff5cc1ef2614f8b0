"""What the Ray executor costs per run, against the local executor, in the same run.

Builds the executor tests' Go program (tests/conftest.py SLEEPER: sleeps DURATION, prints its
pid and a tag) and runs JOBS runs of it per host:
locally (one host, in order), then on a real local Ray cluster (a head without a slot and
HOSTS benchmark hosts, one slot each). Prints wall time, per-run overhead over the program's
own time, the cluster's start-up time and the bytes shipped. The numbers behind docs/SCALE.md.
Run: python bench/executor_overhead.py [JOBS] [HOSTS] [DURATION]
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from devtools import fleet
from releaselab.core import config, executor, gocmd, toolchains
from releaselab.core.executor import Job
from tests.conftest import SLEEPER


def run_program(duration: str, *, files: Mapping[str, Path]) -> str:
    res = subprocess.run([str(files["bin"]), duration, "x"], capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    return res.stdout


def main() -> None:
    jobs_per_host = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    n_hosts = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    duration = sys.argv[3] if len(sys.argv) > 3 else "20ms"
    tc = toolchains.install(config.release_span()[1])
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp)
        (src / "go.mod").write_text("module example.com/p\n\ngo 1.21\n")
        (src / "main.go").write_text(SLEEPER)  # the executor tests' Go program
        binary = src / "p.bin"
        gocmd.go(tc, ["build", "-o", str(binary), "."], cwd=src, timeout=300)
        own = float(duration.removesuffix("ms")) / 1000

        jobs = [Job("here", (i,), run_program, (duration,), {"bin": binary})
                for i in range(jobs_per_host)]  # fmt: skip
        t0 = time.perf_counter()
        list(executor.LocalExecutor("here").run(jobs))
        local = time.perf_counter() - t0

        hosts = [f"h{i}" for i in range(n_hosts)]
        t0 = time.perf_counter()
        with fleet.cluster(hosts):
            start = time.perf_counter() - t0
            ex = executor.RayExecutor(config.ExecutorConfig(kind="ray"))
            jobs = [Job(h, (i,), run_program, (duration,), {"bin": binary})
                    for i in range(jobs_per_host) for h in hosts]  # fmt: skip
            size = binary.stat().st_size
            t1, wall1 = time.perf_counter(), time.time()
            outs = list(ex.run(jobs))
            fleet_s = time.perf_counter() - t1
        assert all(o.ok for o in outs)
    gaps = [b.started - a.ended for h in hosts
            for a, b in itertools.pairwise([o for o in outs if o.job.host == h])]  # fmt: skip
    first = min(o.started for o in outs) - wall1
    print(f"runs: {jobs_per_host} per host, the program sleeps {duration}; binary {size} B")
    print(f"local, 1 host : {local:6.2f} s  ({(local / jobs_per_host - own) * 1e3:5.1f} ms/run "
          "over the program's own time)")  # fmt: skip
    gap_ms = statistics.mean(gaps) * 1e3
    print(f"ray, {n_hosts} hosts  : {fleet_s:6.2f} s  ({gap_ms:5.1f} ms between "
          f"runs on a host; first run after {first:.2f} s: worker start + shipping)")  # fmt: skip
    print(f"ray cluster start-up: {start:.1f} s (head + {n_hosts} nodes)")


if __name__ == "__main__":
    main()
