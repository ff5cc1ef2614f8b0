"""Pure transforms and statistics of the schedule-forensics lab: traceconv tables, runtime/metrics
histograms and request latencies in; the sched_* datasets, latency summaries, ECDF points,
cross-toolchain tests and the histogram-vs-trace comparison out. Data in, data out; no paths.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from releaselab.bench import stats
from releaselab.core import catalog, hosts

LATENCY_METRIC = "/sched/latencies:seconds"
# The runtime tracks one goroutine transition in gTrackingPeriod (8) for /sched/latencies.
SAMPLING_PERIOD = 8
LEVELS = (0.5, 0.9, 0.99, 0.999)
LEVEL_NAMES = ("p50", "p90", "p99", "p99.9")
QUANTILE_METHOD: Literal["linear"] = "linear"  # numpy's default (Hyndman-Fan 7)
# ECDF points: every percentile, then the tail, so a line has ~100 points whatever n is.
# The max (level 1) is left out: one outlier would set every panel's x range (tables have it).
ECDF_LEVELS = (*(i / 100 for i in range(100)), 0.995, 0.999)
ALPHA = stats.ALPHA
HIVE = ("host", "go", "gomaxprocs", "round", "order")  # the columns every row of a run carries
# The per-run statistics a comparison of toolchains tests, for waits and for requests.
COMPARED = ("p50", "p99")
CONFIDENCE = 0.95
# The histogram's first bucket, [0, 64 ns): where tracked round trips that skip Runnable land
# (Running -> Syscall -> Running up to Go 1.25; Running -> Waiting -> Running of GC work).
ROUND_TRIP_S = 64e-9

# traceconv's waits.csv and tasks.csv (see runtime-foundations/tools/traceconv/README.md).
WAITS_CSV: dict[str, pl.DataType] = {
    "goroutine": pl.Int64(),
    "reason": pl.String(),
    "detail": pl.String(),
    "waker": pl.Int64(),
    "task_id": pl.Int64(),
    "workload": pl.String(),
    "task_source": pl.String(),
    "proc": pl.Int64(),
    "start_ns": pl.Int64(),
    "end_ns": pl.Int64(),
    "wait_ns": pl.Int64(),
}
TASKS_CSV: dict[str, pl.DataType] = {
    "task_id": pl.Int64(),
    "parent_id": pl.Int64(),
    "name": pl.String(),
    "start_goroutine": pl.Int64(),
    "end_goroutine": pl.Int64(),
    "start_ns": pl.Int64(),
    "end_ns": pl.Int64(),
}
REQUESTS_CSV: dict[str, pl.DataType] = {
    "workload": pl.String(),
    "request_id": pl.Int64(),
    "start_ns": pl.Int64(),
    "latency_ns": pl.Int64(),
}

# `go tool trace -d=parsed` (Go 1.24+): "M=.. P=.. G=.. StateTransition Time=T ... GoID=G
# Runnable->Running" (last on the line in 1.24/1.25, before " Reason=" in 1.26+).
PARSED_WAIT = re.compile(
    r"^M=\S+ P=\S+ G=\S+ StateTransition Time=(\d{1,19}) "
    r".*\bGoID=(\d{1,19}) Runnable->Running(?: |$)"
)


def _cell_columns(
    df: pl.DataFrame, go: str, gomaxprocs: int, rnd: int, order: int, *, host: str | None
) -> pl.DataFrame:
    return df.with_columns(
        host=pl.lit(host or hosts.label(), pl.String()),  # None: measured on this machine
        go=pl.lit(go, pl.String()),
        gomaxprocs=pl.lit(gomaxprocs, pl.Int64()),
        round=pl.lit(rnd, pl.Int64()),
        order=pl.lit(order, pl.Int64()),
    )


def windows(tasks: pl.DataFrame) -> pl.DataFrame:
    """Each workload's window on the trace clock: from the previous task's end (the first: its
    own start) to its own end, the span its runtime/metrics snapshot delta covers."""
    t = tasks.filter(pl.col("parent_id").is_null()).sort("start_ns")
    return t.select(
        window=pl.col("name"),
        lo=pl.col("end_ns").shift(1).fill_null(pl.col("start_ns").first()),
        hi=pl.col("end_ns"),
    )


def waits_frame(
    waits: pl.DataFrame,
    tasks: pl.DataFrame,
    *,
    go: str,
    gomaxprocs: int,
    rnd: int = 1,
    order: int = 1,
    host: str | None = None,
) -> pl.DataFrame:
    """traceconv's waits -> sched_waits rows; `window` is the workload running when the wait
    ended (whatever goroutine waited), `workload` the task the goroutine itself belongs to."""
    win = windows(tasks)
    base = waits.with_row_index("_i").sort("end_ns")
    joined = base.join_asof(
        win.sort("hi"), left_on="end_ns", right_on="hi", strategy="forward"
    ).with_columns(window=pl.when(pl.col("end_ns") > pl.col("lo")).then(pl.col("window")))
    out = _cell_columns(joined.sort("_i"), go, gomaxprocs, rnd, order, host=host)
    return out.select(
        [pl.col(c).cast(t) for c, t in catalog.schema("sched_waits").items()]
    )  # fmt: skip


def _edges(buckets: Sequence[float | None]) -> list[float]:
    """Bucket boundaries with JSON's null read as -inf (first) or +inf (last)."""
    return [
        (-math.inf if i == 0 else math.inf) if b is None else float(b)
        for i, b in enumerate(buckets)
    ]  # fmt: skip


