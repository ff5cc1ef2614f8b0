"""Report sections of the bench stage: benchstat-style tables and the ratio-to-baseline chart.

Pure: Polars frames in, render.Section out (plus chart files via figures.render).
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import polars as pl

from releaselab.bench import stats
from releaselab.core import config, labels, store
from releaselab.core.config import LABS_TARGET
from releaselab.report import figures, human
from releaselab.report.render import Row, Section, Table

TIME_UNIT = "ns/op"
SIZE_UNIT = "B/op"
TITLE = "Benchmarks vs the baseline toolchain"
RATIO_TITLE = "Time per op relative to the baseline"
PAD = 1.15  # the ratio axis spans the data and this factor either side (log scale)


def value_text(unit: str, x: float) -> str:
    """A center in human units: ns/op as a duration, B/op as a size, others as Go prints them."""
    if unit == TIME_UNIT:
        return human.duration(x)
    if unit == SIZE_UNIT:
        return human.size(x)
    return stats.go_float(x) if float(x).is_integer() else human.sig(x, 4)


def _cell(row: dict[str, object]) -> str:
    """benchstat's cell: center ± CI, and the change vs base for non-baseline columns: an exact
    unit (never tested) as benchstat prints it, `0.00% (n=2)`; a tested one `~` when not
    significant, and `(not after Holm)` when only the uncorrected p-value is below alpha."""
    unit = str(row["unit"])
    center = float(row["center"])  # type: ignore[arg-type]
    ci = stats.format_ci(center, row["ci_low"], row["ci_high"])  # type: ignore[arg-type]
    text = value_text(unit, center) + ("" if ci == "0%" else f" ± {ci}")
    if row["go"] == row["baseline"]:
        return text
    p = row["p_value"]
    if row["assumption"] == "exact":
        n = stats.format_p(0.0, row["n"], row["n_baseline"])  # type: ignore[arg-type]
        return f"{text} · {stats.format_delta(row['delta'], p)} ({n})"  # type: ignore[arg-type]
    too_few = p is not None and stats.too_few_samples(
        row["n_baseline"],  # type: ignore[arg-type]
        row["n"],  # type: ignore[arg-type]
    )
    delta = stats.format_delta(row["delta"], p, too_few=too_few)  # type: ignore[arg-type]
    sig = "" if row["significant"] or delta == "~" else " (not after Holm)"
    return f"{text} · {delta}{sig}"


def _fold_label(n: int, exact: bool) -> str:
    what = "the same value in every toolchain" if exact else "no significant change after Holm"
    return f"{n} {'row' if n == 1 else 'rows'} with {what}"


def comparison_tables(st: pl.DataFrame, order: list[str]) -> list[Table]:
    """One table per (lab, unit): rows = GOMAXPROCS x benchmark, one column per toolchain. Rows
    where a toolchain differs from the baseline (significant) first, then the geomean, the
    unchanged rows folded."""
    tables = []
    for (lab, unit), grp in st.sort("lab", "unit").group_by("lab", "unit", maintain_order=True):
        gos = [g for g in order if g in set(grp["go"].to_list())]
        changed: list[Row] = []
        same: list[Row] = []
        for (procs, name), cells in grp.sort("gomaxprocs", "name").group_by(
            "gomaxprocs", "name", maintain_order=True
        ):
            by_go = {r["go"]: _cell(r) for r in cells.iter_rows(named=True)}
            row = (procs, name, *(by_go.get(g, "") for g in gos))
            differs = cells.filter(pl.col("go") != pl.col("baseline"))["significant"].any()
            (changed if differs else same).append(row)
        geo_rows: list[Row] = []
        geo = stats.geomean(grp, keys=("gomaxprocs", "unit"))
        for procs, g in geo.sort("gomaxprocs").group_by("gomaxprocs", maintain_order=True):
            vals = {r["go"]: r for r in g.iter_rows(named=True)}
            geo_cells = tuple(
                "" if g_ not in vals or vals[g_]["center"] is None else (
                    value_text(str(unit), vals[g_]["center"]) + (
                        "" if vals[g_]["delta"] is None else f" · {vals[g_]['delta']:+.2f}%"))
                for g_ in gos)  # fmt: skip
            if any(geo_cells):  # a zero center has no geomean (benchstat: summaries must be >0)
                geo_rows.append((procs[0], "geomean", *geo_cells))
        cols = (
            "GOMAXPROCS",
            f"{lab}: {unit}",
            *(f"go {g}" + (" (base)" if g == order[0] else "") for g in gos),
        )
        exact = bool((grp["assumption"] == "exact").all())
        if len(gos) < 2:  # nothing compared: every row is a value to read, none is folded
            tables.append(Table(cols, (*changed, *same, *geo_rows)))
        else:
            tables.append(Table(cols, (*changed, *geo_rows), folded=tuple(same),
                                fold_label=_fold_label(len(same), exact),
                                empty=f"{lab}, {unit}: no benchmark changed."))  # fmt: skip
    return tables


def ratio_frame(st: pl.DataFrame) -> pl.DataFrame:
    """Per benchmark x toolchain x GOMAXPROCS: time ratio to the baseline with the interval
    scaled by the baseline's center (benchstat gives no interval for the ratio itself)."""
    base = st.filter(pl.col("go") == pl.col("baseline")).select(
        "gomaxprocs", "lab", "package", "name", "unit", b=pl.col("center")
    )
    return (
        st.filter((pl.col("go") != pl.col("baseline")) & (pl.col("unit") == TIME_UNIT))
        .join(base, on=["gomaxprocs", "lab", "package", "name", "unit"])
        .filter(pl.col("b") > 0)
        .select("go", "gomaxprocs", "lab", "name", "significant",
                ratio=pl.col("center") / pl.col("b"), lo=pl.col("ci_low") / pl.col("b"),
                hi=pl.col("ci_high") / pl.col("b"))
        .with_columns(
            # an infinite (too few samples) or non-positive interval has no bar on a log axis
            lo=pl.when(pl.col("lo").is_finite() & (pl.col("lo") > 0)).then("lo"),
            hi=pl.when(pl.col("hi").is_finite() & (pl.col("hi") > 0)).then("hi"),
            benchmark=pl.col("lab") + ": " + pl.col("name"),
        )
        .sort("gomaxprocs", "benchmark", "go")
    )  # fmt: skip


