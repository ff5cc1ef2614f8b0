"""Report sections of the stack-growth lab: StackInuse over time, peak/final per phase, overhead.

Everything but `sections` is pure: Polars frames in, frames or render.Section out. `sections`
reads the `stack` dataset and the lab's overhead JSON kept beside it in data/raw/stack/.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

from releaselab.core import config, store
from releaselab.core.labels import display_order
from releaselab.report import figures
from releaselab.report.render import Section, Table

MIB = 1024 * 1024
KIB = 1024
RUN = ("go", "gomaxprocs", "round", "godebug")  # one run of the lab (one process)
CELL = ("go", "gomaxprocs", "godebug")  # one overhead measurement (round 1 of a cell)
PHASE = ("scenario", "phase")
SCENARIOS = ("deep", "wave", "release", "churn")  # charted, in run order; `setup` is table-only
CHART_ROWS = 4_000  # line rows after bucketing: under Altair's 5,000-row guard with the bands
FIGURE = "stack_inuse"
TITLE = "Stack growth: StackInuse over time"
PEAK_TITLE = "Stack growth: peak and final StackInuse per phase"
OVERHEAD_TITLE = "Stack growth: sampler overhead"


def variant_label(godebug: str) -> str:
    """A GODEBUG value for a legend titled GODEBUG."""
    return godebug or "unset"


def godebug_text(godebug: str) -> str:
    """A GODEBUG value in running text or a column name."""
    return f"GODEBUG={godebug}" if godebug else "GODEBUG unset"


def baseline_of(gos: Iterable[str], baseline: str | None) -> str:
    """The toolchain the others are compared with: `baseline` when it has runs here, else the
    first in display order (the tables name it in their `vs` column)."""
    present = set(gos)
    return baseline if baseline in present else display_order(present)[0]


def with_phases(df: pl.DataFrame) -> pl.DataFrame:
    """Add phase_order, phase_start_ns and scenario_start_ns to every row of every run.

    A phase starts where the previous phase's boundary row is (the run's start for the first).
    """
    bounds = (
        df.filter(pl.col("kind") == "boundary")
        .sort([*RUN, "t_ns"])
        .select(
            *RUN,
            *PHASE,
            phase_order=pl.int_range(pl.len()).over(RUN),
            phase_start_ns=pl.col("t_ns").shift(1, fill_value=0).over(RUN),
            phase_end_ns=pl.col("t_ns"),
        )
        .with_columns(scenario_start_ns=pl.col("phase_start_ns").min().over([*RUN, "scenario"]))
    )
    return df.join(bounds, on=[*RUN, *PHASE], how="left")


def phase_table(df: pl.DataFrame) -> pl.DataFrame:
    """One row per run and phase: peak (samples and boundary) and final (boundary) StackInuse."""
    peaks = df.group_by([*RUN, *PHASE]).agg(peak_bytes=pl.col("stack_inuse_bytes").max())
    finals = df.filter(pl.col("kind") == "boundary").select(
        *RUN,
        *PHASE,
        final_bytes=pl.col("stack_inuse_bytes"),
        final_memstats_bytes=pl.col("memstats_stack_inuse"),
        final_starting_size_bytes=pl.col("starting_size_bytes"),
    )
    order = (
        with_phases(df.filter(pl.col("kind") == "boundary"))
        .group_by(PHASE)
        .agg(phase_order=pl.col("phase_order").min())
    )
    out = peaks.join(finals, on=[*RUN, *PHASE], how="left").join(order, on=PHASE, how="left")
    go_rank = {g: i for i, g in enumerate(display_order(out["go"]))}
    return out.with_columns(go_rank=pl.col("go").replace_strict(go_rank)).sort(
        "gomaxprocs", "phase_order", "go_rank", "godebug"
    )


def _mib(value: float | None) -> str:
    return "" if value is None else f"{value / MIB:.2f}"


def _spread(values: Sequence[int]) -> str:
    """median [min-max] over runs, MiB (one run: its value)."""
    if not values:
        return ""
    v = sorted(values)
    mid = (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2
    return _mib(mid) if v[0] == v[-1] else f"{_mib(mid)} [{_mib(v[0])}-{_mib(v[-1])}]"


def run_ranges(phases: pl.DataFrame) -> pl.DataFrame:
    """Per GOMAXPROCS, phase, toolchain and GODEBUG: runs, and the min, median and max over runs
    of peak and final StackInuse."""
    return phases.group_by("gomaxprocs", *PHASE, "go", "godebug").agg(
        runs=pl.len(),
        phase_order=pl.col("phase_order").first(),
        **{f"{q}_{f}": getattr(pl.col(q), f)() for q in ("peak_bytes", "final_bytes")
           for f in ("min", "median", "max")},
        peak_values=pl.col("peak_bytes").sort(),
        final_values=pl.col("final_bytes").sort(),
    )  # fmt: skip


def differences(phases: pl.DataFrame, baseline: str | None = None) -> pl.DataFrame:
    """Every (GOMAXPROCS, phase, GODEBUG, toolchain, quantity) whose range over runs does not
    overlap the baseline toolchain's: a release difference (the only kind the report flags).
    direction is `higher` or `lower` than the baseline."""
    r = run_ranges(phases)
    base = baseline_of(r["go"], baseline)
    keys = ["gomaxprocs", *PHASE, "godebug"]
    b = r.filter(pl.col("go") == base).select(
        *keys, *(pl.col(f"{q}_{f}").alias(f"b_{q}_{f}") for q in ("peak_bytes", "final_bytes")
                 for f in ("min", "max"))
    )  # fmt: skip
    j = r.filter(pl.col("go") != base).join(b, on=keys)
    out = []
    for q in ("peak_bytes", "final_bytes"):
        hi = pl.col(f"{q}_min") > pl.col(f"b_{q}_max")
        lo = pl.col(f"{q}_max") < pl.col(f"b_{q}_min")
        out.append(
            j.filter(hi | lo).select(
                *keys,
                "go",
                quantity=pl.lit(q.removesuffix("_bytes")),
                direction=pl.when(hi).then(pl.lit("higher")).otherwise(pl.lit("lower")),
                runs=pl.col("runs"),
                median=pl.col(f"{q}_median"),
                lo=pl.col(f"{q}_min"),
                hi=pl.col(f"{q}_max"),
                baseline=pl.lit(base),
                base_lo=pl.col(f"b_{q}_min"),
                base_hi=pl.col(f"b_{q}_max"),
            )
        )
    return pl.concat(out).sort("gomaxprocs", *PHASE, "godebug", "go", "quantity")


def peak_final_tables(phases: pl.DataFrame, baseline: str | None = None) -> list[tuple[int, Table]]:
    """Per GOMAXPROCS: one row per phase and toolchain; per GODEBUG variant peak and final MiB
    as median [min-max] over runs, and what differs from the baseline (ranges not overlapping).
    The phases where something differs come first; the others are folded (with one toolchain
    nothing is compared and nothing folded)."""
    variants = sorted(set(phases["godebug"]))
    ranges = run_ranges(phases)
    base = baseline_of(ranges["go"], baseline)
    diff = differences(phases, base)
    go_rank = {g: i for i, g in enumerate(display_order(ranges["go"], base))}
    compared = len(go_rank) > 1  # with one toolchain there is no `vs` column
    cols = ["scenario", "phase", "toolchain", "runs"]
    for v in variants:
        cols += [f"peak MiB ({godebug_text(v)})", f"final MiB ({godebug_text(v)})"]
        cols += [f"vs {base} ({godebug_text(v)})"] if compared else []
    out = []
    for (procs,), part in ranges.partition_by("gomaxprocs", as_dict=True).items():
        rows: dict[bool, list[tuple[str, ...]]] = {True: [], False: []}
        flagged = set(
            diff.filter(pl.col("gomaxprocs") == procs).select(*PHASE).unique().iter_rows()
        )
        keys = (
            part.select("phase_order", *PHASE, "go")
            .unique()
            .with_columns(go_rank=pl.col("go").replace_strict(go_rank))
            .sort("phase_order", "go_rank")
        )
        for key in keys.iter_rows(named=True):
            mine = part.filter(
                (pl.col("phase") == key["phase"])
                & (pl.col("scenario") == key["scenario"])
                & (pl.col("go") == key["go"])
            )
            n = sorted(set(mine["runs"].to_list()))
            row: list[str] = [key["scenario"], key["phase"], key["go"], "/".join(map(str, n))]
            for v in variants:
                hit = mine.filter(pl.col("godebug") == v)
                if not hit.height:
                    row += ["", "", ""] if compared else ["", ""]
                    continue
                flags = diff.filter(
                    (pl.col("gomaxprocs") == procs) & (pl.col("phase") == key["phase"])
                    & (pl.col("scenario") == key["scenario"]) & (pl.col("go") == key["go"])
                    & (pl.col("godebug") == v)
                )  # fmt: skip
                flag = ", ".join(
                    f"{r['quantity']} {r['direction']}" for r in flags.iter_rows(named=True)
                )
                row += [
                    _spread(hit["peak_values"][0].to_list()),
                    _spread([x for x in hit["final_values"][0].to_list() if x is not None]),
                ]
                row += [flag] if compared else []  # fmt: skip
            rows[(key["scenario"], key["phase"]) in flagged or not compared].append(tuple(row))
        same = len({r[:2] for r in rows[False]})
        label = (f"{same} {'phase' if same == 1 else 'phases'} where no toolchain differs from "
                 f"go {base}")  # fmt: skip
        none = (f"No phase differs from go {base} here: every toolchain's range of runs "
                "overlaps the baseline's.")  # fmt: skip
        table = Table(tuple(cols), tuple(rows[True]), folded=tuple(rows[False]), fold_label=label,
                      empty=none)  # fmt: skip
        out.append((int(procs), table))
    return sorted(out, key=lambda t: t[0])


def chart_frame(df: pl.DataFrame, bands: pl.DataFrame, max_rows: int = CHART_ROWS) -> pl.DataFrame:
    """StackInuse per run, scenario and time bucket (the max, so peaks survive), in MiB.

    Time is aligned to the bands: a row a fraction f through its run's phase is drawn f through
    that phase's band, so runs of different speed line up phase by phase. Bucket widths are
    chosen per scenario so that all runs together stay under max_rows. Only the first round of
    each cell is drawn (the tables hold every run).
    """
    if "round" in df.columns and df.height:
        df = df.filter(pl.col("round") == pl.col("round").min())
    rows = (
        with_phases(df)
        .join(bands.select("gomaxprocs", *PHASE, "x0", "x1"), on=["gomaxprocs", *PHASE])
        .with_columns(
            frac=pl.when(pl.col("phase_end_ns") > pl.col("phase_start_ns"))
            .then(
                (pl.col("t_ns") - pl.col("phase_start_ns"))
                / (pl.col("phase_end_ns") - pl.col("phase_start_ns"))
            )
            .otherwise(1.0)
            .clip(0.0, 1.0)
        )
        .with_columns(t_ms=pl.col("x0") + pl.col("frac") * (pl.col("x1") - pl.col("x0")))
    )
    runs = max(1, rows.select(RUN).unique().height)
    per_run = max(10, max_rows // (runs * len(SCENARIOS)))
    width = rows.group_by("gomaxprocs", "scenario").agg(width_ms=pl.col("t_ms").max() / per_run)
    return (
        rows.join(width, on=["gomaxprocs", "scenario"])
        .with_columns(t_ms=(pl.col("t_ms") / pl.col("width_ms")).floor() * pl.col("width_ms"))
        .group_by([*RUN, "scenario", "t_ms"])
        .agg(mib=pl.col("stack_inuse_bytes").max() / MIB)
        .drop("round")
        .with_columns(pl.col("t_ms").round(3))
        .sort([*(k for k in RUN if k != "round"), "scenario", "t_ms"])
    )


def band_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Each phase's span (ms since its scenario started), the median over the runs of a panel."""
    return (
        with_phases(df.filter(pl.col("kind") == "boundary"))
        .filter(pl.col("scenario").is_in(SCENARIOS))
        .with_columns(
            x0=(pl.col("phase_start_ns") - pl.col("scenario_start_ns")) / 1e6,
            x1=(pl.col("phase_end_ns") - pl.col("scenario_start_ns")) / 1e6,
        )
        .group_by("gomaxprocs", *PHASE)
        .agg(pl.col("x0", "x1").median().round(3), order=pl.col("phase_order").min())
        .sort("gomaxprocs", "order")
        .with_columns(shade=(pl.int_range(pl.len()).over("gomaxprocs", "scenario") % 2))
    )


