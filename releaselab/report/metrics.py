"""The headline figures of a run for reports/metrics.json (`dvc metrics show/diff`, `dvc exp show`).

Pure: Polars frames in, nested dicts out. DVC flattens nested dicts with dots, so every figure is
a number under a path of names, never in a list; None (nothing to compare) leaves the key out.
Per area, keyed by toolchain label and `gomaxprocs_<n>` where GOMAXPROCS applies:

- bench.<go>.gomaxprocs_<n>.time: `geomean_ns_op` (every toolchain, the baseline too: ns, not
  benchstat's sec/op, as `dvc metrics diff` rounds to 5 decimals); for the
  others `geomean_ratio` (geomean of per-benchmark median time ratios to the baseline: benchstat's
  geomean delta + 1), `ci_low`/`ci_high` (geomeans of each benchmark's 95% interval scaled by the
  baseline's median; only when every benchmark has a finite interval), `regressions` and
  `improvements` (significant after Holm, slower / faster), `benchmarks`.
- bench.<go>.gomaxprocs_<n>.allocs_op / bytes_op: `up`, `down` (benchmarks whose median changed;
  allocation counts are exact) and benchstat's `geomean_ratio` (left out when a zero baseline
  makes it undefined).
- escape_diff.<to_go>.<appears|disappears>: `total` and per kind: diagnostics that changed from
  the previous toolchain (the escape_diff dataset's consecutive pairs).
- sched.<go>.gomaxprocs_<n>.waits.<workload>: `p50_us`, `p99_us` of the scheduling waits;
  sched.<go>.gomaxprocs_<n>.requests.<workload>.p99_us: end-to-end request latency.
- stack.<go>.gomaxprocs_<n>.<godebug>.<scenario>_peak_mib: the largest StackInuse of the
  scenario (`godebug_unset`, or the GODEBUG value of the variant).

Floats are rounded to SIG_DIGITS significant digits, so equal data gives equal bytes and a diff
shows changes, not float noise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import polars as pl

from releaselab.bench import report as bench_report
from releaselab.bench import stats

SIG_DIGITS = 6
TIME_UNIT = bench_report.TIME_UNIT  # the dataset keeps the raw unit (ns/op)
ALLOC_KEYS = {"allocs/op": "allocs_op", "B/op": "bytes_op"}
MIB = 1024 * 1024
US = 1e-3  # ns -> µs
Tree = dict[str, Any]


def num(x: float | None, digits: int = SIG_DIGITS) -> float | None:
    """x rounded to `digits` significant digits; None for None, NaN and infinities."""
    if x is None or not math.isfinite(x):
        return None
    if x == 0:
        return 0.0
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def prune(tree: Mapping[str, Any]) -> Tree:
    """The tree without None values and without subtrees left empty."""
    out: Tree = {}
    for k, v in tree.items():
        value = prune(v) if isinstance(v, Mapping) else v
        if value is None or value == {}:
            continue
        out[k] = value
    return out


def procs_key(n: int) -> str:
    return f"gomaxprocs_{n}"


def _geomean(values: pl.Series) -> float | None:
    """Geometric mean of positive finite values; None if any value is missing or not positive."""
    if values.len() == 0 or values.null_count() or not bool((values > 0).all()):
        return None
    arr = values.cast(pl.Float64).to_numpy()
    if not bool(pl.Series(arr).is_finite().all()):
        return None
    return float(math.exp(sum(math.log(v) for v in arr) / len(arr)))


def _time_ratios(st: pl.DataFrame) -> Tree:
    """go -> gomaxprocs -> the time comparison of every non-baseline toolchain."""
    ratios = bench_report.ratio_frame(st)
    out: Tree = {}
    for (go, procs), grp in ratios.group_by("go", "gomaxprocs", maintain_order=True):
        compared = st.filter(
            (pl.col("go") == go) & (pl.col("gomaxprocs") == procs) & (pl.col("unit") == TIME_UNIT)
        ).filter(pl.col("delta").is_not_null())
        sig = compared.filter(pl.col("significant").fill_null(False))
        full_ci = grp["lo"].null_count() == 0 and grp["hi"].null_count() == 0
        out.setdefault(str(go), {})[procs_key(int(procs))] = {
            "geomean_ratio": num(_geomean(grp["ratio"])),
            "ci_low": num(_geomean(grp["lo"])) if full_ci else None,
            "ci_high": num(_geomean(grp["hi"])) if full_ci else None,
            "regressions": sig.filter(pl.col("delta") > 0).height,
            "improvements": sig.filter(pl.col("delta") < 0).height,
            "benchmarks": grp.height,
        }
    return out


def bench(st: pl.DataFrame) -> Tree:
    """bench.* from bench_stats (benchstat's statistics of every toolchain vs the baseline)."""
    if st.is_empty():
        return {}
    out: Tree = {}
    for (go, procs), grp in st.filter(pl.col("unit") == TIME_UNIT).group_by(
        "go", "gomaxprocs", maintain_order=True
    ):
        center = _geomean(grp["center"])
        cell = out.setdefault(str(go), {}).setdefault(procs_key(int(procs)), {})
        cell["time"] = {"geomean_ns_op": num(center)}
    for go, by_procs in _time_ratios(st).items():
        for procs, figures in by_procs.items():
            out[go][procs]["time"].update(figures)
    for unit, key in ALLOC_KEYS.items():
        part = st.filter(pl.col("unit") == unit)
        if part.is_empty():
            continue
        geo = stats.geomean(part, keys=("gomaxprocs", "unit"))
        compared = part.filter(pl.col("go") != pl.col("baseline"))
        for row in geo.iter_rows(named=True):
            go, procs = str(row["go"]), int(row["gomaxprocs"])
            mine = compared.filter((pl.col("go") == go) & (pl.col("gomaxprocs") == procs))
            if mine.is_empty():
                continue
            delta = row["delta"]
            out.setdefault(go, {}).setdefault(procs_key(procs), {})[key] = {
                "up": mine.filter(pl.col("delta") > 0).height,
                "down": mine.filter(pl.col("delta") < 0).height,
                "geomean_ratio": None if delta is None else num(1 + delta / 100),
            }
    return prune(out)


def escape_diff(df: pl.DataFrame) -> Tree:
    """escape_diff.* : per newer toolchain, diagnostics that appear or disappear, by kind."""
    out: Tree = {}
    kind = pl.coalesce("kind_after", "kind_before").fill_null("unknown")
    counts = (
        df.group_by("to_go", "change", kind.alias("kind")).len().sort("to_go", "change", "kind")
    )
    for row in counts.iter_rows(named=True):
        cell = out.setdefault(str(row["to_go"]), {}).setdefault(str(row["change"]), {"total": 0})
        cell[str(row["kind"])] = int(row["len"])
        cell["total"] += int(row["len"])
    return out


def sched(waits: pl.DataFrame, requests: pl.DataFrame) -> Tree:
    """sched.* from latency summaries (sched.data.latency_summary over go, gomaxprocs, workload):
    waits: p50 and p99 per workload; requests: p99 per workload; in µs."""
    out: Tree = {}
    for what, frame, levels in (("waits", waits, ("p50", "p99")), ("requests", requests, ("p99",))):
        for row in frame.sort("go", "gomaxprocs", "workload").iter_rows(named=True):
            if row["workload"] is None:
                continue
            cell = out.setdefault(str(row["go"]), {}).setdefault(
                procs_key(int(row["gomaxprocs"])), {}
            )
            cell.setdefault(what, {})[str(row["workload"])] = {
                f"{lv}_us": num(None if row[lv] is None else float(row[lv]) * US) for lv in levels
            }
    return prune(out)


def godebug_key(godebug: str | None) -> str:
    return godebug or "godebug_unset"


def stack(df: pl.DataFrame) -> Tree:
    """stack.* : the peak StackInuse of every scenario, per toolchain, GOMAXPROCS and GODEBUG."""
    peaks = (
        df.group_by("go", "gomaxprocs", "godebug", "scenario")
        .agg(peak=pl.col("stack_inuse_bytes").max())
        .sort("go", "gomaxprocs", "godebug", "scenario")
    )
    out: Tree = {}
    for row in peaks.iter_rows(named=True):
        cell = (
            out.setdefault(str(row["go"]), {})
            .setdefault(procs_key(int(row["gomaxprocs"])), {})
            .setdefault(godebug_key(row["godebug"]), {})
        )
        cell[f"{row['scenario']}_peak_mib"] = num(
            None if row["peak"] is None else row["peak"] / MIB
        )
    return prune(out)


def to_json(metrics: Mapping[str, Any]) -> str:
    """The metrics file's text: sorted keys, two-space indent, a final newline."""
    return json.dumps(prune(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n"
