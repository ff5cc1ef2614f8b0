"""Fault-injection child: writes a dataset with releaselab.core.store and is killed or starved.

    python tests/faults/writer.py ROOT loop            # write generations 1, 0, 1, ... forever
    python tests/faults/writer.py ROOT die-at STEP     # write generation 1, SIGKILL itself at STEP
    python tests/faults/writer.py ROOT fsize BYTES     # write generation 1 under RLIMIT_FSIZE

Generation g is a hive-partitioned dataset whose partitions and rows both say g, so a mix of two
generations shows. The product code runs unchanged; at a STEP the process SIGKILLs itself right
after (or, for `write`, in the middle of) the real operation, exactly as a kill -9 from outside.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import polars as pl

from releaselab.core import catalog, staging, store

DATASET = "stack"  # a catalog dataset: the writer refuses others
PARTS = ("go", "gomaxprocs")
ROWS = 120_000


def generation(g: int) -> pl.DataFrame:
    """Rows of generation g: partitions go=g<g>_<i>, every row's `godebug` says g<g>."""
    cols: dict[str, Any] = {
        "go": [f"g{g}_{i % 4}" for i in range(ROWS)],
        "gomaxprocs": [1 + i % 2 for i in range(ROWS)],
        "godebug": [f"g{g}"] * ROWS,
        "t_ns": list(range(ROWS)),
        "stack_inuse_bytes": [i * (g + 1) for i in range(ROWS)],
    }
    schema = catalog.schema(DATASET)
    return pl.DataFrame({c: cols.get(c, [None] * ROWS) for c in schema}, schema=schema)


def write(root: Path, g: int) -> None:
    store.write_dataset(
        generation(g), root / DATASET, dataset=DATASET, params={"g": g}, partitions=PARTS
    )


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def die_at(step: str) -> None:
    """Arrange a SIGKILL at `step` of the next write."""
    if step == "write":  # in the middle of writing the Parquet files: after the second file
        real_write = pl.DataFrame.write_parquet
        calls = []

        def write_parquet(*args: Any, **kwargs: Any) -> None:
            calls.append(1)
            if len(calls) == 3:
                _die()
            real_write(*args, **kwargs)

        pl.DataFrame.write_parquet = write_parquet  # type: ignore[method-assign]
    elif step == "swap":  # the atomic exchange done, the old dataset not yet deleted
        real_exchange = staging.exchange

        def exchange(a: Path, b: Path) -> bool:
            done = real_exchange(a, b)
            _die()
            return done

        staging.exchange = exchange
    elif step == "between-renames":  # a filesystem without an atomic swap: two renames
        staging.exchange = lambda a, b: False
        real_rename = Path.rename

        def rename(self: Path, target: Any) -> Any:
            res = real_rename(self, target)
            if ".old-" in str(target):
                _die()
            return res

        Path.rename = rename  # type: ignore[method-assign]
    elif step == "cleanup":  # in the middle of deleting the previous dataset
        real_rmtree = shutil.rmtree

        def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
            files = sorted(Path(path).rglob("*.parquet"))
            if files:
                files[0].unlink()
                _die()
            real_rmtree(path, *args, **kwargs)

        shutil.rmtree = rmtree  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown step {step}")


def main() -> None:
    root, mode = Path(sys.argv[1]), sys.argv[2]
    if mode == "loop":
        print("ready", flush=True)
        g = 1
        while True:
            write(root, g)
            g = 1 - g
    elif mode == "die-at":
        die_at(sys.argv[3])
        write(root, 1)
        raise SystemExit("the write finished: the kill never happened")
    elif mode == "fsize":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write gets EFBIG, as on a full disk
        limit = int(sys.argv[3])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        write(root, 1)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
