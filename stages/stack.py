"""DVC stage `stack` (pipelines/stack/dvc.yaml): the stack-growth lab, every cell.

    python -m stages.stack

Runs the binary the build stage made (data/raw/build/go=LABEL/stack-growth/bin/stack-growth) for
every toolchain x GOMAXPROCS cell labs.stack.runs times on every host of the executor, in
interleaved rounds each shuffled from labs.stack.seed (bench's schedule); one run is one process
per GODEBUG variant of labs.stack.godebug. In round 1 each cell also runs the lab's `-overhead`
mode (sampler off vs on, fresh processes, default GODEBUG). Writes the raw outputs to
data/raw/stack/host=H/go=LABEL/gomaxprocs=N/ (round=R/<variant>.csv and .meta.json,
overhead.json), the `stack` dataset (partitioned host / go / gomaxprocs / round; one row per
sample or phase-boundary row) and run_log/stage=stack. See releaselab/stack/session.py.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from releaselab.core import config, entry
from releaselab.core.paths import BUILD_ROOT, PARQUET_ROOT, RAW_ROOT
from releaselab.stack import session


def stage(
    cfg: config.Config,
    *,
    build_root: Path = BUILD_ROOT,
    raw_root: Path = RAW_ROOT,
    parquet_root: Path = PARQUET_ROOT,
) -> Path:
    return session.run_session(cfg, build_root=build_root, raw_root=raw_root,
                               parquet_root=parquet_root)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    def body(args: argparse.Namespace, cfg: config.Config) -> None:
        del args
        stage(cfg)

    return entry.run(body, argv, args=entry.parser("stages.stack", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
