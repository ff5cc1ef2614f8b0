"""The report's own sections (machine, toolchains, builds) and the order of the labs' sections;
each lab's sections are in its own package (releaselab.<lab>.report)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from releaselab.bench import report as report_bench
from releaselab.build import manifest
from releaselab.core import config
from releaselab.escape import report as report_escape
from releaselab.report import human
from releaselab.report.render import Section, Table
from releaselab.sched import report as report_sched
from releaselab.stack import report as report_stack
from releaselab.targets import report as report_targets

TITLE = "go-release-lab report"
SectionBuilder = Callable[[config.Config, Path, Path], list[Section]]
# (dataset whose presence enables the sections, builder(parquet_root, figures_dir)), in order.
# The order of the summary's columns: time and allocations, escape analysis, scheduling, stacks.
LAB_SECTIONS: list[tuple[str, SectionBuilder]] = [
    ("bench_stats", report_bench.sections),
    ("escape", report_escape.sections),
    ("targets", report_targets.sections),  # one part per target; the others show the labs
    ("sched_waits", report_sched.sections),
    ("stack", report_stack.sections),
]


def hosts_section(hosts: pl.DataFrame) -> Section:
    """The hosts the numbers were measured on, from the `hosts` dataset (their fingerprints)."""
    rows = tuple(
        (r["host"], r["cpu_model"], r["cores"], human.size(r["mem_bytes"]), r["kernel"],
         r["arch"], r["goamd64"] or r["goarm64"], r["governor"], r["turbo"])
        for r in hosts.sort("host").iter_rows(named=True)
    )  # fmt: skip
    cols = ("host", "CPU model", "cores", "memory", "kernel", "arch", "GOAMD64/GOARM64",
            "governor", "turbo")  # fmt: skip
    return Section("Machine", tables=(Table(cols, rows),))


RUNS_TITLE = "Runs"


def runs_section(log: pl.DataFrame) -> Section:
    """Every scheduled run per stage and host (run_log): how many ran, how long the host was
    busy, and each missing run with the reason (a host lost mid-run)."""
    per = (
        log.group_by("stage", "host")
        .agg(
            runs=pl.len(),
            missing=pl.col("missing").sum(),
            busy=(pl.col("ended") - pl.col("started")).filter(~pl.col("missing")).sum(),
            retried=(pl.col("attempts") > 1).sum(),
        )
        .sort("stage", "host")
    )
    rows = tuple(
        (r["stage"], r["host"], r["runs"], r["missing"], r["retried"],
         human.duration(r["busy"] * 1e9))
        for r in per.iter_rows(named=True)
    )  # fmt: skip
    gone = log.filter(pl.col("missing")).sort("stage", "host", "order")
    lost = Table(
        ("stage", "host", "go", "GOMAXPROCS", "round", "order", "cell", "reason"),
        tuple(
            gone.select(
                "stage", "host", "go", "gomaxprocs", "round", "order", "cell", "reason"
            ).rows()
        ),
        empty="Every scheduled run completed: no host was lost.",
    )
    lead = (
        "Where every scheduled run of bench, sched and stack ran: per stage and host the runs, "
        "the missing ones (their host was lost and did not come back in time: their rows are "
        "absent from the data) and those retried after an outage."
    )
    table = Table(("stage", "host", "runs", "missing", "retried", "busy"), rows)
    return Section(RUNS_TITLE, lead=lead, tables=(table, lost))


def machine_section(meta: Sequence[dict[str, str]]) -> Section:
    """The machine(s) the datasets were measured on, from the files' metadata."""
    keys = ("host", "cpu_model", "cores", "os")
    seen = sorted({tuple(m.get(k, "") for k in keys) for m in meta})
    return Section("Machine", tables=(Table(("host", "CPU model", "cores", "OS"), tuple(seen)),))


def toolchains_section(df: pl.DataFrame) -> Section:
    rows = tuple(
        (r["label"], r["version"], r["source"], r["go_version"], (r["wheel_sha256"] or "")[:16])
        for r in df.sort("label").iter_rows(named=True)
    )
    cols = ("label", "version", "source", "go version", "wheel sha256 (prefix)")
    return Section("Toolchains", tables=(Table(cols, rows),))


def builds_section(manifests: Sequence[manifest.Manifest]) -> Section:
    rows = []
    for m in sorted(manifests, key=lambda m: m.label):
        for lab in sorted({a.lab for a in m.artifacts}):
            mine = [a for a in m.artifacts if a.lab == lab]
            rows.append(
                (
                    m.label,
                    lab,
                    sum(a.kind == "test" for a in mine),
                    sum(a.kind == "main" for a in mine),
                )
            )
    return Section(
        "Builds",
        text="Binaries each toolchain built (later stages run these).",
        tables=(
            Table(
                ("toolchain", "lab", "test binaries", "programs"),
                tuple(rows),
                empty="No build manifest (data/raw/build/go=*/manifest.json).",
            ),
        ),
    )
