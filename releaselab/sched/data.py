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
from releaselab.core import catalog

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
HIVE = ("go", "gomaxprocs")
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


def _cell_columns(df: pl.DataFrame, go: str, gomaxprocs: int) -> pl.DataFrame:
    return df.with_columns(go=pl.lit(go, pl.String()), gomaxprocs=pl.lit(gomaxprocs, pl.Int64()))


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
    waits: pl.DataFrame, tasks: pl.DataFrame, *, go: str, gomaxprocs: int
) -> pl.DataFrame:
    """traceconv's waits -> sched_waits rows; `window` is the workload running when the wait
    ended (whatever goroutine waited), `workload` the task the goroutine itself belongs to."""
    win = windows(tasks)
    base = waits.with_row_index("_i").sort("end_ns")
    joined = base.join_asof(
        win.sort("hi"), left_on="end_ns", right_on="hi", strategy="forward"
    ).with_columns(window=pl.when(pl.col("end_ns") > pl.col("lo")).then(pl.col("window")))
    out = _cell_columns(joined.sort("_i"), go, gomaxprocs)
    return out.select(
        [pl.col(c).cast(t) for c, t in catalog.schema("sched_waits").items()]
    )  # fmt: skip


def _edges(buckets: Sequence[float | None]) -> list[float]:
    """Bucket boundaries with JSON's null read as -inf (first) or +inf (last)."""
    return [
        (-math.inf if i == 0 else math.inf) if b is None else float(b)
        for i, b in enumerate(buckets)
    ]  # fmt: skip


def hist_frame(report: Mapping[str, Any], *, go: str, gomaxprocs: int) -> pl.DataFrame:
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
    return _cell_columns(df, go, gomaxprocs).select(list(schema))


def requests_frame(requests: pl.DataFrame, *, go: str, gomaxprocs: int) -> pl.DataFrame:
    """The lab's -requests CSV -> sched_requests rows."""
    return _cell_columns(requests, go, gomaxprocs).select(
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


def compare_rows(
    df: pl.DataFrame, value: str, keys: Sequence[str], baseline: str
) -> list[dict[str, Any]]:
    """The rows of compare_to_baseline before the Holm adjustment, one per toolchain and group,
    in (keys..., go) order. A frame holding whole groups gives the same rows whether it is the
    whole dataset or one slice of it, so the report can go slice by slice (table_of_comparisons
    adjusts them together)."""
    rows = []
    data = df.select(*dict.fromkeys([*keys, "go", value])).filter(pl.col(value).is_not_null())
    for key, grp in data.sort([*keys, "go"]).group_by(list(keys), maintain_order=True):
        by_go = {
            str(g): sub[value].to_numpy().astype(np.float64)
            for (g,), sub in grp.group_by(["go"], maintain_order=True)
        }
        base = by_go.get(baseline)
        # scipy.stats is imported where used: it costs ~0.5 s, every sched cell imports this
        from scipy import stats as sps  # noqa: PLC0415

        for g, x in by_go.items():
            if g == baseline or base is None or len(x) == 0 or len(base) == 0:
                continue
            u, p = sps.mannwhitneyu(x, base, alternative="two-sided", method="asymptotic")
            rows.append({
                **dict(zip(keys, key, strict=True)), "go": g, "baseline": baseline,
                "n": len(x), "n_baseline": len(base),
                "p50": float(np.median(x)), "p50_baseline": float(np.median(base)),
                "superiority": float(u) / (len(x) * len(base)),
                "p_value": 1.0 if math.isnan(p) else float(p),
            })  # fmt: skip
    return rows


def table_of_comparisons(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> pl.DataFrame:
    """compare_rows (of one frame or of several slices) as a table, Holm-adjusted over all."""
    if not rows:
        return pl.DataFrame()
    order = [*keys, "go"]
    rows = sorted(rows, key=lambda r: tuple(r[k] for k in order))
    out = pl.DataFrame(rows).with_columns(p50_ratio=pl.col("p50") / pl.col("p50_baseline"))
    adj = stats.holm(out["p_value"].to_numpy().astype(np.float64))
    return out.with_columns(p_adjusted=pl.Series(adj), significant=pl.Series(adj) < ALPHA).sort(
        order
    )


def compare_to_baseline(
    df: pl.DataFrame, value: str, keys: Sequence[str], baseline: str
) -> pl.DataFrame:
    """Each toolchain against `baseline` per group: two-sided Mann-Whitney U, Holm-adjusted over
    every comparison in the frame, with the effect sizes a p-value alone hides.

    p equals stats.mann_whitney_p (benchmath's normal approximation with tie and continuity
    correction) at these sample sizes; scipy also returns U, from which P(X > base) + P(=)/2."""
    return table_of_comparisons(compare_rows(df, value, keys, baseline), keys)


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
    from scipy import stats as sps  # noqa: PLC0415 - see compare_to_baseline

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