def ratio_domain(df: pl.DataFrame, pad: float = PAD) -> tuple[float, float]:
    """The log axis of the ratio chart: every ratio and interval end, and 1 (no change), padded
    by `pad` either side; not Vega's nice powers of ten (0.1..10 for ratios of 0.5..2)."""
    vals = pl.concat([df["ratio"], df["lo"], df["hi"]]).drop_nulls()
    vals = vals.filter(vals.is_finite() & (vals > 0))
    lo = min(1.0, float(vals.min())) if vals.len() else 1.0  # type: ignore[arg-type]
    hi = max(1.0, float(vals.max())) if vals.len() else 1.0  # type: ignore[arg-type]
    return lo / pad, hi * pad


def ratio_chart(df: pl.DataFrame) -> alt.FacetChart:
    lo, hi = ratio_domain(df)
    scale = alt.Scale(type="log", domain=[lo, hi], nice=False)
    base = alt.Chart(df).encode(
        y=alt.Y("benchmark:N", title=None, sort=None, axis=alt.Axis(labelLimit=400)),
        color=alt.Color("go:N", title="toolchain"),
        yOffset="go:N",
    )
    rule = base.mark_rule().encode(
        x=alt.X("lo:Q", scale=scale, title="time/op ÷ baseline (log)",
                axis=alt.Axis(format="~g", tickCount=6)), x2="hi:Q"
    )  # fmt: skip
    dots = base.mark_point(filled=True).encode(
        x=alt.X("ratio:Q", scale=scale),
        shape=alt.Shape("significant:N", title="significant (Holm)"),
        tooltip=["benchmark", "go", "ratio", "lo", "hi"])  # fmt: skip
    one = alt.Chart(df).mark_rule(strokeDash=[4, 4], color="gray").encode(x=alt.datum(1))
    layered = (rule + dots + one).properties(width=320)
    chart: alt.FacetChart = layered.facet(column=alt.Column("gomaxprocs:N", title="GOMAXPROCS"))
    return chart