def hist_frame(
    report: Mapping[str, Any],
    *,
    go: str,
    gomaxprocs: int,
    rnd: int = 1,
    order: int = 1,
    host: str | None = None,
) -> pl.DataFrame:
    """Every histogram of the lab's -metrics JSON -> sched_hist rows: one per bucket per
    workload, counting what happened during that workload (its snapshot's delta)."""
    rows: list[dict[str, object]] = []
    prev: dict[str, list[int]] = {}
    for snap in report["snapshots"]:
        for m in snap["metrics"]:
            if m.get("kind") != "histogram":
                continue
            h = m["histogram"]
            counts = [int(c) for c in h["counts"]]
            before = prev.get(m["name"], [0] * len(counts))
            delta = h.get("delta") or [c - b for c, b in zip(counts, before, strict=True)]
            prev[m["name"]] = counts
            if snap["label"] == "start":
                continue  # process start-up, before any workload
            edges = _edges(h["buckets"])
            rows += [
                {"workload": snap["label"], "metric": m["name"], "bucket": i,
                 "lo": edges[i], "hi": edges[i + 1], "count": int(d)}
                for i, d in enumerate(delta)
            ]  # fmt: skip
    schema = catalog.schema("sched_hist")
    df = pl.DataFrame(rows, schema={k: v for k, v in schema.items() if k not in HIVE})
    return _cell_columns(df, go, gomaxprocs, rnd, order, host=host).select(list(schema))


def requests_frame(
    requests: pl.DataFrame,
    *,
    go: str,
    gomaxprocs: int,
    rnd: int = 1,
    order: int = 1,
    host: str | None = None,
) -> pl.DataFrame:
    """The lab's -requests CSV -> sched_requests rows."""
    return _cell_columns(requests, go, gomaxprocs, rnd, order, host=host).select(
        [pl.col(c).cast(t) for c, t in catalog.schema("sched_requests").items()]
    )


def parsed_waits(lines: Iterable[str]) -> list[tuple[int, int]]:
    """(goroutine, trace time) of every Runnable -> Running line of `go tool trace -d=parsed`."""
    out = []
    for line in lines:
        if "Runnable->Running" in line and (m := PARSED_WAIT.match(line)):
            out.append((int(m.group(2)), int(m.group(1))))
    return out


# --- summaries ---------------------------------------------------------------------------------


def latency_summary(df: pl.DataFrame, value: str, keys: Sequence[str]) -> pl.DataFrame:
    """count, p50, p90, p99, p99.9 and max of `value` per group (nulls, i.e. unknown, dropped)."""
    v = pl.col(value)
    return (
        df.filter(v.is_not_null())
        .group_by(keys)
        .agg(
            count=pl.len(),
            **{n: v.quantile(q, QUANTILE_METHOD) for n, q in zip(LEVEL_NAMES, LEVELS, strict=True)},
            max=v.max().cast(pl.Float64),
        )
        .sort(keys)
    )


