"""DVC stage `report`: reports/report.md, reports/index.html (self-contained), metrics.json (the
headline figures, releaselab.report.metrics) and reports/plots/ (small JSON summaries for the
top-level `plots:` of dvc.yaml, and the offline page `dvc plots show --html-template` takes).

    python -m stages.report

Everything comes from the datasets (and the build manifests), never from the machine running the
report, so re-running it on the same data gives byte-identical files.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import polars as pl

from releaselab.build import manifest
from releaselab.core import catalog, config, entry, log, store
from releaselab.core.config import LABS_TARGET
from releaselab.core.paths import BUILD_ROOT, PARQUET_ROOT, REPORTS
from releaselab.report import document, metrics, plots
from releaselab.sched import data as sched_data
from releaselab.sched import report as sched_report
from releaselab.targets import report as report_targets

PLOTS_DIR = REPORTS / "plots"


def report(_: argparse.Namespace, cfg: config.Config) -> None:
    document.build(cfg, PARQUET_ROOT, BUILD_ROOT, REPORTS)
    tcs = store.scan("toolchains").collect()
    manifests = [manifest.read(lb) for lb in manifest.labels_present(BUILD_ROOT)]
    figures: dict[str, object] = {
        "toolchains": tcs.height,
        "binaries": {m.label: len(m.artifacts) for m in manifests},
    }
    out, files = headline()
    plots.write(PLOTS_DIR, files)
    hosts = document.measured_hosts(PARQUET_ROOT)
    if len(hosts) > 1:  # each host's figures on their own: no figure mixes hosts
        per: dict[str, object] = {}
        for host in hosts:
            with store.host_scope(host):
                per[host] = {k: v for k, v in headline()[0].items() if k != "escape_diff"}
        out = {"escape_diff": out.get("escape_diff", {}), "hosts": per}
    figures |= out
    (REPORTS / "metrics.json").write_text(metrics.to_json(figures), encoding="utf-8")
    log.info(f"wrote {REPORTS}/report.md, index.html, metrics.json, plots/")


def labs_only(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("target") == LABS_TARGET) if "target" in df.columns else df


def _present(dataset: str) -> bool:
    return (PARQUET_ROOT / dataset).is_dir()


def headline() -> tuple[dict[str, object], dict[str, str]]:
    """metrics.json's figures from every dataset present (in the current host scope), and the
    plot summaries beside them."""
    out: dict[str, object] = {}
    files = {plots.PAGE: plots.page_template()}
    st = store.scan("bench_stats").collect() if _present("bench_stats") else pl.DataFrame()
    diff = store.scan("escape_diff").collect() if _present("escape_diff") else pl.DataFrame()
    out["targets"] = report_targets.headline(st, diff)  # the labs' figures are the top level
    st, diff = (labs_only(d) for d in (st, diff))
    out["bench"] = metrics.bench(st)
    files[plots.BENCH_RATIO] = plots.records_json(plots.bench_ratio_records(st))
    if _present("escape_diff"):
        out["escape_diff"] = metrics.escape_diff(diff)
    waits, ecdf = pl.DataFrame(), pl.DataFrame()
    if _present("sched_waits"):
        waits, ecdf = plots.wait_aggregates(sched_report.waits_slices(PARQUET_ROOT, True))
    requests = pl.DataFrame(schema=catalog.schema("sched_requests"))
    if _present("sched_requests"):
        requests = store.scan("sched_requests").collect()
    req = sched_data.latency_summary(requests, "latency_ns", sched_report.KEYS)
    if waits.height or req.height:
        out["sched"] = metrics.sched(waits, req)
    files[plots.WAITS_ECDF] = plots.records_json(plots.wait_ecdf_records(ecdf))
    stack = store.scan("stack").collect() if _present("stack") else pl.DataFrame()
    out["stack"] = metrics.stack(stack) if stack.height else {}
    files[plots.STACK_INUSE] = plots.records_json(plots.stack_records(stack))
    return out, files


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run(report, argv, args=entry.parser("stages.report", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
