"""The stack-growth stage and its report, on output captured from the real lab.

tests/data/stack/host=vm/go=<label>/gomaxprocs=<n>/ holds what `releaselab.stack.cell.run_variant`
and `run_overhead` wrote for Go 1.21.13 and 1.27.3 (the lab built with each, GOMAXPROCS 1 and 2,
GODEBUG unset and adaptivestackstart=0, 3 overhead reps): the same layout as data/raw/stack/.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from releaselab.core import catalog, config, gocmd, hosts, store
from releaselab.report import figures, render
from releaselab.report.render import Table
from releaselab.stack import cell as stack
from releaselab.stack import report as report_stack

DATA = Path(__file__).parent / "data" / "stack"
CELLS = sorted(DATA.glob("host=*/go=*/gomaxprocs=*"))
MIB = 1024 * 1024


def _cell_keys(csv_path: Path) -> tuple[str, int, str]:
    go = csv_path.parent.parent.name.removeprefix("go=")
    procs = int(csv_path.parent.name.removeprefix("gomaxprocs="))
    return go, procs, "" if csv_path.stem == "default" else csv_path.stem


def _read(csv_path: Path) -> pl.DataFrame:
    go, procs, godebug = _cell_keys(csv_path)
    return stack.parse_csv(
        csv_path.read_text(encoding="utf-8"), go=go, gomaxprocs=procs, godebug=godebug
    )


@pytest.fixture(scope="module")
def captured() -> pl.DataFrame:
    """Every captured run as rows of the `stack` dataset."""
    return pl.concat([_read(p) for p in sorted(DATA.glob("host=*/go=*/gomaxprocs=*/*.csv"))])


@pytest.fixture(scope="module")
def overhead() -> pl.DataFrame:
    frame = report_stack.load_overhead(DATA)
    assert frame is not None
    return frame


def _table_for(procs: int, captured: pl.DataFrame) -> Table:
    tables = dict(report_stack.peak_final_tables(report_stack.phase_table(captured)))
    return tables[procs]


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        DATA / "host=vm/go=1.21.13/gomaxprocs=1/default.csv",
        DATA / "host=vm/go=1.27.3/gomaxprocs=2/default.csv",
    ],
    ids=["1.21.13", "1.27.3"],
)
def test_csv_parses_to_the_dataset_schema(path: Path) -> None:
    df = _read(path)
    assert df.schema == pl.Schema(catalog.schema("stack"))
    assert df.height == len(path.read_text().splitlines()) - 1


def test_memstats_is_null_on_samples_and_set_on_boundaries(captured: pl.DataFrame) -> None:
    by_kind = captured.group_by("kind").agg(
        nulls=pl.col("memstats_stack_inuse").null_count(), rows=pl.len()
    )
    counts = {r["kind"]: (r["nulls"], r["rows"]) for r in by_kind.iter_rows(named=True)}
    assert counts["sample"][0] == counts["sample"][1] > 0
    assert counts["boundary"][0] == 0


def test_metrics_every_toolchain_has_are_never_null(captured: pl.DataFrame) -> None:
    cols = ("t_ns", "stack_inuse_bytes", "goroutines", "starting_size_bytes", "gc_cycles")
    assert captured.select(cols).null_count().row(0) == (0,) * len(cols)


def test_empty_metric_field_reads_as_null() -> None:
    text = (DATA / "host=vm/go=1.27.3/gomaxprocs=1/default.csv").read_text().splitlines()
    fields = text[1].split(",")
    fields[6] = ""  # goroutines: what a toolchain without the metric writes
    df = stack.parse_csv(
        "\n".join([text[0], ",".join(fields)]) + "\n", go="x", gomaxprocs=1, godebug=""
    )
    assert df["goroutines"].to_list() == [None]
    assert df["stack_inuse_bytes"].dtype == pl.Int64


def test_changed_csv_header_is_rejected_naming_the_contract() -> None:
    with pytest.raises(stack.StackLabError, match="output contract changed"):
        stack.parse_csv("t_ns,scenario\n1,deep\n", go="x", gomaxprocs=1, godebug="")


def test_system_goroutines_count_from_go_1_26(captured: pl.DataFrame) -> None:
    start = captured.filter((pl.col("phase") == "start") & (pl.col("kind") == "boundary"))
    by_go = dict(start.group_by("go").agg(pl.col("goroutines").min()).iter_rows())
    assert by_go["1.21.13"] < by_go["1.27.3"]


def test_godebug_variants_get_distinct_file_names() -> None:
    assert stack.variant_name("") == "default"
    assert stack.variant_name("adaptivestackstart=0") == "adaptivestackstart=0"
    assert stack.variant_name("a=1,b=2") == "a=1+b=2"


def test_meta_with_another_godebug_is_refused() -> None:
    meta = json.loads((DATA / "host=vm/go=1.27.3/gomaxprocs=1/default.meta.json").read_text())
    tc = gocmd.Toolchain(
        label="1.27.3", goroot=Path("/nonexistent"), source="pypi", version="1.27.3"
    )
    stack.check_meta(meta, tc, gomaxprocs=1, godebug="")
    with pytest.raises(stack.StackLabError, match="GODEBUG was ''"):
        stack.check_meta(meta, tc, gomaxprocs=1, godebug="adaptivestackstart=0")


# --- report ------------------------------------------------------------------------------------


@pytest.mark.parametrize("csv_path", sorted(DATA.glob("host=*/go=*/gomaxprocs=*/*.csv")), ids=str)
def test_peak_and_final_table_matches_the_raw_csv(csv_path: Path, captured: pl.DataFrame) -> None:
    go, procs, godebug = _cell_keys(csv_path)
    with csv_path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    table = _table_for(procs, captured)
    peak_col = table.columns.index(f"peak MiB ({report_stack.godebug_text(godebug)})")
    final_col = peak_col + 1
    by_phase = {(r[1], r[2]): r for r in (*table.rows, *table.folded) if r[2] == go}
    for phase in {r["phase"] for r in rows}:
        mine = [r for r in rows if r["phase"] == phase]
        peak = max(int(r["stack_inuse_bytes"]) for r in mine)
        (final,) = [int(r["stack_inuse_bytes"]) for r in mine if r["kind"] == "boundary"]
        row = by_phase[(phase, go)]
        assert row[peak_col] == f"{peak / MIB:.2f}", phase
        assert row[final_col] == f"{final / MIB:.2f}", phase


def _runs_of(df: pl.DataFrame, go: str, scales: list[float]) -> pl.DataFrame:
    """The captured run as several runs (rounds) of toolchain `go`, StackInuse scaled."""
    return pl.concat([
        df.with_columns(
            go=pl.lit(go), round=pl.lit(i, pl.Int64),
            stack_inuse_bytes=(pl.col("stack_inuse_bytes") * k).cast(pl.Int64),
        )
        for i, k in enumerate(scales, 1)
    ])  # fmt: skip


def test_a_release_difference_is_flagged_only_when_the_ranges_of_runs_do_not_overlap(
    captured: pl.DataFrame,
) -> None:
    one = captured.filter(
        (pl.col("go") == "1.27.3") & (pl.col("gomaxprocs") == 1) & (pl.col("godebug") == "")
    )
    runs = pl.concat([
        _runs_of(one, "1.25.0", [1.0, 1.1, 1.2]),
        _runs_of(one, "1.26.0", [1.15, 1.3, 1.4]),  # overlaps the baseline's range
        _runs_of(one, "1.27.0", [1.5, 1.6, 1.7]),  # above it in every run
    ])  # fmt: skip
    diff = report_stack.differences(report_stack.phase_table(runs), "1.25.0")
    big = report_stack.phase_table(one).filter(pl.col("peak_bytes") > 1024 * 1024)
    assert set(diff["go"]) == {"1.27.0"}
    assert set(diff["direction"]) == {"higher"}
    assert set(big["phase"]) <= set(diff.filter(pl.col("quantity") == "peak")["phase"])
    (table,) = [
        t for p, t in report_stack.peak_final_tables(report_stack.phase_table(runs)) if p == 1
    ]
    flag = table.columns.index("vs 1.25.0 (GODEBUG unset)")
    peak = table.columns.index("peak MiB (GODEBUG unset)")
    rows = {(r[1], r[2]): r for r in table.rows}
    phase = big["phase"][0]
    assert "peak higher" in str(rows[(phase, "1.27.0")][flag])
    assert rows[(phase, "1.26.0")][flag] == ""
    assert rows[(phase, "1.26.0")][3] == "3"
    assert str(rows[(phase, "1.26.0")][peak]).count("[") == 1  # median [min-max]


def test_table_lists_phases_in_run_order(captured: pl.DataFrame) -> None:
    meta = json.loads((DATA / "host=vm/go=1.27.3/gomaxprocs=1/default.meta.json").read_text())
    run_order = [p["phase"] for p in meta["phases"]]
    for procs in (1, 2):
        table = _table_for(procs, captured)
        shown = list(dict.fromkeys(r[1] for r in table.rows))
        folded = list(dict.fromkeys(r[1] for r in table.folded))
        # phases that differ first, the others folded: each part in the order of the run
        assert shown == [p for p in run_order if p in shown]
        assert folded == [p for p in run_order if p in folded]
        assert {*shown, *folded} == set(run_order)
        assert len(shown) + len(folded) == len(run_order)


def test_chart_stays_under_the_row_cap_with_many_runs(captured: pl.DataFrame) -> None:
    # 8 captured runs relabelled as 10 toolchains: 80 runs, far more than the default pipeline.
    many = pl.concat([captured.with_columns(go=pl.lit(f"1.{20 + i}.0")) for i in range(10)])
    bands = report_stack.band_frame(many)
    spec = json.loads(
        figures.spec_json(report_stack.stack_chart(report_stack.chart_frame(many, bands), bands))
    )
    rows = sum(len(v) for v in spec["datasets"].values())
    assert many.height > figures.MAX_ROWS
    assert rows <= report_stack.CHART_ROWS + bands.height


def test_chart_keeps_the_peak_of_every_run(captured: pl.DataFrame) -> None:
    bands = report_stack.band_frame(captured)
    lines = report_stack.chart_frame(captured, bands)
    charted = lines.group_by("go", "gomaxprocs", "godebug").agg(pl.col("mib").max())
    raw = (
        captured.filter(pl.col("scenario").is_in(report_stack.SCENARIOS))
        .group_by("go", "gomaxprocs", "godebug")
        .agg(mib=pl.col("stack_inuse_bytes").max() / MIB)
    )
    assert charted.sort(pl.all()).equals(raw.sort(pl.all()))


def test_overhead_table_matches_the_overhead_json(overhead: pl.DataFrame) -> None:
    table = report_stack.overhead_table(overhead)
    doc = json.loads((DATA / "host=vm/go=1.27.3/gomaxprocs=2/overhead.json").read_text())
    (row,) = [r for r in table.rows if r[0] == "1.27.3" and r[1] == 2]
    assert row[2] == doc["reps"]
    assert row[3] == f"{doc['median_total_wall_off_ns'] / 1e6:.1f}"
    assert row[5] == f"{doc['total_wall_delta_pct']:+.1f}"
    worst = max(abs(p["stack_delta_bytes"]) for p in doc["phases"])
    assert str(row[7]).startswith(f"{worst // 1024}")


def test_overhead_text_states_wall_time_gc_and_stack_effects(overhead: pl.DataFrame) -> None:
    text = report_stack.overhead_text(overhead, "1ms")
    lo = overhead["total_delta_pct"].min()
    assert isinstance(lo, float)
    assert f"{lo:+.1f}%" in text
    assert "GC cycles per run were the same" in text
    assert f"of {overhead.height} phase comparisons" in text


def test_sections_are_byte_identical_when_rebuilt(
    captured: pl.DataFrame, overhead: pl.DataFrame, tmp_path: Path
) -> None:
    out = []
    for name in ("a", "b"):
        secs = report_stack.build_sections(captured, overhead, tmp_path / name, interval="1ms")
        out.append((render.markdown("t", secs), (tmp_path / name / "stack_inuse.svg").read_bytes()))
    assert out[0] == out[1]
    assert (tmp_path / "a" / "stack_inuse.png").stat().st_size > 0


def test_sections_name_the_caveats(
    captured: pl.DataFrame, overhead: pl.DataFrame, tmp_path: Path
) -> None:
    secs = report_stack.build_sections(captured, overhead, tmp_path, interval="1ms")
    method = secs[0].text  # the caveats are method details, after the chart
    assert "system goroutines from Go 1.26" in method
    assert "flushes the per-P stack caches" in method
    assert "starting stack size" in " ".join(secs[0].notes)  # the finding stays in view
    assert [s.title for s in secs][-1] == "Stack growth: sampler overhead"


# --- the stage, end to end ----------------------------------------------------------------------


@pytest.mark.slow
def test_stage_runs_every_cell_k_times_into_round_partitions(
    repo: Path, go_newest: gocmd.Toolchain, tmp_path: Path
) -> None:
    for pkg in ("stages", "releaselab"):  # config.load() reads params.yaml beside releaselab/
        shutil.copytree(repo / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    overrides = ["go=one", "sweep.gomaxprocs=[1]", "labs.stack.overhead_reps=1",
                 "labs.stack.runs=2"]  # fmt: skip
    (tmp_path / "params.yaml").write_text(config.compose_yaml(overrides), encoding="utf-8")
    build = tmp_path / "data/raw/build/go=1.27.3"
    gocmd.go(
        go_newest,
        ["build", "-trimpath", "-o", str(build / stack.BINARY), "."],
        cwd=repo / "runtime-foundations/stack-growth",
        timeout=300,
    )
    (build / "go-version.txt").write_text(gocmd.go_version(go_newest) + "\n")
    res = subprocess.run(
        [sys.executable, "-m", "stages.stack"],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    df = pl.read_parquet(
        tmp_path / "data/parquet/stack/**/*.parquet",
        hive_partitioning=True,
        hive_schema=catalog.hive_schema("stack"),
    )
    assert dict(df.schema) == dict(catalog.schema("stack"))
    assert df.select("go", "gomaxprocs", "round", "order").unique().sort("round").rows() == [
        ("1.27.3", 1, 1, 1),
        ("1.27.3", 1, 2, 2),
    ]
    assert sorted(df["godebug"].unique()) == ["", "adaptivestackstart=0"]
    raw = tmp_path / f"data/raw/stack/host={hosts.label()}/go=1.27.3/gomaxprocs=1"
    assert sorted(p.name for p in raw.iterdir()) == ["overhead.json", "round=1", "round=2"]
    assert sorted(p.name for p in (raw / "round=2").iterdir()) == [
        "adaptivestackstart=0.csv",
        "adaptivestackstart=0.meta.json",
        "default.csv",
        "default.meta.json",
    ]
    meta = store.read_metadata("stack", tmp_path / "data/parquet")
    assert len(meta) == 2
    assert all(m["go_version"].startswith("go version go1.27.3 ") for m in meta)
