"""reports/metrics.json's figures (releaselab.report.metrics) and the plot summaries
(releaselab.report.plots): small frames with known answers, and the captured stack-growth runs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dvc.utils.flatten import flatten

from releaselab.core import catalog
from releaselab.report import metrics, plots
from releaselab.stack import cell as stack_cell

STACK_DATA = Path(__file__).parent / "data" / "stack"


def _stats_row(
    go: str, procs: int, name: str, unit: str, center: float, **kw: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in catalog.schema("bench_stats")}
    row |= {"go": go, "gomaxprocs": procs, "lab": "lab", "package": "p", "name": name,
            "unit": unit, "center": center, "ci_low": center * 0.9, "ci_high": center * 1.1,
            "n": 6, "baseline": "1.25.5", "n_baseline": 6}  # fmt: skip
    return row | kw


def _bench_stats() -> pl.DataFrame:
    rows = []
    for name, base, new, sig in (("A", 100.0, 200.0, True), ("B", 100.0, 50.0, True),
                                 ("C", 10.0, 10.0, False)):  # fmt: skip
        rows.append(_stats_row("1.25.5", 1, name, "ns/op", base))
        delta = (new / base - 1) * 100
        rows.append(_stats_row("1.27.3", 1, name, "ns/op", new, delta=delta, significant=sig,
                               p_value=0.01, p_adjusted=0.02 if sig else 0.5))  # fmt: skip
    for name, base, new in (("A", 2.0, 1.0), ("B", 0.0, 0.0), ("C", 1.0, 1.0)):
        rows.append(_stats_row("1.25.5", 1, name, "allocs/op", base))
        rows.append(_stats_row("1.27.3", 1, name, "allocs/op", new,
                               delta=None if base == 0 else (new / base - 1) * 100,
                               significant=new != base))  # fmt: skip
    return pl.DataFrame(rows, schema=catalog.schema("bench_stats"))


def test_bench_figures_against_the_baseline() -> None:
    out = metrics.bench(_bench_stats())
    time = out["1.27.3"]["gomaxprocs_1"]["time"]
    assert time["geomean_ratio"] == 1.0  # (2 x 0.5 x 1)^(1/3)
    assert math.isclose(time["ci_low"], 0.9)
    assert math.isclose(time["ci_high"], 1.1)
    assert (time["regressions"], time["improvements"], time["benchmarks"]) == (1, 1, 3)
    assert time["geomean_ns_op"] == metrics.num((200 * 50 * 10) ** (1 / 3))
    allocs = out["1.27.3"]["gomaxprocs_1"]["allocs_op"]
    assert (allocs["up"], allocs["down"]) == (0, 1)
    assert allocs["geomean_ratio"] == metrics.num(0.5 ** (1 / 3))  # 0/0 counts as 1
    # the baseline has its own time, nothing to compare
    assert out["1.25.5"] == {"gomaxprocs_1": {"time": {"geomean_ns_op": metrics.num(
        (100 * 100 * 10) ** (1 / 3))}}}  # fmt: skip


def test_an_infinite_interval_leaves_the_interval_out() -> None:
    st = _bench_stats().with_columns(ci_high=pl.lit(math.inf))
    time = metrics.bench(st)["1.27.3"]["gomaxprocs_1"]["time"]
    assert "ci_low" not in time
    assert "ci_high" not in time
    assert time["geomean_ratio"] == 1.0


def test_escape_diff_counts_by_change_and_kind() -> None:
    df = pl.DataFrame(
        {
            "to_go": ["1.26.6"] * 3 + ["1.27.3"],
            "change": ["appears", "appears", "disappears", "appears"],
            "kind_before": [None, None, "escapes", None],
            "kind_after": ["escapes", "escapes", None, "moved_to_heap"],
        }
    )
    assert metrics.escape_diff(df) == {
        "1.26.6": {"appears": {"escapes": 2, "total": 2},
                   "disappears": {"escapes": 1, "total": 1}},
        "1.27.3": {"appears": {"moved_to_heap": 1, "total": 1}},
    }  # fmt: skip


def test_sched_figures_in_microseconds() -> None:
    waits = pl.DataFrame({"go": ["1.27.3", "1.27.3"], "gomaxprocs": [2, 2],
                          "workload": ["cpu", None], "p50": [1500.0, 1.0],
                          "p99": [2e6, 1.0]})  # fmt: skip
    req = pl.DataFrame({"go": ["1.27.3"], "gomaxprocs": [2], "workload": ["serve"],
                        "p99": [123456.7]})  # fmt: skip
    assert metrics.sched(waits, req) == {"1.27.3": {"gomaxprocs_2": {
        "waits": {"cpu": {"p50_us": 1.5, "p99_us": 2000.0}},
        "requests": {"serve": {"p99_us": 123.457}}}}}  # fmt: skip


def test_num_rounds_to_significant_digits_and_drops_what_json_cannot_hold() -> None:
    assert metrics.num(1234567.891) == 1234570.0
    assert metrics.num(0.000123456789) == 0.000123457
    assert metrics.num(math.nan) is None
    assert metrics.num(math.inf) is None
    assert metrics.num(None) is None
    assert metrics.num(0.0) == 0.0


def test_metrics_json_is_sorted_flat_numbers_and_stable() -> None:
    tree = {"z": {"b": 1, "a": None}, "a": {"empty": {}, "x": 0.5}}
    text = metrics.to_json(tree)
    assert text == metrics.to_json(json.loads(text))
    assert text == '{\n  "a": {\n    "x": 0.5\n  },\n  "z": {\n    "b": 1\n  }\n}\n'


@pytest.fixture(scope="module")
def captured_stack() -> pl.DataFrame:
    """Every captured stack-growth run (Go 1.21.13 and 1.27.3, GOMAXPROCS 1 and 2)."""
    frames = []
    for p in sorted(STACK_DATA.glob("host=*/go=*/gomaxprocs=*/*.csv")):
        go = p.parent.parent.name.removeprefix("go=")
        procs = int(p.parent.name.removeprefix("gomaxprocs="))
        godebug = "" if p.stem == "default" else p.stem
        text = p.read_text(encoding="utf-8")
        frames.append(stack_cell.parse_csv(text, go=go, gomaxprocs=procs, godebug=godebug))
    return pl.concat(frames)


def test_stack_peaks_of_the_captured_runs(captured_stack: pl.DataFrame) -> None:
    out = metrics.stack(captured_stack)
    assert sorted(out) == ["1.21.13", "1.27.3"]
    flat = flatten(out)
    assert all(isinstance(v, float) and v > 0 for v in flat.values())
    peak = captured_stack.filter(
        (pl.col("go") == "1.27.3") & (pl.col("gomaxprocs") == 2) & (pl.col("godebug") == "")
        & (pl.col("scenario") == "deep")
    ).select(pl.col("stack_inuse_bytes").max()).item()  # fmt: skip
    deep = out["1.27.3"]["gomaxprocs_2"]["godebug_unset"]["deep_peak_mib"]
    assert deep == metrics.num(peak / metrics.MIB)
    # every key DVC shows is a dotted path of names, one number each
    assert "1.27.3.gomaxprocs_1.godebug_unset.deep_peak_mib" in flat


def test_stack_plot_summary_is_small_and_stable(captured_stack: pl.DataFrame) -> None:
    rows = plots.stack_records(captured_stack)
    assert 0 < len(rows) <= 4_000
    assert set(rows[0]) == {"go", "gomaxprocs", "godebug", "scenario", "t_ms", "mib"}
    text = plots.records_json(rows)
    assert text == plots.records_json(plots.stack_records(captured_stack))
    assert json.loads(text) == json.loads(plots.records_json(json.loads(text)))


def test_plot_templates_are_vega_lite_with_dvc_anchors() -> None:
    for path in sorted(plots.TEMPLATES.glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        text = json.dumps(spec)
        assert spec["data"] == {"values": "<DVC_METRIC_DATA>"}, path.name
        assert "<DVC_METRIC_X>" in text, path.name
        assert "<DVC_METRIC_Y>" in text, path.name
        assert '"field": "rev"' in text, f"{path.name}: revisions must be told apart"


def test_the_offline_page_inlines_vega_and_keeps_dvcs_placeholder() -> None:
    page = plots.page_template()
    assert "{plot_divs}" in page
    assert "{scripts}" not in page
    assert "window.vegaEmbed" in page
    assert "https://" not in page.split("<script>")[0]
