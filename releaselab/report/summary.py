"""The report's first section, "What changed": one row per toolchain against the baseline (per
host and target when the data has those columns), one cell per area, each a link to the section
with the details.

Pure: frames in (each None when its dataset is absent), a render.Section out. The figures are
those of the sections and of metrics.json (the same functions compute them), in words:

- time/op: benchmarks slower / faster after Holm, and the geomean change per GOMAXPROCS;
- allocations: allocs/op and B/op that changed (exact units: any change of the median), named
  when there are few;
- escape analysis: diagnostics that appear / disappear / change kind against the previous
  toolchain (escape_diff compares consecutive toolchains);
- scheduling p99: the request p99 ratio per GOMAXPROCS, and the p99 wait ratios significant
  after Holm (sched.report.comparisons);
- stack peak: the phases whose peak StackInuse range over runs lies wholly above or below the
  baseline's (stack.report.differences).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from releaselab.bench import report as bench_report
from releaselab.bench import units
from releaselab.core import labels
from releaselab.escape import report as escape_report
from releaselab.report import human, metrics
from releaselab.report.render import Cell, Link, Section, Table, slug
from releaselab.sched import report as sched_report
from releaselab.stack import report as stack_report

TITLE = "What changed"
GROUP_KEYS = ("host", "target")  # split rows by these where a dataset has the column
MAX_NAMED = 2  # changed benchmarks named in a cell; more are counted
SIGNIFICANT = "*"  # after a ratio: significant after Holm


@dataclass(frozen=True)
class Inputs:
    """The datasets the summary reads; None when the pipeline did not make one."""

    baseline: str
    bench_stats: pl.DataFrame | None = None
    escape_diff: pl.DataFrame | None = None
    escape_analysed: tuple[str, ...] = ()  # the toolchains of the escape dataset
    sched_runs: pl.DataFrame | None = None
    stack: pl.DataFrame | None = None

    def frames(self) -> list[pl.DataFrame]:
        return [
            f
            for f in (self.bench_stats, self.escape_diff, self.sched_runs, self.stack)
            if f is not None
        ]


# --- grouping by host / target -------------------------------------------------------------


def group_keys(frames: Sequence[pl.DataFrame]) -> list[str]:
    """The GROUP_KEYS with more than one value in the frames, in GROUP_KEYS order (one host or
    one target splits nothing)."""
    return [
        k
        for k in GROUP_KEYS
        if len({v for f in frames if k in f.columns for v in f[k].unique().to_list()}) > 1
    ]


def groups(frames: Sequence[pl.DataFrame], keys: Sequence[str]) -> list[dict[str, str]]:
    """Every combination of the values the frames hold for `keys` (a frame without a key has
    no say about it), sorted; one empty group when there are no keys."""
    values = []
    for k in keys:
        seen = {str(v) for f in frames if k in f.columns for v in f[k].unique().to_list()}
        values.append(sorted(seen))
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def slice_of(df: pl.DataFrame | None, group: Mapping[str, str]) -> pl.DataFrame | None:
    """The rows of df in `group`, on the keys df has: a dataset without a `target` column is
    the same for every target."""
    if df is None:
        return None
    conds = [pl.col(k).cast(pl.String) == v for k, v in group.items() if k in df.columns]
    return df.filter(*conds) if conds else df


# --- one area each: {toolchain: cell text} --------------------------------------------------


def per_procs(values: Mapping[int, str], procs: Sequence[int]) -> str:
    """Values per GOMAXPROCS joined with ` / ` in the order of `procs` (the lead names it once);
    each with its GOMAXPROCS when they are not exactly those."""
    if sorted(values) == list(procs):
        return " / ".join(values[p] for p in procs)
    return ", ".join(f"{v} (GOMAXPROCS {p})" for p, v in sorted(values.items()))


def time_cells(st: pl.DataFrame, procs: Sequence[int]) -> dict[str, str]:
    """Benchmarks slower / faster after Holm, and the geomean time change per GOMAXPROCS."""
    out = {}
    for go, by_procs in metrics.bench(st).items():
        cells = {int(p.removeprefix("gomaxprocs_")): v["time"] for p, v in by_procs.items()
                 if "geomean_ratio" in v.get("time", {})}  # fmt: skip
        if not cells:
            continue
        slower = sum(c["regressions"] for c in cells.values())
        faster = sum(c["improvements"] for c in cells.values())
        n = sum(c["benchmarks"] for c in cells.values())
        geo = {p: human.percent(100 * (c["geomean_ratio"] - 1)) for p, c in cells.items()}
        counts = (
            f"{slower} slower, {faster} faster of {n}"
            if slower or faster
            else f"no significant change ({n} compared)"
        )
        out[go] = f"{counts}\ngeomean {per_procs(geo, procs)}"
    return out


def alloc_cells(st: pl.DataFrame) -> dict[str, str]:
    """The allocs/op and B/op that changed against the baseline (exact: any change): per
    benchmark when there are few (`Prealloc/before: allocs/op -37.5%, B/op -2.75%`), else
    counted per unit."""
    out = {}
    alloc = st.filter(
        pl.col("unit").is_in(units.ALLOC_UNITS) & (pl.col("go") != pl.col("baseline"))
    )
    for (go,), grp in alloc.sort("go").group_by(["go"], maintain_order=True):
        changed = grp.filter(pl.col("significant").fill_null(False)).sort(
            "name", pl.col("unit") != "allocs/op", "gomaxprocs"
        )
        names = changed["name"].unique(maintain_order=True).to_list()
        if not names:
            out[str(go)] = "no change"
        elif len(names) <= MAX_NAMED:
            out[str(go)] = "\n".join(
                f"{name}: " + ", ".join(
                    f"{r['unit']} {human.percent(r['delta']) or 'from 0'}"
                    for r in changed.filter(pl.col("name") == name)
                    .unique("unit", keep="first", maintain_order=True).iter_rows(named=True))
                for name in names
            )  # fmt: skip
        else:
            out[str(go)] = "\n".join(
                f"{unit}: {(down := u.filter(pl.col('delta') < 0)['name'].n_unique())} down, "
                f"{u['name'].n_unique() - down} up"  # a change from 0 has no delta: up
                for unit in ("allocs/op", "B/op")
                if (u := changed.filter(pl.col("unit") == unit)).height
            )
    return out


def escape_cells(diff: pl.DataFrame, analysed: Sequence[str]) -> dict[str, str]:
    """Diagnostics that appear / disappear / change kind against the previous toolchain, for
    every toolchain but the first of `analysed` (those in the escape dataset)."""
    out = {}
    ordered = sorted(analysed, key=labels.version_key)
    counts = diff.group_by("from_go", "to_go", "change").len() if diff.height else None
    for before, go in itertools.pairwise(ordered):
        mine = counts.filter(pl.col("to_go") == go) if counts is not None else None
        if mine is None or mine.is_empty():
            out[go] = f"no change\n(vs go {before})"
            continue
        n = {r["change"]: r["len"] for r in mine.iter_rows(named=True)}
        words = [f"{n.get(c, 0)} {w}" for c, w in (("appears", "appear"),
                 ("disappears", "disappear"), ("changes_kind", "change kind")) if n.get(c) or
                 c != "changes_kind"]  # fmt: skip
        out[go] = ", ".join(words) + f"\n(vs go {mine['from_go'][0]})"
    return out


def _ratio(r: Mapping[str, object]) -> str:
    return human.ratio(r["ratio"]) + (SIGNIFICANT if r["significant"] else "")  # type: ignore[arg-type]


def sched_cells(runs: pl.DataFrame, baseline: str, procs: Sequence[int]) -> dict[str, str]:
    """The request p99 ratio per GOMAXPROCS and the p99 wait ratios significant after Holm."""
    cmp = sched_report.comparisons(runs, baseline)
    out: dict[str, list[str]] = {}
    req, waits = cmp["request"], cmp["wait"]
    if req.height:
        p99 = req.filter(pl.col("statistic") == "p99").sort("go", "gomaxprocs", "workload")
        for (go,), grp in p99.group_by(["go"], maintain_order=True):
            ratios = {int(r["gomaxprocs"]): _ratio(r) for r in grp.iter_rows(named=True)}
            out.setdefault(str(go), []).append(f"requests {per_procs(ratios, procs)}")
    if waits.height:
        p99 = waits.filter(pl.col("statistic") == "p99").sort("go", "workload", "gomaxprocs")
        for (go,), grp in p99.group_by(["go"], maintain_order=True):
            sig = grp.filter(pl.col("significant"))
            text = ", ".join(f"{r['workload']} {_ratio(r)} (GOMAXPROCS {r['gomaxprocs']})"
                             for r in sig.iter_rows(named=True))  # fmt: skip
            out.setdefault(str(go), []).append(
                f"waits: {text}" if text else f"waits: no significant change ({grp.height})"
            )
    return {go: "\n".join(parts) for go, parts in out.items()}


def stack_cells(stack: pl.DataFrame, baseline: str) -> tuple[dict[str, str], dict[str, int]]:
    """Phases whose peak StackInuse lies wholly above / below the baseline's over runs; and the
    first GOMAXPROCS with such a phase (else the lowest), per toolchain: the table to link."""
    phases = stack_report.phase_table(stack)
    gos = set(phases["go"].to_list()) - {baseline}
    if baseline not in set(phases["go"].to_list()):
        return {}, {}
    diff = stack_report.differences(phases, baseline).filter(pl.col("quantity") == "peak")
    text, first = {}, {}
    lowest = int(phases["gomaxprocs"].min())  # type: ignore[arg-type]
    for go in sorted(gos):
        mine = diff.filter(pl.col("go") == go)
        first[go] = int(mine["gomaxprocs"].min()) if mine.height else lowest  # type: ignore[arg-type]
        if mine.is_empty():
            text[go] = "no phase's peak differs"
            continue
        parts = []
        for direction in ("higher", "lower"):
            d = mine.filter(pl.col("direction") == direction)
            if d.height:
                names = ", ".join(sorted(set(d["phase"].to_list()))[:3])
                more = "…" if d["phase"].n_unique() > 3 else ""
                parts.append(f"{direction} in {d.height}: {names}{more}")
        text[go] = "peak " + "; ".join(parts)
    return text, first


# --- the section -------------------------------------------------------------------------------


Cells = dict[str, tuple[str, str]]  # toolchain -> (cell text, anchor of the section it links)


def _linked(texts: Mapping[str, str], anchor: str | Mapping[str, str]) -> Cells:
    return {go: (t, anchor if isinstance(anchor, str) else anchor[go]) for go, t in texts.items()}


def _data(df: pl.DataFrame | None, group: Mapping[str, str]) -> pl.DataFrame | None:
    """df's rows in `group`; None when the dataset is absent or empty (no column for it)."""
    return None if df is None or df.is_empty() else slice_of(df, group)


