"""Report sections of the targets: per target, what each toolchain built (a skipped toolchain
marked, with why), the benchstat-style tables and the ratio-to-baseline chart of its
benchmarks, and the escape-analysis changes between consecutive releases that built it; and its
headline figures for metrics.json. Pure: frames in, render.Section out (charts via figures).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from releaselab.bench import report as bench_report
from releaselab.core import catalog, config, labels, store
from releaselab.core.config import LABS_TARGET
from releaselab.report import figures, metrics
from releaselab.report.render import Section, Table

DIFF_ROWS = 40  # changed diagnostics shown per target; data/parquet/escape_diff has all
SKIPPED = "skipped"
_DIFF_SCHEMA = catalog.schema("escape_diff")


def describe(row: dict[str, object]) -> str:
    """Where a target's code comes from, in words (one row of the `targets` dataset)."""
    pkgs = " ".join(str(p) for p in row["packages"])  # type: ignore[attr-defined]
    go_line = f"; its go.mod says go {row['go_line']}" if row["go_line"] else ""
    if row["source"] == "std":
        return f"the standard library's `{row['ref']}` (each toolchain's own source)"
    if row["source"] == "module":
        return (f"module `{row['ref']}` from the Go module proxy ({row['source_hash']}), "
                f"packages `{pkgs}`{go_line}")  # fmt: skip
    return (f"the local module directory `{row['ref']}` (files {row['source_hash']}), "
            f"packages `{pkgs}`{go_line}")  # fmt: skip


def builds_table(rows: pl.DataFrame, order: list[str]) -> Table:
    """One row per toolchain: built (how many test binaries) or skipped, and why."""
    by_go = {r["go"]: r for r in rows.iter_rows(named=True)}
    out = []
    for g in order:
        r = by_go.get(g)
        if r is not None:
            out.append((g, r["status"], r["test_binaries"], r["reason"] or ""))
    return Table(("toolchain", "status", "test binaries", "why skipped"), tuple(out))


def with_skipped(t: Table, order: list[str], skipped: dict[str, str]) -> Table:
    """A comparison table with a column for every skipped toolchain, each cell `skipped`, in
    display order among the toolchains' columns."""
    if not skipped:
        return t
    head, gos = (
        t.columns[:2],
        [c.removeprefix("go ").removesuffix(" (base)") for c in t.columns[2:]],
    )
    cols = [g for g in order if g in set(gos) or g in skipped]
    names = {g: c for g, c in zip(gos, t.columns[2:], strict=True)}
    rows = tuple(
        (*row[:2], *(row[2 + gos.index(g)] if g in names else SKIPPED for g in cols))
        for row in t.rows
    )
    return Table((*head, *(names.get(g, f"go {g} ({SKIPPED})") for g in cols)), rows)


def diff_tables(diff: pl.DataFrame) -> tuple[Table, Table]:
    """Counts per consecutive pair, change and kind; and the first DIFF_ROWS changes."""
    kind = (
        pl.when(pl.col("change") == "changes_kind")
        .then(pl.col("kind_before") + " → " + pl.col("kind_after"))
        .otherwise(pl.coalesce("kind_after", "kind_before"))
        .alias("kind")
    )
    counts = (
        diff.group_by("from_go", "to_go", "change", kind)
        .len()
        .sort("from_go", "to_go", "change", "kind")
    )
    summary = Table(("from", "to", "change", "kind", "diagnostics"), tuple(counts.rows()))
    rows = diff.sort("from_go", "to_go", "package", "file", "line", "col", "subject").head(
        DIFF_ROWS
    )
    detail = Table(
        ("from", "to", "package", "function", "file:line:col", "subject", "change", "before",
         "after"),
        tuple(
            (r["from_go"], r["to_go"], r["package"] or "", r["function"] or "",
             f"{Path(r['file'] or '').name}:{r['line']}:{r['col']}", r["subject"], r["change"],
             r["kind_before"] or "", r["kind_after"] or "")
            for r in rows.iter_rows(named=True)
        ),
    )  # fmt: skip
    return summary, detail