def aa_text(bench: pl.DataFrame, pairs: list[tuple[str, str]]) -> str:
    """The measured false-positive rate of each A/A pair, in words."""
    out = []
    for a, b in pairs:
        aa = stats.aa_false_positive_rate(bench.filter(pl.col("go").is_in([a, b])), a, b)
        if aa.n_comparisons:
            out.append(
                f"A/A {a} vs {b} (one toolchain under two labels): {aa.n_significant_raw}/"
                f"{aa.n_comparisons} comparisons significant before correction ({aa.rate:.1%}; "
                f"alpha {stats.ALPHA}), {aa.n_significant_adjusted} after Holm: the "
                "false-positive rate of this machine."
            )
    return " ".join(out)


def sections(cfg: config.Config, parquet_root: Path, figures_dir: Path) -> list[Section]:
    st = store.scan("bench_stats", parquet_root).filter(pl.col("target") == LABS_TARGET).collect()
    if st.is_empty():
        return [Section(TITLE, lead="No benchmark results.")]
    baseline = st["baseline"][0]
    order = labels.display_order(st["go"].to_list(), baseline)
    pairs = cfg.aa_pairs
    ratios = ratio_frame(st)
    figs = (
        (figures.render(ratio_chart(ratios), figures_dir, "bench_ratio"),) if ratios.height else ()
    )
    warn = sorted(set(st["warnings"].explode().drop_nulls().to_list()))
    alone = len(order) < 2
    lead = (
        "One table per lab and unit: a row per benchmark and GOMAXPROCS, a column per toolchain "
        "with its median ± the 95% interval and, for the others, its change against the "
        f"baseline go {baseline}. "
        + (f"Only go {baseline} ran, so there is nothing to compare: the tables hold its medians."
           if alone else
           "Rows where a toolchain differs (time: significant after Holm; allocations: any "
           "change of the exact counts) come first, then the geomean; the unchanged rows are "
           "folded under each table.")
    )  # fmt: skip
    text = (
        f"benchstat's method (median, 95% order-statistic interval, two-sided Mann-Whitney U, "
        f"alpha {stats.ALPHA}); every toolchain against the baseline go {baseline}, "
        "significance after Holm-Bonferroni over all comparisons. allocs/op and B/op are exact "
        "units, never tested: a change is any difference of the medians, printed as benchstat "
        "does (`-37.50% (n=2)`). Cells: center ± interval · delta vs baseline (~: not "
        "significant; `not after Holm`: p below alpha before the correction only). Reproduce "
        "with `benchstat -col go -ignore round,order data/raw/bench/bench.txt`."
    )
    notes = tuple(f"warning: {w}" for w in warn)
    labs = store.scan("bench", parquet_root).filter(pl.col("target") == LABS_TARGET)
    aa = aa_text(labs.collect(), pairs) if pairs else ""
    ratio_lead = (
        "Each point is a benchmark's median time/op under one toolchain divided by the "
        "baseline's, the bar its 95% interval scaled the same way: left of the dashed line "
        "at 1 is faster, right is slower; filled shapes tell significant (after Holm) from not."
        if figs else
        f"Nothing to draw: only the baseline go {baseline} ran, so there is no ratio."
    )  # fmt: skip
    return [
        Section(TITLE, lead=lead, text=text + (" " + aa if aa else ""),
                tables=tuple(comparison_tables(st, order)), notes=notes),
        Section(RATIO_TITLE, figures=figs, lead=ratio_lead,
                text="The axis is logarithmic and spans the ratios and intervals drawn; an "
                     "interval that is infinite (too few samples) has no bar." if figs else ""),
    ]  # fmt: skip
