"""Small JSON summaries for DVC's plots (the top-level `plots:` of dvc.yaml), and the page that
`dvc plots show/diff --html-template` renders them into offline.

Each file is a list of flat records, one per line, sorted, floats rounded (metrics.num): equal
data gives equal bytes. The Vega-Lite templates are committed beside this module (vega/); they
facet by the records' own columns and tell revisions apart by DVC's `rev` field, so `dvc plots
diff A B` overlays two commits or experiments.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import vl_convert as vlc

from releaselab.bench import report as bench_report
from releaselab.report import metrics
from releaselab.sched import data as sched_data
from releaselab.sched import report as sched_report
from releaselab.stack import report as stack_report

TEMPLATES = Path(__file__).resolve().parent / "vega"
WAITS_ECDF = "sched_waits_ecdf.json"
STACK_INUSE = "stack_inuse.json"
BENCH_RATIO = "bench_ratio.json"
PAGE = "page.html"  # the --html-template of `dvc plots show`: Vega inlined, no network
# vl-convert's default snippet: what DVC's page scripts call (vegaEmbed) as globals
BUNDLE_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
KEYS = sched_report.KEYS  # workload, gomaxprocs, go


def records_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """A JSON list, one record per line (keys sorted), floats rounded: stable and diffable."""

    def clean(v: Any) -> Any:
        return metrics.num(v) if isinstance(v, float) else v

    lines = [json.dumps({k: clean(v) for k, v in r.items()}, sort_keys=True) for r in rows]
    return "[\n" + ",\n".join(lines) + ("\n" if lines else "") + "]\n"


def _strings(df: pl.DataFrame) -> pl.DataFrame:
    """Categorical columns (waits_slices reads strings as categoricals) back to strings."""
    return df.with_columns(pl.col(pl.Categorical).cast(pl.String))


def wait_aggregates(slices: Iterator[pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(latency summary, ECDF points) of the scheduling waits per workload x GOMAXPROCS x go,
    from slices of whole workload x GOMAXPROCS groups (sched.report.waits_slices)."""
    summaries, points = [], []
    for df in slices:
        summaries.append(_strings(sched_data.latency_summary(df, "wait_ns", KEYS)))
        points.append(_strings(sched_data.ecdf_points(df, "wait_ns", KEYS)))
    if not summaries:
        return pl.DataFrame(), pl.DataFrame()
    return pl.concat(summaries).sort(KEYS), pl.concat(points).sort(*KEYS, "level")


def wait_ecdf_records(points: pl.DataFrame) -> list[dict[str, Any]]:
    """ECDF lines: wait in µs (0 drawn at 1 ns: the axis is logarithmic) at each level."""
    if points.is_empty():
        return []
    wait_us = pl.max_horizontal(pl.col("wait_ns") * sched_report.US, pl.lit(sched_report.MIN_US))
    return (
        points.select("go", "gomaxprocs", "workload", "level", wait_us=wait_us)
        .sort("gomaxprocs", "workload", "go", "level")
        .to_dicts()
    )


def stack_records(df: pl.DataFrame) -> list[dict[str, Any]]:
    """StackInuse over time per toolchain x scenario x GOMAXPROCS x GODEBUG, downsampled as the
    report's figure is (maximum per time bucket, phases aligned across runs)."""
    if df.is_empty():
        return []
    lines = stack_report.chart_frame(df, stack_report.band_frame(df))
    return (
        lines.select("go", "gomaxprocs", "godebug", "scenario", "t_ms", "mib")
        .sort("gomaxprocs", "godebug", "scenario", "go", "t_ms")
        .to_dicts()
    )


def bench_ratio_records(st: pl.DataFrame) -> list[dict[str, Any]]:
    """Per benchmark x toolchain x GOMAXPROCS: median time/op over the baseline's, and interval."""
    if st.is_empty():
        return []
    ratios = bench_report.ratio_frame(st)
    return (
        ratios.select("go", "gomaxprocs", "benchmark", "ratio", "lo", "hi",
                      significant=pl.col("significant").fill_null(False))
        .sort("gomaxprocs", "benchmark", "go")
        .to_dicts()
    )  # fmt: skip


def page_template() -> str:
    """An HTML template for `dvc plots show --html-template`: DVC's page with Vega, Vega-Lite and
    vega-embed inlined (vl-convert's pinned bundle) instead of DVC's CDN scripts."""
    bundle = vlc.javascript_bundle(BUNDLE_GLOBALS)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        "<title>go-release-lab: DVC plots</title>\n"
        f"<script>\n(function () {{\n{bundle}\n}})();\n</script>\n"
        "<style>table { border-spacing: 15px; }</style>\n</head>\n<body>\n"
        "{plot_divs}\n</body>\n</html>\n"
    )


def write(out_dir: Path, files: Mapping[str, str]) -> None:
    """Write each file's text into out_dir, removing files of earlier runs it no longer has."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(out_dir.iterdir()):
        if old.is_file() and old.name not in files:
            old.unlink()
    for name, text in sorted(files.items()):
        (out_dir / name).write_text(text, encoding="utf-8")
