"""DVC stage `ledger`: the escape ledger, predictions vs the compiler vs measured allocations.

    python -m stages.ledger

Per case x variant x toolchain of escape-clinic/cases/predictions.json: the predicted decision,
the compiler's decision (from the `escape` dataset), allocs/op and B/op measured by the `bench`
stage (median over rounds at the smallest GOMAXPROCS), and a verdict: agree; escapes_not_allocated
(the compiler says "escapes to heap" but nothing is allocated: constant or small-integer
boxing); prediction_wrong. Writes data/parquet/escape_ledger.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from stages import build, config, escape_data, log, store

PREDICTIONS = build.WORKSPACE / "escape-clinic" / "cases" / "predictions.json"
CASES_PACKAGE = "escape-clinic/cases"


def allocs_by_benchmark(bench: pl.DataFrame, gomaxprocs: int) -> pl.DataFrame:
    """(go, benchmark, allocs_op, bytes_op): medians over rounds of the cases package."""
    return (
        bench.filter(pl.col("package").str.ends_with(CASES_PACKAGE),
                     pl.col("gomaxprocs") == gomaxprocs,
                     pl.col("unit").is_in(["allocs/op", "B/op"]))
        .group_by("go", "name", "unit").agg(pl.col("value").median())
        .pivot(on="unit", index=["go", "name"], values="value")
        .select("go", benchmark=pl.lit("Benchmark") + pl.col("name"),
                allocs_op=pl.col("allocs/op"), bytes_op=pl.col("B/op"))
    )  # fmt: skip


def versions(build_root: Path, labels: list[str]) -> dict[str, str]:
    """label -> Go version (e.g. 1.27.3) of what the build stage ran."""
    out = {}
    for lb in labels:
        manifest = json.loads((build_root / f"go={lb}" / "manifest.json").read_text("utf-8"))
        out[lb] = str(manifest["go_version"]).split()[2].removeprefix("go")
    return out


def main() -> int:
    cfg = config.load()
    try:
        diags = store.scan("escape").filter(pl.col("lab") == "escape-clinic").collect()
        bench = store.scan("bench").collect()
        preds = json.loads(PREDICTIONS.read_text(encoding="utf-8"))["predictions"]
        vers = versions(store.RAW_ROOT / "build", list(cfg.go.labels))
    except (store.StoreError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    allocs = allocs_by_benchmark(bench, min(cfg.sweep.gomaxprocs))
    led = escape_data.ledger(diags, preds, vers, allocs)
    unmatched = led.filter(pl.col("allocs_op").is_null())["benchmark"].unique().to_list()
    if unmatched:
        log.warn(f"no benchmark data for {unmatched}; check `benchmark` in {PREDICTIONS.name}")
    store.write_dataset(led, store.PARQUET_ROOT / "escape_ledger", dataset="escape_ledger",
                        params={"gomaxprocs": min(cfg.sweep.gomaxprocs)}, host=cfg.host,
                        go_versions={lb: f"go{v}" for lb, v in vers.items()},
                        sort_by=["go", "case", "variant", "line", "subject"])  # fmt: skip
    counts = led.group_by("verdict").len().sort("verdict").rows()
    log.info(f"wrote escape_ledger ({led.height} rows): {dict(counts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
