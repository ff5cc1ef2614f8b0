"""DVC stage `sched` (pipelines/sched/dvc.yaml): the schedule-forensics lab, every cell.

    python -m stages.sched

Runs the binary build@LABEL made for every toolchain x GOMAXPROCS cell labs.sched.runs times, as
separate processes in interleaved rounds each shuffled from labs.sched.seed (labs.sched.duration
per workload, labs.sched.workloads; -trace, -metrics, -requests), converts each trace with
tools/traceconv and writes sched_waits, sched_hist and sched_requests (partitioned go / gomaxprocs
/ round) and sched_runs (per run and workload: count and quantiles, what comparisons use).
data/raw/sched/go=LABEL/gomaxprocs=N/ keeps the first run's labeled trace.out (the same
toolchain's `go tool trace` opens it) and runs.json (every run's round, order and trace summary).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from releaselab.core import config, entry
from releaselab.core.paths import BUILD_ROOT, RAW_ROOT
from releaselab.sched import cell


def sched(args: argparse.Namespace, cfg: config.Config) -> None:
    del args
    cell.run_session(cfg, build_root=BUILD_ROOT, raw_root=RAW_ROOT / "sched")


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run(sched, argv, args=entry.parser("stages.sched", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