def target_sections(
    label: str,
    *,
    rows: pl.DataFrame,
    st: pl.DataFrame,
    diff: pl.DataFrame,
    configured_baseline: str,
    figures_dir: Path,
) -> list[Section]:
    """The two sections of one target: benchmarks, then escape analysis across releases."""
    first = rows.row(0, named=True)
    built = rows.filter(pl.col("status") == "built")["go"].to_list()
    skipped = {
        r["go"]: r["reason"] for r in rows.filter(pl.col("status") == SKIPPED).iter_rows(named=True)
    }
    baseline = str(st["baseline"][0]) if st.height else configured_baseline
    order = labels.display_order(rows["go"].to_list(), baseline)
    notes = [f"go {g}: {SKIPPED}, {why}" for g, why in sorted(skipped.items())]
    if st.height and baseline != configured_baseline:
        notes.append(f"baseline go {baseline}: go {configured_baseline} did not build it")
    bench_text = (
        f"{describe(first)}. Benchmarks `-test.bench {first['bench']}`"
        + (f", benchtime {first['benchtime']}" if first["benchtime"] else "")
        + f", interleaved with every other cell of the session; every toolchain against go "
        f"{baseline}, Holm over this target's comparisons. Cells: center ± interval · delta "
        f"(~: not significant). `benchstat -col go -ignore round,order` on "
        f"data/raw/bench/bench.txt, filtered to `target:{label}`, gives the same tables."
    )
    tables = [builds_table(rows, order)]
    figs: tuple[tuple[str, str], ...] = ()
    if st.height:
        tables += [with_skipped(t, order, skipped) for t in
                   bench_report.comparison_tables(st, order)]  # fmt: skip
        ratios = bench_report.ratio_frame(st)
        if ratios.height:
            chart = bench_report.ratio_chart(ratios)
            figs = (figures.render(chart, figures_dir, f"target_{label}_ratio"),)
    else:
        notes.append("no benchmark results: no test binary has a benchmark that the regex selects")
    pairs = " → ".join(g for g in labels.display_order(built) if g in built)
    summary, detail = diff_tables(diff)
    escape_text = (
        f"Diagnostics of {label}'s packages (keyed by package, position and subject) that appear, "
        f"disappear or change kind between consecutive toolchains that built it ({pairs}); "
        f"first the counts, then the first {DIFF_ROWS} changes (data/parquet/escape_diff has all)."
    )
    return [
        Section(f"Target {label}: benchmarks", text=bench_text, tables=tuple(tables),
                figures=figs, notes=tuple(notes)),
        Section(f"Target {label}: escape analysis across releases", text=escape_text,
                tables=(summary, detail) if diff.height else (),
                notes=() if diff.height else ("no diagnostic changed between these releases",)),
    ]  # fmt: skip


def _optional(dataset: str, parquet_root: Path) -> pl.DataFrame | None:
    return (
        store.scan(dataset, parquet_root).collect() if (parquet_root / dataset).is_dir() else None
    )


def sections(cfg: config.Config, parquet_root: Path, figures_dir: Path) -> list[Section]:
    """Every target's sections (the labs have theirs), by label."""
    tg = store.scan("targets", parquet_root).filter(pl.col("target") != LABS_TARGET).collect()
    st = _optional("bench_stats", parquet_root)
    diff = _optional("escape_diff", parquet_root)
    out: list[Section] = []
    for label in sorted(set(tg["target"].to_list())):
        mine = pl.col("target") == label
        out += target_sections(
            label,
            rows=tg.filter(mine),
            st=st.filter(mine) if st is not None else pl.DataFrame(),
            diff=diff.filter(mine) if diff is not None else pl.DataFrame(schema=_DIFF_SCHEMA),
            configured_baseline=cfg.baseline,
            figures_dir=figures_dir,
        )
    return out


def headline(st: pl.DataFrame, diff: pl.DataFrame) -> metrics.Tree:
    """metrics.json's `targets.<label>.bench...` and `targets.<label>.escape_diff...`: the
    labs' figures (metrics.bench, metrics.escape_diff) of each target's own rows."""
    out: metrics.Tree = {}
    for frame, key, fn in (
        (st, "bench", metrics.bench),
        (diff, "escape_diff", metrics.escape_diff),
    ):
        if frame.is_empty():
            continue
        for label in sorted(set(frame["target"].to_list()) - {LABS_TARGET}):
            out.setdefault(label, {})[key] = fn(frame.filter(pl.col("target") == label))
    return metrics.prune(out)
