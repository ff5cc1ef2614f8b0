"""Report sections of escape-clinic: the escape ledger, the cross-release diff, the text/JSON
cross-check and the allocation-comparison chart. Pure: frames in, render.Section out.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import polars as pl

from releaselab.bench import units
from releaselab.core import config, labels, store
from releaselab.core.config import LABS_TARGET
from releaselab.escape import data as escape_data
from releaselab.report import figures
from releaselab.report.render import Row, Section, Table

AGREE = "agree"  # the ledger's verdict when compiler and measurement match the prediction
LEDGER_TITLE = "Escape ledger"
ALLOCS_TITLE = "Allocations before and after each refactor"
DIFF_TITLE = "Escape analysis across releases"
CROSSCHECK_TITLE = "Escape diagnostics: text and JSON agree"
DIFF_ROWS = 60  # lab rows shown in the report; the Parquet has every change
LAB = "escape-clinic"


def _fmt_num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def ledger_table(led: pl.DataFrame, order: list[str]) -> Table:
    """Rows: case x variant x subject; one column per toolchain: decision · allocs · verdict. The
    rows where a toolchain disagrees with the prediction or the toolchains differ come first;
    those that agree the same way everywhere are folded."""
    shown: list[Row] = []
    folded: list[Row] = []
    keys = ["case", "variant", "function", "line", "subject"]
    for key, grp in led.sort(keys).group_by(keys, maintain_order=True):
        by_go = {r["go"]: r for r in grp.iter_rows(named=True)}
        first = grp.row(0, named=True)
        cells = []
        for g in order:
            r = by_go.get(g)
            cells.append("" if r is None else (
                f"{r['compiler']} · {_fmt_num(r['allocs_op'])} allocs, "
                f"{_fmt_num(r['bytes_op'])} B · {r['verdict']}"))  # fmt: skip
        row = (*key, first["predicted"], first["predicted_allocs"], *cells)
        same = set(grp["verdict"]) == {AGREE} and len(set(cells)) == 1
        (folded if same else shown).append(row)
    cols = ("case", "variant", "function", "line", "subject", "predicted", "predicted allocs",
            *(f"go {g}" for g in order))  # fmt: skip
    n = len(folded)
    label = f"{n} {'prediction' if n == 1 else 'predictions'} that every toolchain agrees with"
    return Table(cols, tuple(shown), folded=tuple(folded), fold_label=label)


def verdict_counts(led: pl.DataFrame, order: list[str]) -> Table:
    counts = led.group_by("go", "verdict").len()
    verdicts = sorted(set(counts["verdict"].to_list()))
    rows: list[tuple[str | int, ...]] = []
    for g in order:
        mine = counts.filter(pl.col("go") == g)
        rows.append((g, *(int(mine.filter(pl.col("verdict") == v)["len"].sum()) for v in verdicts)))
    return Table(("toolchain", *verdicts), tuple(rows))


def diff_tables(diff: pl.DataFrame, order: list[str]) -> tuple[Table, ...]:
    """Counts per consecutive pair and change; and the lab's own changed diagnostics (with one
    toolchain, one line saying there is nothing to diff)."""
    if len(order) < 2:
        why = f"Only go {order[0]} was analysed: no pair of releases to diff."
        return (Table((), (), empty=why),)
    counts = (
        diff.group_by("from_go", "to_go", "lab", "change")
        .len()
        .sort("from_go", "to_go", "lab", "change")
    )
    summary = Table(
        ("from", "to", "unit", "change", "diagnostics"),
        tuple(counts.rows()),
        empty="No diagnostic changed between consecutive toolchains.",
    )
    mine = diff.filter(pl.col("lab") == LAB).sort("from_go", "to_go", "file", "line", "col")
    detail = Table(
        ("from", "to", "function", "file:line:col", "subject", "change", "before", "after"),
        tuple(
            (r["from_go"], r["to_go"], r["function"] or "",
             f"{Path(r['file'] or '').name}:{r['line']}:{r['col']}", r["subject"], r["change"],
             r["kind_before"] or "", r["kind_after"] or "")
            for r in mine.head(DIFF_ROWS).iter_rows(named=True)
        ),
        empty=f"{LAB}'s own diagnostics are the same in every toolchain.",
    )  # fmt: skip
    return summary, detail


def crosscheck_table(esc: pl.DataFrame) -> Table:
    """Per toolchain and unit (escape_data.text_agreement, as the std test checks it): rows, text
    verdicts the JSON can be asked for, how many it lacks, rows of no known form."""
    t = escape_data.text_agreement(esc)
    return Table(
        ("toolchain", "unit", "rows", "text verdicts JSON can express", "not in JSON",
         "lines of no known form (`other`)", "other %"),
        tuple((r["go"], r["lab"], r["rows"], r["text_verdicts"], r["not_in_json"], r["other"],
               f"{r['other_pct']:.2f}") for r in t.iter_rows(named=True)),
    )  # fmt: skip


def alloc_frame(st: pl.DataFrame) -> pl.DataFrame:
    """Before/after allocs/op and B/op of escape-clinic's benchmarks at the smallest GOMAXPROCS."""
    procs = st["gomaxprocs"].min()
    return (
        st.filter((pl.col("lab") == LAB) & (pl.col("gomaxprocs") == procs)
                  & pl.col("unit").is_in(units.ALLOC_UNITS)
                  & pl.col("name").str.contains("/(before|after)$"))
        .with_columns(benchmark=pl.col("name").str.replace("/(before|after)$", ""),
                      variant=pl.col("name").str.extract("/(before|after)$"),
                      suite=pl.col("package").str.split("/").list.last())
        .select("go", "suite", "benchmark", "variant", "unit", "center")
        .sort("go", "suite", "benchmark", "variant", "unit")
    )  # fmt: skip


