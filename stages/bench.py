"""DVC stage `bench`: every benchmark of every lab, toolchains x GOMAXPROCS interleaved in rounds.

    python -m stages.bench

One comparison is one session: in each of `bench.rounds` rounds every cell (toolchain x
GOMAXPROCS x package of a lab or of a target) runs once (-test.count=1), in an order shuffled
from `bench.seed` and recorded, so drift of the machine hits every toolchain alike. Runs the
test binaries `build@*` made. Writes data/raw/bench/bench.txt (Go benchmark format with
configuration lines, `target:` among them, readable by benchstat:
`benchstat -col go -ignore round,order data/raw/bench/bench.txt`), and the Parquet datasets
`bench` (long format, every unit), `bench_stats` (benchstat's statistics of every toolchain
against the baseline, Holm-corrected within each target; a target's baseline is the configured
one unless that toolchain skipped it, then the first in display order that built it) and
`hosts` (the machine's fingerprint).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import polars as pl

from releaselab.bench import session, stats, units
from releaselab.build import manifest
from releaselab.core import catalog, config, entry, executor, log, staging, store
from releaselab.core.paths import PARQUET_ROOT, RAW_ROOT


def bench(_: argparse.Namespace, cfg: config.Config) -> None:
    out_txt = RAW_ROOT / "bench" / "bench.txt"
    out_txt.parent.mkdir(parents=True, exist_ok=True)
    ran = session.run_all(cfg, out_txt)
    df = session.parse(out_txt.read_text(encoding="utf-8"), str(out_txt))
    manifests = manifest.read_all(cfg.go.labels)
    go_versions = {lb: m.go_version for lb, m in manifests.items()}
    built = manifest.built_by(manifests)
    baselines = {t: next(g for g in cfg.order if g in gos) for t, gos in built.items()}
    params = {"bench": {"rounds": cfg.bench.rounds, "benchtime": cfg.bench.benchtime,
                        "seed": cfg.bench.seed, "baseline": cfg.baseline},
              "sweep.gomaxprocs": list(cfg.sweep.gomaxprocs)}  # fmt: skip
    store.write_dataset(df, PARQUET_ROOT / "bench", dataset="bench", params=params,
                        go_versions=go_versions, host=cfg.host)  # fmt: skip
    st = stats.compare_groups(df, baselines, within=("host",), keys=session.STATS_KEYS,
                              exact_units=units.ALLOC_UNITS)  # fmt: skip
    store.write_dataset(st, PARQUET_ROOT / "bench_stats", dataset="bench_stats",
                        params=params, go_versions=go_versions, host=cfg.host)  # fmt: skip
    for a, b in cfg.aa_pairs:
        aa = stats.aa_false_positive_rate(df.filter(pl.col("go").is_in([a, b])), a, b,
                                          keys=session.STATS_KEYS)  # fmt: skip
        log.info(
            f"A/A {a} vs {b}: {aa.n_significant_raw}/{aa.n_comparisons} significant "
            f"before correction ({aa.rate:.1%}), {aa.n_significant_adjusted} after Holm"
        )
    # where the numbers were measured, written with them: a run-cache restore brings both
    fingerprints = store.frame(ran.fingerprints, catalog.schema("hosts"))
    store.write_dataset(fingerprints, PARQUET_ROOT / "hosts", dataset="hosts", params={},
                        host=cfg.host)  # fmt: skip
    with staging.staged_dir(executor.run_log_dir("bench", PARQUET_ROOT)) as tmp:
        executor.write_run_log("bench", ran.outcomes, tmp)
    missing = sum(not o.ok for o in ran.outcomes)
    log.info(
        f"wrote bench ({df.height} rows), bench_stats ({st.height} rows), hosts "
        f"({fingerprints.height}) and run_log ({len(ran.outcomes)} runs, {missing} missing)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run(bench, argv, args=entry.parser("stages.bench", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
