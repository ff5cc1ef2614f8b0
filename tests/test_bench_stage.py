"""The bench stage: interleaved shuffled rounds, its raw text, and what it writes from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl
import pytest

from devtools import gotools
from releaselab.bench import session as bench
from releaselab.bench.session import Cell
from releaselab.core import config
from releaselab.core.errors import LabOutputError

RAW = Path(__file__).parent / "data/bench/pipeline/bench.txt"  # a real run of the stage


def _cells() -> list[Cell]:
    return [
        Cell(go, n, "lab", "pkg", Path("x.test"), Path("."))
        for go in ("1.25.5", "1.27.3")
        for n in (1, 2)
    ]


def test_each_round_runs_every_cell_once() -> None:
    runs = bench.schedule(_cells(), rounds=3, seed=7)
    for rnd in (1, 2, 3):
        assert sorted((c.go, c.gomaxprocs) for r, _, c in runs if r == rnd) == sorted(
            (c.go, c.gomaxprocs) for c in _cells()
        )


def test_order_is_recorded_and_increasing() -> None:
    assert [o for _, o, _ in bench.schedule(_cells(), rounds=3, seed=7)] == list(range(1, 13))


def test_the_seed_fixes_the_shuffle() -> None:
    a = bench.schedule(_cells(), rounds=4, seed=1)
    assert a == bench.schedule(_cells(), rounds=4, seed=1)
    assert a != bench.schedule(_cells(), rounds=4, seed=2)


def test_rounds_are_shuffled_independently() -> None:
    runs = bench.schedule(_cells(), rounds=6, seed=1)
    orders = {tuple((c.go, c.gomaxprocs) for r, _, c in runs if r == rnd) for rnd in range(1, 7)}
    assert len(orders) > 1


def test_raw_text_parses_to_the_long_contract() -> None:
    df = bench.parse(RAW.read_text(), str(RAW))
    assert df.schema == pl.Schema(bench.BENCH_SCHEMA)
    assert set(df["unit"].unique()) >= {"ns/op", "B/op", "allocs/op"}
    assert set(df["go"].unique()) == {"1.25.5", "1.26.6", "1.27.3"}
    assert set(df["gomaxprocs"].unique()) == {1, 2}
    lines = sum(1 for ln in RAW.read_text().splitlines() if ln.startswith("Benchmark"))
    per_line = df.group_by("go", "gomaxprocs", "package", "name", "round").len()
    assert per_line.height == lines


def test_gomaxprocs_1_results_without_suffix_get_it_from_the_config_line() -> None:
    df = bench.parse(RAW.read_text(), str(RAW))
    assert df.filter(pl.col("gomaxprocs") == 1, pl.col("name") == "A/before").height > 0


def test_a_malformed_benchmark_line_names_file_and_line() -> None:
    text = "go: 1.27.3\ngomaxprocs: 1\nround: 1\norder: 1\nBenchmarkX 12 abc ns/op\n"
    with pytest.raises(LabOutputError, match=r"^bench\.txt:5: "):
        bench.parse(text, "bench.txt")


def test_labels_naming_one_toolchain_are_an_aa_pair() -> None:
    cfg = config.compose(["go=one", "+go.toolchains.again.version=1.27.3"])
    assert cfg.aa_pairs == [("1.27.3", "again")]


def test_real_benchstat_reads_the_raw_text() -> None:
    res = subprocess.run([str(gotools.ensure("benchstat")), "-col", "go", "-ignore",
                          "round,order", str(RAW)], capture_output=True, text=True, timeout=300,
                         check=False)  # fmt: skip
    assert res.returncode == 0, res.stderr
    header = next(ln for ln in res.stdout.splitlines() if "1.27.3" in ln)
    assert "1.25.5" in header
    assert "1.26.6" in header