def stack_chart(lines: pl.DataFrame, bands: pl.DataFrame) -> alt.FacetChart:
    """StackInuse over time: a panel per scenario (columns) and GOMAXPROCS (rows), phase bands."""
    data = pl.concat(
        [lines.with_columns(layer=pl.lit("line")), bands.with_columns(layer=pl.lit("band"))],
        how="diagonal_relaxed",
    ).with_columns(
        procs=pl.format("GOMAXPROCS={}", pl.col("gomaxprocs")),
        variant=pl.col("godebug").fill_null("").replace({"": variant_label("")}),
    )
    data = data.select(sorted(data.columns))
    gos = display_order(lines["go"])
    variants = sorted(
        {variant_label(v) for v in lines["godebug"]}, key=lambda v: v != variant_label("")
    )
    base = alt.Chart()
    band = (
        base.transform_filter(alt.datum.layer == "band")
        .mark_rect(color="#888")
        .encode(
            x="x0:Q",
            x2="x1:Q",
            opacity=alt.Opacity("shade:O", scale=alt.Scale(range=[0.05, 0.15]), legend=None),
        )
    )
    label = (
        base.transform_filter(alt.datum.layer == "band")
        .mark_text(angle=270, align="right", baseline="top", dx=-4, dy=2, fontSize=9, color="#555")
        .encode(x="x0:Q", y=alt.value(0), text="phase:N")
    )
    line = (
        base.transform_filter(alt.datum.layer == "line")
        .mark_line(strokeWidth=1.2, interpolate="step-after")
        .encode(
            x=alt.X("t_ms:Q", title="ms since the scenario started (phases aligned)"),
            y=alt.Y("mib:Q", title="StackInuse (MiB)"),
            color=alt.Color("go:N", title="toolchain", scale=alt.Scale(domain=gos)),
            strokeDash=alt.StrokeDash(
                "variant:N", title="GODEBUG", scale=alt.Scale(domain=variants)
            ),
            detail="godebug:N",
        )
    )
    chart: alt.FacetChart = (
        alt.layer(band, line, label, data=data)
        .properties(width=240, height=170)
        .facet(
            row=alt.Row("procs:N", title=None),
            column=alt.Column("scenario:N", title=None, sort=list(SCENARIOS)),
        )
        .resolve_scale(x="independent", y="independent")
        .properties(title="StackInuse (/memory/classes/heap/stacks:bytes) over time")
    )
    return chart


