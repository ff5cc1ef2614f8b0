"""Report sections of the sched stage: latency distributions per workload x toolchain x
GOMAXPROCS, their ECDFs, the comparison with the baseline toolchain, and the runtime/metrics
histogram checked against the trace.

Pure: Polars frames in, render.Section out (plus chart files via figures.render).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import polars as pl

from releaselab.core import catalog, config, store
from releaselab.core.labels import display_order
from releaselab.report import figures, human
from releaselab.report.render import Cell, Section, Table
from releaselab.sched import data as sched_data

KEYS = ("workload", "gomaxprocs", "go")
TITLE = "Scheduling latency"
COMPARE_TITLE = "Scheduling latency across toolchains"
HIST_TITLE = "runtime/metrics /sched/latencies against the trace"
US = 1e-3  # ns -> µs
MIN_US = 1e-3  # log axes cannot show 0; a 0 ns wait is drawn at 1 ns


def _order(frame: pl.DataFrame, col: str, first: Sequence[str]) -> pl.Expr:
    """Sort key putting values in the order of `first` (the configured toolchain order)."""
    rank = {g: i for i, g in enumerate(first)}
    return pl.col(col).replace_strict(rank, default=len(rank), return_dtype=pl.Int64)


def _num(x: float | None) -> float | None:
    """NaN (nothing to compare) shows as an empty cell."""
    return None if x is None or math.isnan(x) else x


@dataclass(frozen=True)
class Aggregates:
    """What the sections show of one dataset (waits or requests): small whatever its size."""

    summary: pl.DataFrame  # sched_data.latency_summary per KEYS
    ecdf: pl.DataFrame  # sched_data.ecdf_points per KEYS
    undetermined: int  # samples with no value


def aggregate(
    slices: Iterable[pl.DataFrame], value: str, *, owned_only: bool = False
) -> Aggregates:
    """The aggregates of a dataset read one slice at a time, so that only one slice of the raw
    samples is in memory (all of go=all's sched_waits at once took 2.6 GiB).

    Each slice must hold whole workload x GOMAXPROCS groups: then every summary and ECDF comes
    from the same samples as from the whole dataset. owned_only drops rows with no workload (the
    runtime's own goroutines' waits)."""
    summaries, points = [], []
    undetermined = 0
    for df in slices:
        own = df.filter(pl.col("workload").is_not_null()) if owned_only else df
        undetermined += own.filter(pl.col(value).is_null()).height
        summaries.append(sched_data.latency_summary(own, value, KEYS))
        points.append(sched_data.ecdf_points(own, value, KEYS))
        del df, own
    return Aggregates(
        summary=pl.concat(summaries).sort(KEYS),
        ecdf=pl.concat(points).sort(*KEYS, "level"),
        undetermined=undetermined,
    )


def hist_against_trace(slices: Iterable[pl.DataFrame], hist: pl.DataFrame) -> pl.DataFrame:
    """sched_data.hist_vs_trace with the waits read one slice at a time; each slice must hold
    every wait of its GOMAXPROCS values (go, gomaxprocs, window, wait_ns)."""
    rows: list[dict[str, object]] = []
    seen: set[int] = set()
    empty = None
    for df in slices:
        procs = set(df["gomaxprocs"].unique().to_list())
        rows += sched_data.hist_vs_trace_rows(df, hist.filter(pl.col("gomaxprocs").is_in(procs)))
        seen |= procs
        empty = df.clear()
        del df
    rest = hist.filter(~pl.col("gomaxprocs").is_in(seen))
    if rest.height and empty is not None:  # windows of a GOMAXPROCS with no waits at all
        rows += sched_data.hist_vs_trace_rows(empty, rest)
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def runs_table(runs: pl.DataFrame, what: str, order: Sequence[str]) -> Table:
    """Per workload x GOMAXPROCS x toolchain: runs, and the median over runs of each run's
    count and quantiles (µs), with the range over runs of p50 and p99."""
    r = runs.filter(pl.col("what") == what)
    levels = ("p50", "p90", "p99", "p999", "max")
    s = r.group_by("workload", "gomaxprocs", "go").agg(
        runs=pl.len(),
        count=pl.col("count").median(),
        **{n: pl.col(n).median() for n in levels},
        **{f"{n}_lo": pl.col(n).min() for n in ("p50", "p99")},
        **{f"{n}_hi": pl.col(n).max() for n in ("p50", "p99")},
    )
    s = s.sort("workload", "gomaxprocs", _order(s, "go", order))
    cols = (f"{what}s: workload", "GOMAXPROCS", "go", "runs", "count per run", "p50",
            "p50 range", "p90", "p99", "p99 range", "p99.9", "max")  # fmt: skip
    rows: list[tuple[Cell, ...]] = [
        (x["workload"], x["gomaxprocs"], x["go"], x["runs"], human.count(x["count"]),
         human.duration(x["p50"]), human.duration_range(x["p50_lo"], x["p50_hi"]),
         human.duration(x["p90"]), human.duration(x["p99"]),
         human.duration_range(x["p99_lo"], x["p99_hi"]), human.duration(x["p999"]),
         human.duration(x["max"]))
        for x in s.iter_rows(named=True)
    ]  # fmt: skip
    return Table(cols, tuple(rows))


def p_text(p: float | None) -> str:
    """A p-value to two digits; below 0.001 as `< 0.001`."""
    if p is None or math.isnan(p):
        return ""
    return "< 0.001" if p < 0.001 else human.sig(p, 2)


def comparison_table(cmp: pl.DataFrame, order: Sequence[str], what: str, empty: str = "") -> Table:
    """Each toolchain against the baseline per workload x GOMAXPROCS x statistic, run against
    run (sched_data.compare_runs, Holm over the table): the significant rows first, the others
    folded; `empty` says why there is nothing to compare."""
    cols = (f"{what}: workload", "GOMAXPROCS", "statistic", "go", "runs", "value",
            "baseline", "ratio", "95% interval", "p (Holm)", "significant")  # fmt: skip
    if cmp.is_empty():
        return Table(cols, (), empty=empty or f"No {what} to compare.")
    cmp = cmp.sort("workload", "gomaxprocs", "statistic", _order(cmp, "go", order))
    rows: dict[bool, list[tuple[Cell, ...]]] = {True: [], False: []}
    for r in cmp.iter_rows(named=True):
        rows[bool(r["significant"])].append(
            (r["workload"], r["gomaxprocs"], r["statistic"], r["go"],
             f"{r['runs']} vs {r['runs_baseline']}", human.duration(r["value"]),
             human.duration(r["value_baseline"]), human.ratio(_num(r["ratio"])),
             _interval(r["ratio_low"], r["ratio_high"]), p_text(r["p_adjusted"]),
             "yes" if r["significant"] else "no")
        )  # fmt: skip
    n = len(rows[False])
    label = f"{n} {'comparison' if n == 1 else 'comparisons'} not significant after Holm"
    return Table(cols, tuple(rows[True]), folded=tuple(rows[False]), fold_label=label,
                 empty="No comparison is significant after Holm.")  # fmt: skip


FEW = 1000  # waits per run below which a run's p99.9 is about its largest wait


def _few_waits(runs: pl.DataFrame) -> str:
    """Which workloads have so few waits per run that their tail quantiles are their maxima."""
    med = (
        runs.filter(pl.col("what") == "wait")
        .group_by("workload")
        .agg(pl.col("count").median())
        .filter(pl.col("count") < FEW)
        .sort("workload")
    )
    if med.is_empty():
        return ""
    names = ", ".join(f"{r['workload']} ({r['count']:.0f})" for r in med.iter_rows(named=True))
    return (
        f" Workloads with few waits per run (median): {names}; in those a run's p99 and "
        "p99.9 are about its largest waits."
    )


def _interval(lo: float, hi: float) -> str:
    return "" if math.isnan(lo) else f"{human.sig(lo)}-{human.sig(hi)}"


def comparisons(runs: pl.DataFrame, baseline: str) -> dict[str, pl.DataFrame]:
    """The family of each table (waits, requests): Holm over each."""
    return {
        what: sched_data.table_of_runs(
            sched_data.compare_runs(runs.filter(pl.col("what") == what), baseline)
        )
        for what in ("wait", "request")
    }


def aa_text(
    cmp: dict[str, pl.DataFrame], pairs: Sequence[tuple[str, str]], bench: pl.DataFrame | None
) -> str:
    """The measured false-positive rate of each A/A pair: sched tables and benchmarks."""
    from releaselab.bench import stats  # noqa: PLC0415 - only with an A/A pair

    parts = []
    for a, b in pairs:
        n = raw = adj = 0
        for table in cmp.values():
            t = sched_data.aa_counts(table, a, b)
            n, raw, adj = n + t[0], raw + t[1], adj + t[2]
        if not n:
            continue
        text = (
            f"A/A {a} vs {b} (one toolchain under two labels): {raw}/{n} scheduling "
            f"comparisons significant before correction ({raw / n:.1%}; alpha "
            f"{sched_data.ALPHA}), {adj} after Holm"
        )
        if bench is not None and bench.height:
            aa = stats.aa_false_positive_rate(bench, a, b)
            if aa.n_comparisons:
                text += (
                    f"; benchmarks: {aa.n_significant_raw}/{aa.n_comparisons} ({aa.rate:.1%}), "
                    f"{aa.n_significant_adjusted} after Holm"
                )
        parts.append(text + ".")
    return " ".join(parts)


def ecdf_chart(
    points: pl.DataFrame, value: str, order: Sequence[str], title: str
) -> alt.FacetChart:
    """ECDF lines (log x), one panel per workload, a row per GOMAXPROCS, colour = toolchain."""
    data = points.with_columns(x=pl.max_horizontal(pl.col(value) * US, pl.lit(MIN_US)))
    present = [g for g in order if g in set(data["go"].to_list())]
    base = alt.Chart(data.drop(value)).mark_line(strokeWidth=1.5).encode(
        x=alt.X("x:Q", scale=alt.Scale(type="log", nice=False), title=title,
                axis=alt.Axis(tickCount=4, labelExpr=figures.MICROSECONDS_LABEL,
                              labelOverlap="greedy", labelSeparation=6, gridOpacity=0.4)),
        y=alt.Y("level:Q", title="fraction ≤ x", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("go:N", sort=present, title="toolchain"),
        order=alt.Order("level:Q"),
    ).properties(width=160, height=120)  # fmt: skip
    chart: alt.FacetChart = base.facet(
        row=alt.Row("gomaxprocs:O", title="GOMAXPROCS"),
        column=alt.Column("workload:N", title=None),
    ).resolve_scale(x="independent")
    return chart


def hist_table(hv: pl.DataFrame, order: Sequence[str]) -> Table:
    cols = ("window", "GOMAXPROCS", "go", "hist [0, 64 ns)", "trace waits", "histogram",
            "ratio", "KS D", "p50 bucket trace / hist", "p90 bucket trace / hist",
            "p99 bucket trace / hist", "chi² p")  # fmt: skip
    hv = hv.sort("workload", "gomaxprocs", _order(hv, "go", order))

    def pair(a: float, b: float) -> str:
        return f"{_fmt_s(a)} / {_fmt_s(b)}"

    rows: list[tuple[Cell, ...]] = [
        (r["workload"], r["gomaxprocs"], r["go"], human.count(r["n_hist_zero"]),
         human.count(r["n_trace"]), human.count(r["n_hist"]), _sig(r["n_ratio"]), _sig(r["ks"]),
         pair(r["p50_trace"], r["p50_hist"]),
         pair(r["p90_trace"], r["p90_hist"]), pair(r["p99_trace"], r["p99_hist"]),
         _num(r["gof_p"]))
        for r in hv.iter_rows(named=True)
    ]  # fmt: skip
    return Table(cols, tuple(rows))


def _sig(x: float | None) -> str:
    return "" if x is None or math.isnan(x) else human.sig(x)


def _fmt_s(seconds: float) -> str:
    return "" if math.isnan(seconds) else human.duration(seconds * 1e9)


def _median(s: pl.Series) -> float:
    m = s.drop_nans().drop_nulls().median() if s.len() else None
    return math.nan if m is None else float(m)  # type: ignore[arg-type]


def _lo(s: pl.Series) -> float:
    v = s.cast(pl.Float64).fill_nan(None).min()
    return math.nan if v is None else float(v)  # type: ignore[arg-type]


def _per_go(df: pl.DataFrame, col: str, order: Sequence[str], fmt: str = "d") -> str:
    """`go X: v1, v2` (one value per GOMAXPROCS) per toolchain, in toolchain order."""
    parts = []
    for g in [g for g in order if g in set(df["go"].to_list())]:
        vals = df.filter(pl.col("go") == g).sort("gomaxprocs")[col].to_list()
        parts.append(f"go {g}: " + ", ".join(format(v, fmt) for v in vals))
    return "; ".join(parts)


MIN_TESTABLE = 100  # trace waits in a window before its ratio and shape are worth reading


def hist_findings(hv: pl.DataFrame, order: Sequence[str]) -> str:
    """What the comparison found, in numbers from this data."""
    big = hv.filter((pl.col("n_trace") >= MIN_TESTABLE) & (pl.col("workload") != "syscall"))
    coarse = big.filter(pl.col("p50_trace") >= 1e-6)  # µs-scale waits
    fine = big.filter(pl.col("p50_trace") < 1e-6)  # a few 64 ns trace ticks
    agree = (pl.col("p50_shift").abs() <= 1).sum()
    sys_ = hv.filter(pl.col("workload") == "syscall")
    text = [
        f"Count: in the {big.height} windows with >= {MIN_TESTABLE} trace waits (syscall "
        f"aside) the histogram holds {_lo(big['n_ratio']):.3f} to {-_lo(-big['n_ratio']):.3f} "
        f"(median {_median(big['n_ratio']):.4f}) of the trace's waits of 64 ns or more: the "
        f"runtime tracks 1 transition in {sched_data.SAMPLING_PERIOD} "
        f"({1 / sched_data.SAMPLING_PERIOD}).",
        f"Shape: where waits are µs-scale ({coarse.height} windows) the p50 buckets are the "
        f"same or adjacent in {coarse.select(agree).item() if coarse.height else 0}, KS D median "
        f"{_median(coarse['ks']):.3g}, chi-square p >= {sched_data.ALPHA} in "
        f"{coarse.filter(pl.col('gof_p') >= sched_data.ALPHA).height}: the 1-in-8 sample is "
        f"representative. Where they are sub-µs ({fine.height} windows) KS D median is "
        f"{_median(fine['ks']):.3g} and the p50 buckets are the same or adjacent in "
        f"{fine.select(agree).item() if fine.height else 0}, typically one 64 ns bucket "
        "apart: trace timestamps come in steps of about 64 ns here (cputicks/64) and are "
        "taken at other instructions than the runtime's nanotime reads, so a 200 ns wait "
        "lands one bucket off; a limit of the trace's resolution, and the chi-square test "
        "rejects for that reason alone.",
        "The [0, 64 ns) bucket holds the runtime's 0 s samples of tracked transitions that "
        "never pass through Runnable, which the trace has no wait for: Running -> Waiting -> "
        "Running round trips of GC work (mark assists; alloc windows: "
        f"{_per_go(hv.filter(pl.col('workload') == 'alloc'), 'n_hist_zero', order)}) and, up "
        "to Go 1.25, Running -> Syscall -> Running (syscall windows: "
        f"{_per_go(sys_, 'n_hist_zero', order)}); Go 1.26 stopped tracking Running <-> "
        "Syscall.",
    ]
    if sys_.height:
        text.append(
            "Syscall windows, ratio "
            f"{_per_go(sys_, 'n_ratio', order, '.2g')}: a goroutine that returns from a "
            "syscall and gets a P at once goes _Gsyscall -> _Grunning in the runtime, but "
            "the trace writes GoSysExit(lostP) + GoStart, which reads as Syscall -> Runnable "
            "-> Running: thousands of ~64-128 ns trace 'waits' no run queue was involved in."
        )
    return " ".join(text)


FIRST_RUN = 1  # the round whose trace and rows the distribution sections show


def build_sections(
    waits: pl.DataFrame,
    hist: pl.DataFrame,
    requests: pl.DataFrame,
    runs: pl.DataFrame,
    *,
    order: Sequence[str],
    baseline: str,
    figures_dir: Path,
    aa_pairs: Sequence[tuple[str, str]] = (),
    bench: pl.DataFrame | None = None,
) -> list[Section]:
    """All sched sections: waits (go, gomaxprocs, workload, window, wait_ns), hist and
    requests of the first run of each cell, and sched_runs of every run."""
    return assemble(
        aggregate([waits], "wait_ns", owned_only=True),
        hist_against_trace([waits], hist),
        requests,
        runs,
        order=order,
        baseline=baseline,
        figures_dir=figures_dir,
        aa_pairs=aa_pairs,
        bench=bench,
    )


def assemble(
    w: Aggregates,
    hv: pl.DataFrame,
    requests: pl.DataFrame,
    runs: pl.DataFrame,
    *,
    order: Sequence[str],
    baseline: str,
    figures_dir: Path,
    aa_pairs: Sequence[tuple[str, str]] = (),
    bench: pl.DataFrame | None = None,
) -> list[Section]:
    """All sched sections from the first runs' waits aggregates, hist_against_trace and
    requests, and every run's summaries."""
    undetermined = w.undetermined
    figs = [
        figures.render(
            ecdf_chart(w.ecdf, "wait_ns", order, "scheduling wait (log)"),
            figures_dir,
            "sched_waits_ecdf",
        )
    ]
    tables = [runs_table(runs, "wait", order)]
    cmp = comparisons(runs, baseline)
    ran = [g for g in order if g in set(runs["go"].to_list())]
    why = nothing_to_compare(ran, baseline)
    cmp_tables = [comparison_table(cmp["wait"], order, "waits", why)]
    if requests.height:
        r = aggregate([requests], "latency_ns")
        tables.append(runs_table(runs, "request", order))
        figs.append(
            figures.render(
                ecdf_chart(r.ecdf, "latency_ns", order, "request latency (log)"),
                figures_dir,
                "sched_requests_ecdf",
            )
        )
        cmp_tables.append(comparison_table(cmp["request"], order, "requests", why))
    if why:  # one line for the section, not one per table
        cmp_tables = [Table((), (), empty=why)]
    n_runs = runs.group_by("go", "gomaxprocs").agg(pl.col("round").n_unique())["round"].to_list()
    k = "/".join(map(str, sorted(set(n_runs))))
    aa = aa_text(cmp, aa_pairs, bench)
    return [
        Section(
            TITLE,
            lead=(
                "How long each workload's goroutines waited to run once runnable (scheduling "
                "waits) and, for the serve workload, each request's latency end to end: a row "
                "per workload, GOMAXPROCS and toolchain, the median over runs of each run's "
                "quantiles with their range. In the charts (the first run of each cell) a line "
                "further right waits longer; the comparison with the baseline is the next "
                "section."
            ),
            text=(
                "Scheduling waits are the Runnable -> Running transitions of each workload's "
                "own goroutines in the runtime trace (converted by tools/traceconv; runtime "
                "goroutines such as the background sweeper excluded), request latency is "
                f"end to end per request of the serve workload. Every cell ran {k} times as "
                "separate processes, in interleaved rounds shuffled from labs.sched.seed; the "
                "tables give the median over runs of each run's count and quantiles (linear "
                "interpolation), and the range over runs of p50 and p99."
                + _few_waits(runs)
                + " The ECDFs are those "
                f"of the first run of each cell (its trace is kept in data/raw/sched), drawn "
                f"from {len(sched_data.ECDF_LEVELS)} fixed quantile levels per line, each "
                f"panel with its own x range; {undetermined} waits of those runs with no known "
                "start (Runnable at a trace generation boundary) are left out."
            ),
            tables=tuple(tables),
            figures=tuple(figs),
        ),
        Section(
            COMPARE_TITLE,
            lead=(
                f"Each toolchain against the baseline go {baseline} on each run's p50 and p99 "
                "waits (and request latency): a ratio above 1 is slower than the baseline. The "
                "comparisons significant after Holm come first; the others are folded."
            ),
            text=(
                f"Each toolchain against the baseline go {baseline}, per workload, GOMAXPROCS "
                "and statistic (each run's p50 and p99), run against run: the runs are the "
                "unit of replication (waits within one run are not independent: a run-queue "
                "backlog delays its neighbours), so a test compares the k values of one "
                "toolchain's runs with the baseline's k. value: median over runs; ratio: "
                "median of all run-to-run ratios, with the 95% distribution-free interval "
                "that inverts the Mann-Whitney test (per comparison, not Holm-adjusted); p: "
                "two-sided Mann-Whitney U as benchstat "
                f"computes it (exact at these sizes), Holm-Bonferroni over each table, "
                f"significant below alpha {sched_data.ALPHA}. No p-value here pools the waits "
                "of different runs." + (f" {aa}" if aa else "")
            ),
            tables=tuple(cmp_tables),
        ),
        Section(
            HIST_TITLE,
            lead=hist_lead(hv),
            text=(
                "For each workload window of the first run of each cell (from the previous "
                "workload's end to this one's, the span of the lab's metrics snapshot delta) "
                "the trace waits of every goroutine that started running in the window are "
                "binned with the histogram's own bucket edges, then compared: count ratio, KS "
                "D (largest gap between the two binned CDFs), the bucket holding p50/p90/p99 "
                "of each, and a chi-square test that the histogram is a random 1-in-8 subset "
                "of the trace's waits (buckets merged to >= 5 expected, finite-population "
                "correction). " + hist_findings(hv, order)
            ),
            tables=(hist_table(hv, order),) if hv.height else (),
        ),
    ]


def nothing_to_compare(ran: Sequence[str], baseline: str) -> str:
    """Why a comparison table is empty, in one line ("" when there is something to compare)."""
    if baseline not in ran:
        return f"The baseline go {baseline} has no runs here: nothing to compare with it."
    if len(ran) < 2:
        return f"Only go {baseline} ran: no other toolchain to compare with it."
    return ""


def hist_lead(hv: pl.DataFrame) -> str:
    """How to read the histogram check, with its headline number."""
    big = hv.filter((pl.col("n_trace") >= MIN_TESTABLE) & (pl.col("workload") != "syscall"))
    share = (
        f" Here it holds a median {_median(big['n_ratio']):.3f} of them in the "
        f"{big.height} windows with >= {MIN_TESTABLE} waits."
        if big.height
        else ""
    )
    return (
        "A check of the runtime's own /sched/latencies:seconds histogram against the waits in "
        "the trace of the same run, per workload window: `ratio` is the share of the trace's "
        "waits the histogram counted (the runtime samples 1 transition in "
        f"{sched_data.SAMPLING_PERIOD}), `KS D` how far apart their shapes are (0: the same)."
        + share
        + " What the differences mean is under Method."
    )


def waits_slices(parquet_root: Path, by_workload: bool) -> Iterator[pl.DataFrame]:
    """sched_waits of the first run of each cell, one GOMAXPROCS (a partition: only its files
    are read) or one workload x GOMAXPROCS at a time; by workload leaves out the waits of no
    workload and window."""
    cols = ["go", "gomaxprocs", "workload", "wait_ns"] if by_workload else ["go", "gomaxprocs",
            "window", "wait_ns"]  # fmt: skip
    # Categorical: a 4-byte code per row instead of a string view
    strings = pl.col(cols[0], cols[2]).cast(pl.Categorical)
    scan = store.scan("sched_waits", parquet_root).filter(pl.col("round") == FIRST_RUN)
    keys = ["gomaxprocs", "workload"] if by_workload else ["gomaxprocs"]
    cells = scan.select(keys).unique().drop_nulls().sort(keys).collect()
    for cell in cells.iter_rows(named=True):
        cond = pl.all_horizontal([pl.col(k) == v for k, v in cell.items()])
        yield scan.filter(cond).select(cols).with_columns(strings).collect()


def sections(cfg: config.Config, parquet_root: Path, figures_dir: Path) -> list[Section]:
    first = pl.col("round") == FIRST_RUN
    hist = store.scan("sched_hist", parquet_root).filter(first).collect()
    requests = (
        store.scan("sched_requests", parquet_root).filter(first).collect()
        if (parquet_root / "sched_requests").is_dir()
        else pl.DataFrame(schema=catalog.schema("sched_requests"))
    )
    runs = store.scan("sched_runs", parquet_root).collect()
    order = display_order([*cfg.go.labels, *runs["go"].unique().to_list()], cfg.baseline)
    pairs = cfg.aa_pairs
    bench = (
        store.scan("bench", parquet_root).collect()
        if pairs and (parquet_root / "bench").is_dir()
        else None
    )
    return assemble(
        aggregate(waits_slices(parquet_root, by_workload=True), "wait_ns"),
        hist_against_trace(waits_slices(parquet_root, by_workload=False), hist),
        requests,
        runs,
        order=order,
        baseline=cfg.baseline,
        figures_dir=figures_dir,
        aa_pairs=pairs,
        bench=bench,
    )