def ecdf_points(
    df: pl.DataFrame, value: str, keys: Sequence[str], levels: Sequence[float] = ECDF_LEVELS
) -> pl.DataFrame:
    """The ECDF of `value` per group at fixed probability levels: (keys..., level, value).

    A chart of these is a few hundred rows whatever the sample size (figures.render refuses
    raw samples)."""
    v = pl.col(value)
    wide = (
        df.select(*keys, value)
        .filter(v.is_not_null())
        .group_by(keys)
        .agg([v.quantile(q, QUANTILE_METHOD).alias(f"{i:04d}") for i, q in enumerate(levels)])
    )
    long = wide.unpivot(index=list(keys), variable_name="_i", value_name=value)
    lv = pl.DataFrame(
        {"_i": [f"{i:04d}" for i in range(len(levels))], "level": list(levels)},
        schema={"_i": pl.String(), "level": pl.Float64()},
    )
    return long.join(lv, on="_i").select(*keys, "level", value).sort(*keys, "level")


def run_summary(waits: pl.DataFrame, requests: pl.DataFrame, *, seed: int) -> pl.DataFrame:
    """sched_runs rows of one or more runs: count and quantiles per run and workload of the
    waits of the workload's own goroutines (what = wait) and of the requests (what = request).

    waits and requests carry host, go, gomaxprocs, round and order (sched_waits, sched_requests)."""
    run = ["host", "go", "gomaxprocs", "round", "order"]
    parts = [
        latency_summary(waits.filter(pl.col("workload").is_not_null()), "wait_ns",
                        [*run, "workload"]).with_columns(what=pl.lit("wait")),
        latency_summary(requests, "latency_ns", [*run, "workload"]).with_columns(
            what=pl.lit("request")),
    ]  # fmt: skip
    schema = catalog.schema("sched_runs")
    return (
        pl.concat(parts, how="diagonal_relaxed")
        .rename({"p99.9": "p999"})
        .with_columns(seed=pl.lit(seed))
        .select([pl.col(c).cast(t) for c, t in schema.items()])
    )


def _u_null_cdf(m: int, n: int) -> npt.NDArray[np.float64]:
    """P(U <= u), u = 0..m*n, of the Mann-Whitney U of samples of m and n without ties."""
    # ways[j][u]: arrangements of i x-values and j y-values with U = u, built up over i
    ways = [np.zeros(m * n + 1) for _ in range(n + 1)]
    for j in range(n + 1):
        ways[j][0] = 1.0
    for _ in range(m):
        new = [np.zeros(m * n + 1) for _ in range(n + 1)]
        new[0][0] = 1.0
        for j in range(1, n + 1):
            shifted = np.zeros(m * n + 1)
            shifted[j:] = ways[j][: m * n + 1 - j]  # the new x is above all j y-values
            new[j] = new[j - 1] + shifted
        ways = new
    counts = ways[n]
    cdf: npt.NDArray[np.float64] = np.cumsum(counts) / counts.sum()
    return cdf


