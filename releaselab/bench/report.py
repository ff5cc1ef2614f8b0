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
from releaselab.report import figures
from releaselab.report.render import Section, Table

TIME_UNIT = "ns/op"


def _cell(row: dict[str, object]) -> str:
    """benchstat's cell: center ± CI, and the delta vs base (or ~) for non-baseline columns."""
    center = float(row["center"])  # type: ignore[arg-type]
    lo, hi = row["ci_low"], row["ci_high"]
    text = f"{stats.go_float(center)} ± {stats.format_ci(center, lo, hi)}"  # type: ignore[arg-type]
    if row["go"] == row["baseline"]:
        return text
    p = row["p_value"]
    too_few = (
        p is not None
        and row["assumption"] != "exact"
        and stats.too_few_samples(
            row["n_baseline"],  # type: ignore[arg-type]
            row["n"],  # type: ignore[arg-type]
        )
    )
    delta = stats.format_delta(row["delta"], p, too_few=too_few)  # type: ignore[arg-type]
    sig = "" if row["significant"] or delta == "~" else " (not after Holm)"
    return f"{text} · {delta}{sig}"


def comparison_tables(st: pl.DataFrame, order: list[str]) -> list[Table]:
    """One table per (lab, unit): rows = GOMAXPROCS x benchmark, one column per toolchain."""
    tables = []
    for (lab, unit), grp in st.sort("lab", "unit").group_by("lab", "unit", maintain_order=True):
        gos = [g for g in order if g in set(grp["go"].to_list())]
        rows = []
        for (procs, name), cells in grp.sort("gomaxprocs", "name").group_by(
            "gomaxprocs", "name", maintain_order=True
        ):
            by_go = {r["go"]: _cell(r) for r in cells.iter_rows(named=True)}
            rows.append((procs, name, *(by_go.get(g, "") for g in gos)))
        geo = stats.geomean(grp, keys=("gomaxprocs", "unit"))
        for procs, g in geo.sort("gomaxprocs").group_by("gomaxprocs", maintain_order=True):
            vals = {r["go"]: r for r in g.iter_rows(named=True)}
            rows.append((procs[0], "geomean", *(
                "" if g_ not in vals or vals[g_]["center"] is None else (
                    stats.go_float(vals[g_]["center"]) + (
                        "" if vals[g_]["delta"] is None else f" · {vals[g_]['delta']:+.2f}%"))
                for g_ in gos)))  # fmt: skip
        cols = (
            "GOMAXPROCS",
            f"{lab}: {unit}",
            *(f"go {g}" + (" (base)" if g == order[0] else "") for g in gos),
        )
        tables.append(Table(cols, tuple(rows)))
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


def ratio_chart(df: pl.DataFrame) -> alt.FacetChart:
    base = alt.Chart(df).encode(
        y=alt.Y("benchmark:N", title=None, sort=None, axis=alt.Axis(labelLimit=400)),
        color=alt.Color("go:N", title="toolchain"),
        yOffset="go:N",
    )
    rule = base.mark_rule().encode(
        x=alt.X("lo:Q", scale=alt.Scale(type="log"), title="time/op ÷ baseline"), x2="hi:Q"
    )
    dots = base.mark_point(filled=True).encode(
        x="ratio:Q", shape=alt.Shape("significant:N", title="significant (Holm)"),
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
        return [Section("Benchmarks", text="No benchmark results.")]
    baseline = st["baseline"][0]
    order = labels.display_order(st["go"].to_list(), baseline)
    pairs = cfg.aa_pairs
    ratios = ratio_frame(st)
    figs = (
        (figures.render(ratio_chart(ratios), figures_dir, "bench_ratio"),) if ratios.height else ()
    )
    warn = sorted(set(st["warnings"].explode().drop_nulls().to_list()))
    text = (
        f"benchstat's method (median, 95% order-statistic interval, two-sided Mann-Whitney U, "
        f"alpha {stats.ALPHA}); every toolchain against the baseline go {baseline}, "
        "significance after Holm-Bonferroni over all comparisons. allocs/op and B/op are exact "
        "units. Cells: center ± interval · delta vs baseline (~: not significant). Reproduce "
        "with `benchstat -col go -ignore round,order data/raw/bench/bench.txt`."
    )
    notes = tuple(f"warning: {w}" for w in warn)
    labs = store.scan("bench", parquet_root).filter(pl.col("target") == LABS_TARGET)
    aa = aa_text(labs.collect(), pairs) if pairs else ""
    return [
        Section("Benchmarks vs the baseline toolchain", text=text + (" " + aa if aa else ""),
                tables=tuple(comparison_tables(st, order)), notes=notes),
        Section("Time per op relative to the baseline", figures=figs,
                text="Each point is a benchmark's median time/op divided by the baseline's, the "
                     "bar its confidence interval scaled the same way (log scale; 1 = no change)."),
    ]  # fmt: skip
