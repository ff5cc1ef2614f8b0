"""The escape ledger's inputs: allocation medians of the escape-clinic cases by benchmark
(the join itself is releaselab.escape.data.ledger; the stage is stages/ledger.py)."""

from __future__ import annotations

import polars as pl

from releaselab.bench import units

CASES_PACKAGE = "escape-clinic/cases"


def allocs_by_benchmark(bench: pl.DataFrame, gomaxprocs: int) -> pl.DataFrame:
    """(go, benchmark, allocs_op, bytes_op): medians over rounds of the cases package."""
    return (
        bench.filter(pl.col("package").str.ends_with(CASES_PACKAGE),
                     pl.col("gomaxprocs") == gomaxprocs,
                     pl.col("unit").is_in(units.ALLOC_UNITS))
        .group_by("go", "name", "unit").agg(pl.col("value").median())
        .pivot(on="unit", index=["go", "name"], values="value")
        .select("go", benchmark=pl.lit("Benchmark") + pl.col("name"),
                allocs_op=pl.col("allocs/op"), bytes_op=pl.col("B/op"))
    )  # fmt: skip
