"""DVC stage `sched@LABEL-N` (pipelines/sched/dvc.yaml): the schedule-forensics lab, one cell.

    python -m stages.sched LABEL N

Runs the binary build@LABEL made (labs.sched.duration per workload, labs.sched.workloads) with
-trace, -metrics and -requests into data/raw/sched/go=LABEL/gomaxprocs=N/ (trace.out stays: the
same toolchain's `go tool trace` opens it), converts the trace with tools/traceconv, and writes
one partition cell of sched_waits, sched_hist and sched_requests.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from releaselab.core import config, entry
from releaselab.core.paths import BUILD_ROOT, RAW_ROOT
from releaselab.sched import cell


def sched(args: argparse.Namespace, cfg: config.Config) -> None:
    cell.run_cell(cfg, args.label, args.gomaxprocs, build_root=BUILD_ROOT,
                  raw_root=RAW_ROOT / "sched")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = entry.parser("stages.sched", __doc__)
    args.add_argument("label", help="toolchain label from params.yaml (go.toolchains)")
    args.add_argument("gomaxprocs", type=int, help="GOMAXPROCS for the run")
    return entry.run(sched, argv, args=args)


if __name__ == "__main__":
    raise SystemExit(main())