def columns(inputs: Inputs, group: Mapping[str, str], procs: Sequence[int]) -> dict[str, Cells]:
    """The cells of every area with data, for the rows of one host/target group; an area's
    column is there even when no toolchain has a cell in this group."""
    out: dict[str, Cells] = {}
    base = inputs.baseline
    if (st := _data(inputs.bench_stats, group)) is not None:
        anchor = slug(bench_report.TITLE)
        out["time/op"] = _linked(time_cells(st, procs), anchor)
        out["allocations"] = _linked(alloc_cells(st), anchor)
    if inputs.escape_diff is not None:  # no row at all is news too: nothing changed
        diff = slice_of(inputs.escape_diff, group)
        texts = escape_cells(_df(diff), inputs.escape_analysed)
        out["escape analysis"] = _linked(texts, slug(escape_report.DIFF_TITLE))
    if (runs := _data(inputs.sched_runs, group)) is not None:
        texts = sched_cells(runs, base, procs) if runs.height else {}
        out["scheduling p99 ratio"] = _linked(texts, slug(sched_report.COMPARE_TITLE))
    if (stack := _data(inputs.stack, group)) is not None:
        texts, first = stack_cells(stack, base) if stack.height else ({}, {})
        # the peak table of the first GOMAXPROCS where the toolchain differs (else the lowest)
        anchors = {go: slug(f"{stack_report.PEAK_TITLE}, GOMAXPROCS={first[go]}") for go in texts}
        out["stack peak"] = _linked(texts, anchors)
    return out


