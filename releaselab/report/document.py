"""The whole report: what changed first, then the contents, the labs' sections, and the setup
(machine, toolchains, builds) last; written as report.md and a self-contained index.html.

Everything comes from the datasets under parquet_root and the build manifests, never from the
machine running the report: the same data gives the same bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from releaselab.build import manifest
from releaselab.core import catalog, config, labels, store
from releaselab.report import render, sections, summary
from releaselab.report.render import Section

MARKDOWN = "report.md"
PAGE = "index.html"
FIGURES = "figures"


def _frame(parquet_root: Path, dataset: str) -> pl.DataFrame | None:
    if not (parquet_root / dataset).is_dir():
        return None
    return store.scan(dataset, parquet_root).collect()


def _labels(parquet_root: Path, dataset: str) -> list[str]:
    """The toolchains a dataset holds (its `go` partitions), none when it is absent."""
    if not (parquet_root / dataset).is_dir():
        return []
    scan = store.scan(dataset, parquet_root).select("go").unique()
    return sorted(scan.collect()["go"].to_list())


def measured_hosts(parquet_root: Path) -> list[str]:
    """Every host label a host-partitioned dataset under parquet_root holds."""
    return sorted(
        {h for d in catalog.DATASETS if "host" in d.partitions and d.name != "run_log"
         for h in store.hosts_in(d.name, parquet_root)}
    )  # fmt: skip


def subtitle(order: Sequence[str], meta: Sequence[dict[str, str]]) -> str:
    """One line: which toolchains against which baseline, measured where."""
    machines = sorted({(m.get("host", ""), m.get("cpu_model", ""), m.get("cores", "")) for m in
                       meta})  # fmt: skip
    where = "; ".join(f"{h} ({cpu}, {n} cores)" for h, cpu, n in machines)
    what = (
        f"go {', '.join(order[1:])} against the baseline go {order[0]}"
        if len(order) > 1
        else f"go {order[0]} alone"
        if order
        else "no toolchain"
    )
    return f"{what}, measured on {where}." if where else f"{what}."


def build(
    cfg: config.Config, parquet_root: Path, build_root: Path, reports_dir: Path
) -> list[Section]:
    """Write reports_dir/report.md, index.html and figures/; return the sections."""
    tcs = store.scan("toolchains", parquet_root).collect()
    meta = store.read_metadata("toolchains", parquet_root)
    manifests = [manifest.read(lb, build_root) for lb in manifest.labels_present(build_root)]
    labs: list[Section] = []
    hosts = measured_hosts(parquet_root)
    # Each lab contributes its sections when its dataset exists (see LAB_SECTIONS); a lab
    # measured on several hosts once per host, in that host's scope: no comparison crosses hosts.
    for dataset, builder in sections.LAB_SECTIONS:
        if not (parquet_root / dataset).is_dir():
            continue
        if len(hosts) < 2 or "host" not in catalog.partitions(dataset):
            labs += builder(cfg, parquet_root, reports_dir / FIGURES)
            continue
        for host in hosts:
            with store.host_scope(host):
                built = builder(cfg, parquet_root, reports_dir / FIGURES / f"host={host}")
            labs += [dataclasses.replace(s, title=f"{s.title} (host {host})") for s in built]
    if (hosts_df := _frame(parquet_root, "hosts")) is not None and hosts_df.height:
        # where the numbers were measured (the bench stage's fingerprints of every host)
        meta = [{k: str(v) for k, v in r.items()} for r in hosts_df.sort("host").to_dicts()]
        machine = sections.hosts_section(hosts_df)
    else:
        machine = sections.machine_section(meta)
    setup = [machine, sections.toolchains_section(tcs),
             sections.builds_section(manifests)]  # fmt: skip
    if (log := _frame(parquet_root, "run_log")) is not None and log.height:
        setup.insert(1, sections.runs_section(log))
    order = labels.display_order(tcs["go"].to_list(), cfg.baseline)
    inputs = summary.Inputs(
        baseline=cfg.baseline,
        bench_stats=_frame(parquet_root, "bench_stats"),
        escape_diff=_frame(parquet_root, "escape_diff"),
        escape_analysed=tuple(_labels(parquet_root, "escape")),
        sched_runs=_frame(parquet_root, "sched_runs"),
        stack=_frame(parquet_root, "stack"),
    )
    present = {s.anchor for s in (*labs, *setup)}
    out = [summary.section(inputs, order, present), *labs, *setup]
    line = subtitle(order, meta)
    reports_dir.mkdir(parents=True, exist_ok=True)
    (reports_dir / MARKDOWN).write_text(
        render.markdown(sections.TITLE, out, subtitle=line, contents_after=1), encoding="utf-8"
    )
    (reports_dir / PAGE).write_text(
        render.page(sections.TITLE, out, subtitle=line, contents_after=1), encoding="utf-8"
    )
    return out