# --- sampler overhead -------------------------------------------------------------------------


def spread_pct(values: Sequence[int]) -> float:
    """(max - min) / lower median, in percent: how much runs of one state differ."""
    mid = sorted(values)[(len(values) - 1) // 2]
    return 100 * (max(values) - min(values)) / mid if mid else 0.0


def overhead_frame(docs: Sequence[tuple[str, dict[str, Any]]]) -> pl.DataFrame:
    """One row per (toolchain label, overhead JSON of one cell) and phase of the lab's -overhead."""
    rows = []
    for label, d in docs:
        on = d["sampler_on"]
        for p in d["phases"]:
            rows.append(
                {
                    "go": label,
                    "gomaxprocs": d["gomaxprocs"],
                    "godebug": d["godebug"],
                    "reps": d["reps"],
                    "scenario": p["scenario"],
                    "phase": p["phase"],
                    "stack_delta_bytes": p["stack_delta_bytes"],
                    "total_off_ns": d["median_total_wall_off_ns"],
                    "total_on_ns": d["median_total_wall_on_ns"],
                    "total_delta_pct": d["total_wall_delta_pct"],
                    "spread_off_pct": spread_pct(d["total_wall_off_ns"]),
                    "gc_off": sorted(d["gc_cycles_off"]),
                    "gc_on": sorted(d["gc_cycles_on"]),
                    "hz": sorted(s["achieved_hz"] for s in on)[(len(on) - 1) // 2],
                    "p99_gap_ns": max(s["p99_ns"] for s in on),
                }
            )
    return pl.DataFrame(rows).sort("go", "gomaxprocs", "godebug", maintain_order=True)


def overhead_table(ovh: pl.DataFrame) -> Table:
    cells = ovh.group_by(CELL, maintain_order=True).agg(
        pl.col("reps", "total_off_ns", "total_on_ns", "total_delta_pct", "gc_off", "gc_on").first(),
        pl.col("hz", "p99_gap_ns").first(),
        max_delta=pl.col("stack_delta_bytes").abs().max(),
        max_phase=pl.col("phase")
        .sort_by(pl.col("stack_delta_bytes").abs(), descending=True, maintain_order=True)
        .first(),
    )
    go_rank = {g: i for i, g in enumerate(display_order(cells["go"]))}
    cells = cells.sort(pl.col("go").replace_strict(go_rank), "gomaxprocs")
    rows = tuple(
        (
            r["go"],
            r["gomaxprocs"],
            r["reps"],
            f"{r['total_off_ns'] / 1e6:.1f}",
            f"{r['total_on_ns'] / 1e6:.1f}",
            f"{r['total_delta_pct']:+.1f}",
            f"{'/'.join(map(str, r['gc_off']))} vs {'/'.join(map(str, r['gc_on']))}",
            f"{r['max_delta'] // KIB}" + (f" ({r['max_phase']})" if r["max_delta"] else ""),
            f"{r['hz']:.0f}",
            f"{r['p99_gap_ns'] / 1e6:.1f}",
        )
        for r in cells.iter_rows(named=True)
    )
    cols = (
        "toolchain",
        "GOMAXPROCS",
        "reps",
        "median total ms, sampler off",
        "on",
        "wall Δ %",
        "GC cycles off vs on",
        "max |Δ StackInuse| KiB (phase)",
        "samples/s",
        "worst p99 gap ms",
    )
    return Table(cols, rows)


def overhead_text(ovh: pl.DataFrame, interval: str) -> str:
    """The sampler's perturbation in words, from the -overhead runs."""
    cells = ovh.select(*CELL, "reps", "total_delta_pct", "spread_off_pct", "gc_off", "gc_on")
    cells = cells.unique()
    delta, noise = cells["total_delta_pct"], cells["spread_off_pct"]
    lo, hi, spread = float(delta.min()), float(delta.max()), float(noise.max())  # type: ignore[arg-type]
    gc_same = cells.select((pl.col("gc_off") == pl.col("gc_on")).all()).item()
    small = ovh.filter(pl.col("stack_delta_bytes").abs() <= 32 * KIB).height
    big = ovh.filter(pl.col("stack_delta_bytes").abs() > 32 * KIB).sort(
        pl.col("stack_delta_bytes").abs(), descending=True, maintain_order=True
    )
    worst = "; ".join(
        f"{r['phase']} {r['stack_delta_bytes'] / KIB:+.0f} KiB "
        f"({r['go']}, GOMAXPROCS={r['gomaxprocs']})"
        for r in big.head(5).iter_rows(named=True)
    )
    reps = sorted(set(cells["reps"]))
    return (
        f"How much the {interval} sampler perturbs what it measures, from the lab's "
        f"`-overhead` mode: per toolchain and GOMAXPROCS, {'/'.join(map(str, reps))} fresh "
        "processes with the sampler off and as many with it on (order alternating, GODEBUG "
        "unset), compared on what both record: phase wall times and the boundary "
        "MemStats.StackInuse. "
        f"Median total wall time with the sampler on changed by {lo:+.1f}% to {hi:+.1f}%, "
        f"while runs with the sampler off differed among themselves by up to {spread:.1f}% "
        "(so a change within that spread is not distinguishable from the host's noise). "
        f"GC cycles per run were {'the same' if gc_same else 'different'} with the sampler "
        f"on and off. Boundary StackInuse moved by at most 32 KiB (the sampler goroutine's own "
        f"stack) in {small} of {ovh.height} phase comparisons"
        + (f"; larger moves: {worst}." if big.height else ".")
    )


# --- notes and the builder ---------------------------------------------------------------------


def memstats_gap_kib(df: pl.DataFrame) -> tuple[int, int]:
    """Range of metric minus MemStats.StackInuse at boundary rows, in KiB."""
    gap = df.filter(pl.col("kind") == "boundary").select(
        (pl.col("stack_inuse_bytes") - pl.col("memstats_stack_inuse")) // KIB
    )
    return int(gap.min().item()), int(gap.max().item())


def sample_rate(df: pl.DataFrame) -> pl.DataFrame:
    """Samples per second each run achieved (first to last sample row)."""
    return (
        df.filter(pl.col("kind") == "sample")
        .group_by(RUN)
        .agg(hz=(pl.len() - 1) / ((pl.col("t_ns").max() - pl.col("t_ns").min()) / 1e9))
        .sort(RUN)
    )


def notes(df: pl.DataFrame, interval: str) -> tuple[str, ...]:
    lo, hi = memstats_gap_kib(df)
    rate = sample_rate(df)["hz"]
    slow, fast = float(rate.min()), float(rate.max())  # type: ignore[arg-type]
    return (
        "Bands are the phases, each from the median start to the median end over the runs in "
        "its row; each run's rows are placed proportionally within its own phase, so runs of "
        "different speed line up phase by phase. Lines are the maximum StackInuse per time "
        "bucket, so short peaks such as the moment of a stack copy (old and new stack both "
        "live) survive the downsampling.",
        f"The sampler asks for one sample every {interval} and achieved {slow:.0f}-{fast:.0f} "
        "samples/s: "
        "it needs a P, so at GOMAXPROCS=1 it does not run while the growing goroutine does.",
        "`/sched/goroutines:goroutines` counts system goroutines from Go 1.26 on (up to 1.25 it "
        "matches runtime.NumGoroutine()): do not compare goroutine counts across that boundary.",
        f"At phase boundaries MemStats.StackInuse is {lo}-{hi} KiB below the runtime/metrics "
        "value (here, over all runs): ReadMemStats flushes the per-P stack caches first, which "
        "also lowers the metric in the samples after a boundary. The tables use the metric.",
    )


def _span(values: pl.Series, unit: int, fmt: str) -> str:
    lo, hi = int(values.min()), int(values.max())  # type: ignore[arg-type]
    return f"{lo / unit:{fmt}}" if lo == hi else f"{lo / unit:{fmt}}-{hi / unit:{fmt}}"


def adaptive_start_text(phases: pl.DataFrame) -> str:
    """What the adaptive starting stack size did in the churn scenario, per GODEBUG variant."""
    gc = phases.filter(pl.col("phase") == "churn_gc")
    warm = phases.filter(pl.col("phase") == "churn_warm")
    if not gc.height or not warm.height:
        return ""
    parts = []
    for v in sorted(set(gc["godebug"])):
        start = _span(gc.filter(pl.col("godebug") == v)["final_starting_size_bytes"], KIB, ".0f")
        end = _span(warm.filter(pl.col("godebug") == v)["final_bytes"], MIB, ".2f")
        parts.append(f"{godebug_text(v)}: starting size {start} KiB, churn_warm ends at {end} MiB")
    return (
        "The forced GC of churn_gc recomputes the starting stack size of new goroutines from "
        "the stacks it scanned; the second half of the churn then starts that big "
        f"({'; '.join(parts)}; over all toolchains and GOMAXPROCS)."
    )


def build_sections(
    df: pl.DataFrame,
    overhead: pl.DataFrame | None,
    figures_dir: Path,
    *,
    interval: str,
    baseline: str | None = None,
) -> list[Section]:
    """All stack-growth sections from the `stack` dataset, the overhead frame and the interval."""
    bands, phases = band_frame(df), phase_table(df)
    fig = figures.render(stack_chart(chart_frame(df, bands), bands), figures_dir, FIGURE)
    variants = ", ".join(godebug_text(v) for v in sorted(set(df["godebug"])))
    out = [
        Section(
            TITLE,
            lead=(
                "Goroutine stack memory (StackInuse) over each scenario of the stack-growth "
                "lab: a panel per scenario and GOMAXPROCS, colour is the toolchain, dashes the "
                "GODEBUG variant, grey bands the phases. Lines on top of each other mean the "
                "releases grow and shrink stacks alike; the tables below say where they differ."
            ),
            text=(
                f"Goroutine stack memory sampled every {interval} by the stack-growth lab while "
                "stacks grow by copying (deep, wave), shrink at GC (release) and churn: one "
                "panel per scenario and GOMAXPROCS; colour is the toolchain, dashes the GODEBUG "
                f"variant ({variants}). The lines are the first run of each cell; the tables "
                "below hold every run. " + " ".join(notes(df, interval))
            ),
            figures=(fig,),
            notes=tuple(n for n in (adaptive_start_text(phases),) if n),
        )
    ]
    base = baseline_of(phases["go"], baseline)
    n_runs = phases.select(RUN).unique().group_by("go", "gomaxprocs", "godebug").len()
    runs = "/".join(map(str, sorted(set(n_runs["len"].to_list()))))
    for procs, table in peak_final_tables(phases, base):
        out.append(
            Section(
                f"{PEAK_TITLE}, GOMAXPROCS={procs}",
                lead=(
                    "Peak and final StackInuse of every phase in MiB, the median [min-max] over "
                    "runs, a row per phase and toolchain. "
                    + (
                        f"The vs column flags a toolchain whose range of runs lies wholly above "
                        f"or below go {base}'s; phases with a flag come first, the others are "
                        "folded."
                        if phases["go"].n_unique() > 1
                        else f"Only go {base} ran: nothing to compare."
                    )
                ),
                text=(
                    "Peak: the largest StackInuse of any row in the phase; final: at the phase's "
                    "boundary row (its end). MiB of /memory/classes/heap/stacks:bytes, as the "
                    f"median [min-max] over the {runs} runs of each cell (separate processes, "
                    "interleaved rounds shuffled from labs.stack.seed). The vs column flags a "
                    f"difference from go {base} only where the ranges of runs do not overlap."
                ),
                tables=(table,),
            )
        )
    if overhead is not None and overhead.height:
        out.append(
            Section(
                OVERHEAD_TITLE,
                lead=(
                    "How much the lab's own sampler perturbs what it measures: total wall time "
                    "and StackInuse with the sampler off and on, per toolchain and GOMAXPROCS. "
                    "A wall-time change within the spread of the sampler-off runs is noise."
                ),
                text=overhead_text(overhead, interval),
                tables=(overhead_table(overhead),),
            )
        )
    return out


def interval_of(file_meta: Sequence[dict[str, str]]) -> str:
    """The sampler interval(s) the dataset's files were written with (their `params`)."""
    seen = sorted(
        {
            str(json.loads(m.get("params", "{}")).get("labs.stack", {}).get("interval", "?"))
            for m in file_meta
        }
    )
    return " / ".join(seen) or "?"


def load_overhead(raw_dir: Path) -> pl.DataFrame | None:
    """The -overhead JSON of every cell under raw_dir (data/raw/stack), or None if there is none."""
    docs = []
    for p in (
        p
        for h in store.host_dirs(raw_dir)
        for p in sorted(h.glob("go=*/gomaxprocs=*/overhead.json"))
    ):
        label = p.parent.parent.name.removeprefix("go=")
        docs.append((label, json.loads(p.read_text(encoding="utf-8"))))
    return overhead_frame(docs) if docs else None


def sections(cfg: config.Config, parquet_root: Path, figures_dir: Path) -> list[Section]:
    """The report's stack-growth sections (data/parquet/stack and data/raw/stack beside it)."""
    df = store.scan("stack", parquet_root).collect()
    raw_dir = parquet_root.parent / store.RAW_ROOT.name / "stack"
    interval = interval_of(store.read_metadata("stack", parquet_root))
    return build_sections(
        df, load_overhead(raw_dir), figures_dir, interval=interval, baseline=cfg.baseline
    )
