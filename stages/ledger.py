"""DVC stage `ledger`: the escape ledger, predictions vs the compiler vs measured allocations.

    python -m stages.ledger

Per case x variant x toolchain of escape-clinic/cases/predictions.json: the predicted decision,
the compiler's decision (from the `escape` dataset), allocs/op and B/op measured by the `bench`
stage (median over rounds at the smallest GOMAXPROCS), and a verdict: agree; escapes_not_allocated
(the compiler says "escapes to heap" but nothing is allocated: constant or small-integer
boxing); prediction_wrong. Writes data/parquet/escape_ledger.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import polars as pl

from releaselab.build import manifest
from releaselab.core import config, entry, log, store
from releaselab.core.paths import PARQUET_ROOT, PREDICTIONS
from releaselab.escape import data as escape_data
from releaselab.escape import ledger


def build_ledger(_: argparse.Namespace, cfg: config.Config) -> None:
    if not cfg.targets.labs:  # the labs are left out of escape and bench: nothing to join
        store.write_dataset(pl.DataFrame(schema=escape_data.LEDGER_SCHEMA),
                            PARQUET_ROOT / "escape_ledger", dataset="escape_ledger",
                            params={"targets.labs": False}, host=cfg.host)  # fmt: skip
        log.info("targets.labs is false: wrote an empty escape_ledger")
        return
    diags = store.scan("escape").filter(pl.col("lab") == "escape-clinic").collect()
    bench = store.scan("bench").collect()
    preds = json.loads(PREDICTIONS.read_text(encoding="utf-8"))["predictions"]
    vers = {lb: m.release for lb, m in manifest.read_all(cfg.go.labels).items()}
    allocs = ledger.allocs_by_benchmark(bench, min(cfg.sweep.gomaxprocs))
    led = escape_data.ledger(diags, preds, vers, allocs)
    unmatched = led.filter(pl.col("allocs_op").is_null())["benchmark"].unique().to_list()
    if unmatched:
        log.warn(f"no benchmark data for {unmatched}; check `benchmark` in {PREDICTIONS.name}")
    store.write_dataset(led, PARQUET_ROOT / "escape_ledger", dataset="escape_ledger",
                        params={"gomaxprocs": min(cfg.sweep.gomaxprocs)}, host=cfg.host,
                        go_versions={lb: f"go{v}" for lb, v in vers.items()})  # fmt: skip
    counts = led.group_by("verdict").len().sort("verdict").rows()
    log.info(f"wrote escape_ledger ({led.height} rows): {dict(counts)}")


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run(build_ledger, argv, args=entry.parser("stages.ledger", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