def ratio_interval(
    x: Sequence[float], base: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """(estimate, low, high) of the ratio x / base: the median of all pairwise ratios
    (Hodges-Lehmann on the log scale) and the distribution-free interval that inverts the
    two-sided Mann-Whitney test (order statistics of the pairwise ratios picked from U's exact
    null distribution); the ends are the smallest and largest ratio when the samples are too
    small for the level. NaN when a baseline value is not positive."""
    b = np.asarray(base, dtype=np.float64)
    a = np.asarray(x, dtype=np.float64)
    if a.size == 0 or b.size == 0 or (b <= 0).any():
        return math.nan, math.nan, math.nan
    r = np.sort((a[:, None] / b[None, :]).ravel())
    cdf = _u_null_cdf(a.size, b.size)
    # c: the largest count with P(U <= c - 1) <= alpha/2; the interval is [r_(c), r_(mn+1-c)]
    c = int(np.searchsorted(cdf, (1 - confidence) / 2, side="right"))
    c = max(c, 1)
    return float(np.median(r)), float(r[c - 1]), float(r[r.size - c])


def compare_runs(
    runs: pl.DataFrame,
    baseline: str,
    *,
    statistics: Sequence[str] = COMPARED,
    keys: Sequence[str] = ("what", "workload", "gomaxprocs"),
) -> list[dict[str, Any]]:
    """Each toolchain against `baseline` on the per-run statistics of sched_runs, per group of
    keys and statistic: k runs against k runs. p is benchstat's two-sided Mann-Whitney U
    (stats.mann_whitney_p, exact at these sizes); the ratio and its interval are those of
    ratio_interval. Rows before the Holm adjustment (table_of_runs adjusts a family)."""
    rows: list[dict[str, Any]] = []
    data = runs.sort([*keys, "go", "round"])
    for key, grp in data.group_by(list(keys), maintain_order=True):
        by_go = {str(g): sub for (g,), sub in grp.group_by(["go"], maintain_order=True)}
        base = by_go.get(baseline)
        if base is None:
            continue
        for g, sub in by_go.items():
            if g == baseline:
                continue
            for st in statistics:
                x = sub[st].drop_nulls().to_list()
                b = base[st].drop_nulls().to_list()
                if not x or not b:
                    continue
                est, lo, hi = ratio_interval(x, b)
                rows.append({
                    **dict(zip(keys, key, strict=True)), "statistic": st, "go": g,
                    "baseline": baseline, "runs": len(x), "runs_baseline": len(b),
                    "value": float(np.median(x)), "value_baseline": float(np.median(b)),
                    "ratio": est, "ratio_low": lo, "ratio_high": hi,
                    "p_value": stats.mann_whitney_p(x, b),
                })  # fmt: skip
    return rows


def table_of_runs(rows: Sequence[Mapping[str, Any]], alpha: float = ALPHA) -> pl.DataFrame:
    """compare_runs rows as a table, Holm-adjusted over all of them (one family)."""
    if not rows:
        return pl.DataFrame()
    out = pl.DataFrame(list(rows))
    adj = stats.holm(out["p_value"].to_numpy().astype(np.float64))
    return out.with_columns(
        raw_significant=pl.col("p_value") <= alpha,
        p_adjusted=pl.Series(adj),
        significant=pl.Series(adj) < alpha,
    )


def aa_counts(table: pl.DataFrame, label_a: str, label_b: str) -> tuple[int, int, int]:
    """(comparisons, significant before correction, after Holm) of label_b against label_a."""
    if table.is_empty():
        return 0, 0, 0
    t = table.filter((pl.col("go") == label_b) & (pl.col("baseline") == label_a))
    return t.height, int(t["raw_significant"].sum()), int(t["significant"].sum())


# --- the runtime/metrics histogram against the trace ------------------------------------------


def bin_counts(
    values_ns: npt.NDArray[np.float64], edges_s: Sequence[float]
) -> npt.NDArray[np.int64]:
    """Counts of values (ns) in the histogram's buckets [edges[i], edges[i+1]) (seconds)."""
    e = np.asarray(edges_s, dtype=np.float64) * 1e9
    idx = np.searchsorted(e, values_ns, side="right") - 1
    idx = np.clip(idx, 0, len(e) - 2)
    return np.bincount(idx, minlength=len(e) - 1).astype(np.int64)


def bucket_index(counts: npt.NDArray[np.int64], q: float) -> int | None:
    """The index of the bucket holding quantile q, None when there are no counts."""
    total = int(counts.sum())
    if total == 0:
        return None
    return min(int(np.searchsorted(np.cumsum(counts), q * total, side="left")), len(counts) - 1)


def bucket_quantile(counts: npt.NDArray[np.int64], hi: Sequence[float], q: float) -> float:
    """The upper edge of the bucket holding quantile q (what the histogram alone can say)."""
    i = bucket_index(counts, q)
    return math.nan if i is None else float(hi[i])


def _gof(sample: npt.NDArray[np.int64], population: npt.NDArray[np.int64]) -> tuple[float, int]:
    """Chi-square test that `sample` is a random subset of `population` (both binned alike).

    Adjacent buckets merge until each expects >= 5; the statistic is divided by (1 - f), the
    finite-population correction for a sample that is the fraction f of the population."""
    n, total = int(sample.sum()), int(population.sum())
    if n == 0 or total == 0:
        return math.nan, 0
    expected = population / total * n
    obs_m, exp_m, o, e = [], [], 0.0, 0.0
    for ob, ex in zip(sample, expected, strict=True):
        o, e = o + ob, e + ex
        if e >= 5:
            obs_m.append(o)
            exp_m.append(e)
            o = e = 0.0
    if exp_m and e > 0:
        obs_m[-1] += o
        exp_m[-1] += e
    if len(exp_m) < 2:
        return math.nan, len(exp_m)
    f = min(n / total, 0.99)
    chi2 = sum((a - b) ** 2 / b for a, b in zip(obs_m, exp_m, strict=True)) / (1 - f)
    from scipy import stats as sps  # noqa: PLC0415 - ~0.5 s to import; only the report uses it

    return float(sps.chi2.sf(chi2, len(exp_m) - 1)), len(exp_m)


def hist_vs_trace(
    waits: pl.DataFrame, hist: pl.DataFrame, *, floor_s: float = ROUND_TRIP_S
) -> pl.DataFrame:
    """hist_vs_trace_rows as a table."""
    rows = hist_vs_trace_rows(waits, hist, floor_s=floor_s)
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def hist_vs_trace_rows(
    waits: pl.DataFrame, hist: pl.DataFrame, *, floor_s: float = ROUND_TRIP_S
) -> list[dict[str, object]]:
    """/sched/latencies:seconds of each workload window against the trace's waits that ended in
    the same window, binned with the histogram's own edges.

    Buckets below floor_s are split off first: there the runtime records 0 s for tracked
    transitions that never pass through Runnable (n_hist_zero), which the trace has no wait
    for. On the rest: n_ratio ~ 1/8 is the runtime's sampling; ks the largest gap between the
    two binned CDFs; p50/p90/p99 bucket upper edges (seconds) of each, p50_shift how many
    buckets the histogram's p50 is above the trace's; gof_p the chi-square test of _gof.

    One row per (go, gomaxprocs, workload) of `hist`: waits and hist may be slices (say one
    GOMAXPROCS) as long as the waits hold every wait of the hist's windows."""
    h = hist.filter(pl.col("metric") == LATENCY_METRIC)
    # one pass over the waits (a filter per window would rescan all of them: 168 x 10^7 rows
    # on go=all x 4 GOMAXPROCS)
    empty = pl.Series("wait_ns", [], pl.Int64)
    cells = {
        key: grp["wait_ns"].drop_nulls()
        for key, grp in waits.select("go", "gomaxprocs", "window", "wait_ns").group_by(
            "go", "gomaxprocs", "window"
        )
    }
    rows = []
    for (go, procs, window), grp in h.sort("go", "gomaxprocs", "workload", "bucket").group_by(
        "go", "gomaxprocs", "workload", maintain_order=True
    ):
        edges = [*grp["lo"].to_list(), grp["hi"][-1]]
        w = cells.get((go, procs, window), empty)
        keep = (grp["lo"] >= floor_s).to_numpy()
        all_hist = grp["count"].to_numpy().astype(np.int64)
        hist_counts = all_hist[keep]
        trace_counts = bin_counts(w.to_numpy().astype(np.float64), edges)[keep]
        hi = [x for x, k in zip(grp["hi"].to_list(), keep, strict=True) if k]
        n_h, n_t = int(hist_counts.sum()), int(trace_counts.sum())
        row: dict[str, object] = {
            "go": go, "gomaxprocs": procs, "workload": window,
            "n_hist_zero": int(all_hist[~keep].sum()), "n_trace": n_t, "n_hist": n_h,
            "n_ratio": n_h / n_t if n_t else math.nan,
        }  # fmt: skip
        if n_h and n_t:
            cdf_h, cdf_t = np.cumsum(hist_counts) / n_h, np.cumsum(trace_counts) / n_t
            row["ks"] = float(np.max(np.abs(cdf_h - cdf_t)))
        else:
            row["ks"] = math.nan
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
            row[f"{name}_trace"] = bucket_quantile(trace_counts, hi, q)
            row[f"{name}_hist"] = bucket_quantile(hist_counts, hi, q)
        a, b = bucket_index(hist_counts, 0.5), bucket_index(trace_counts, 0.5)
        row["p50_shift"] = None if a is None or b is None else a - b  # buckets, hist - trace
        row["gof_p"], row["gof_bins"] = _gof(hist_counts, trace_counts)
        rows.append(row)
    return rows