def _cell(text: str, anchor: str, present: set[str], group: Mapping[str, str]) -> Cell:
    if not text:
        return ""
    if "host" in group:  # several hosts: each has its own copy of the section (document.py)
        own = f"{anchor}-{slug('host ' + group['host'])}"
        anchor = own if own in present else anchor
    return Link(text, anchor) if anchor in present else text


def section(inputs: Inputs, order: Sequence[str], present: set[str]) -> Section:
    """The summary section; `order` is the toolchains' display order (baseline first),
    `present` the anchors of the sections in the page (a cell links only to one that is)."""
    base = inputs.baseline
    frames = inputs.frames()
    keys = group_keys(frames)
    procs = sorted({int(p) for f in frames if "gomaxprocs" in f.columns for p in f["gomaxprocs"]})
    others = [g for g in order if g != base]
    names: list[str] = []
    rows = []
    for group in groups(frames, keys):
        cols = columns(inputs, group, procs)
        names = names or list(cols)
        for go in others:
            cells = [_cell(*cols[n].get(go, ("", "")), present, group) for n in names]
            if any(cells):
                rows.append((*(group[k] for k in keys), f"go {go}", *cells))
    empty = (
        f"Only go {base} ran: nothing to compare it with (configure more toolchains, e.g. "
        "go=recent)."
        if not others
        else "No dataset compares a toolchain with the baseline."
    )
    table = Table((*keys, "toolchain", *names), tuple(rows), empty=empty, wrap=True)
    per = " and ".join(keys)
    slashes = (
        f" Values joined by / are at GOMAXPROCS {' / '.join(map(str, procs))}."
        if len(procs) > 1
        else ""
    )
    lead = (
        f"Each row is a toolchain against the baseline go {base}"
        + (f", per {per}" if per else "")
        + ": what changed significantly (after Holm where a test applies; allocation counts "
        f"are exact), each cell a link to its section; {SIGNIFICANT} marks a significant "
        f"ratio.{slashes} Escape analysis compares each toolchain with the one before it."
    )
    return Section(TITLE, lead=lead if rows else "", tables=(table,))


def _df(df: pl.DataFrame | None) -> pl.DataFrame:
    return pl.DataFrame() if df is None else df