def alloc_chart(df: pl.DataFrame) -> alt.VConcatChart:
    """A row of panels per unit, a panel per toolchain; the y axis shared along a row, so that a
    bar that moves between toolchains shows."""
    rows = []
    for i, unit in enumerate(sorted(set(df["unit"].to_list()))):
        bars = alt.Chart(df.filter(pl.col("unit") == unit)).mark_bar().encode(
            x=alt.X("benchmark:N", title=None, sort=None),
            xOffset=alt.XOffset("variant:N", sort=["before", "after"]),
            y=alt.Y("center:Q", title=unit),
            color=alt.Color("variant:N", sort=["before", "after"],
                            scale=alt.Scale(range=["#d62728", "#2ca02c"])),
            tooltip=["go", "benchmark", "variant", "unit", "center"],
        ).properties(width=300, height=120)  # fmt: skip
        header = alt.Header(labelExpr="'go ' + datum.value", labels=i == 0, labelFontSize=12)
        rows.append(bars.facet(column=alt.Column("go:N", title=None, header=header)))
    return alt.vconcat(*rows)


def sections(cfg: config.Config, parquet_root: Path, figures_dir: Path) -> list[Section]:
    esc = store.scan("escape", parquet_root).collect()
    order = labels.display_order(
        store.scan("toolchains", parquet_root).collect()["go"], cfg.baseline
    )
    out: list[Section] = []
    if (parquet_root / "escape_ledger").is_dir():
        led = store.scan("escape_ledger", parquet_root).collect()
        out.append(Section(
            LEDGER_TITLE,
            lead="Each escape-clinic prediction (will this variable move to the heap, how many "
                 "allocations) against what each toolchain's compiler decided and what the "
                 "benchmarks measured. First the verdicts per toolchain, then the predictions: "
                 "those a toolchain disagrees with, or where toolchains differ, come first; "
                 "the ones every toolchain agrees with are folded.",
            text="Each prediction of escape-clinic/cases/predictions.json against the "
                 "compiler's decision (-m=2) and the allocations the benchmarks measured "
                 "(median allocs/op and B/op). escapes_not_allocated: the compiler says "
                 "\"escapes to heap\" yet nothing is allocated (constants and small integers "
                 "are boxed without an allocation): a gap between the two, not a parser bug.",
            tables=(verdict_counts(led, order), ledger_table(led, order)),
        ))  # fmt: skip
    if (parquet_root / "bench_stats").is_dir():
        allocs = alloc_frame(store.scan("bench_stats", parquet_root).collect())
        if allocs.height:
            fig = figures.render(alloc_chart(allocs), figures_dir, "escape_allocs")
            out.append(Section(
                ALLOCS_TITLE,
                figures=(fig,),
                lead="escape-clinic's benchmarks: the median allocs/op and B/op of the lab's "
                     "code (before, red) and of its refactor (after, green), per toolchain. A "
                     "green bar below the red one is what the refactor saves; a bar that moves "
                     "between toolchains is a compiler change.",
            ))  # fmt: skip
    if (parquet_root / "escape_diff").is_dir():
        labs = pl.col("target") == LABS_TARGET
        diff = store.scan("escape_diff", parquet_root).filter(labs).collect()
        tables = diff_tables(diff, order)
        out.append(Section(
            DIFF_TITLE,
            lead="What the compiler's escape analysis says differently from one toolchain to "
                 "the next: diagnostics that appear, disappear or change kind, counted per "
                 "unit, then escape-clinic's own one by one.",
            text="Diagnostics are keyed by package, position and subject and compared between "
                 f"consecutive toolchains; the detail lists the first {DIFF_ROWS} of "
                 "escape-clinic's (data/parquet/escape_diff has all).",
            tables=tables,
        ))  # fmt: skip
    out.append(Section(
        CROSSCHECK_TITLE,
        lead="A check of the parsing, not of Go: every -m=2 text verdict should be found in the "
             "-json diagnostics of the same compile (`not in JSON` 0) and no line should be of "
             "an unknown form (`other` 0).",
        text="Every -m=2 text verdict that the -json channel can express (escapes, moves, "
             "leaks, inlining decisions), looked up at the same position in the JSON of the same "
             "compile (files the JSON cannot name, bodyless functions' assumed leaks and cgo "
             "sources are not asked for), and the rows of no known form.",
        tables=(crosscheck_table(esc),),
    ))  # fmt: skip
    return out
