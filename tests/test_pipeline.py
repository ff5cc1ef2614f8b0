"""End to end: the real pipeline on one toolchain and GOMAXPROCS=1, in a scratch repo copy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from devtools import browser
from releaselab.core import store
from tests.helpers import scratch

pytestmark = pytest.mark.slow

OVERRIDES = ["go=one", "sweep.gomaxprocs=[1]", "bench.rounds=2", "bench.benchtime=10x",
             "labs.sched.runs=3", "labs.stack.runs=2"]  # fmt: skip


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    res = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    assert res.returncode == 0, f"{argv} failed:\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="module")
def pipeline(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A scratch repo with a shrunken params.yaml, after one full `dvc repro`."""
    work = scratch.make(tmp_path_factory.mktemp("pipeline"), OVERRIDES)
    first = _run([sys.executable, "-m", "dvc", "repro"], work)
    return work, first.stdout + first.stderr


def test_repro_runs_every_stage(pipeline: tuple[Path, str]) -> None:
    _, log = pipeline
    for stage in ("toolchains", "build@1.27.3", "escape", "bench", "ledger", "report",
                  "pipelines/sched/dvc.yaml:sched", "pipelines/stack/dvc.yaml:stack"):  # fmt: skip
        assert f"Running stage '{stage}'" in log


def test_toolchains_dataset_reads_back_per_contract(pipeline: tuple[Path, str]) -> None:
    work, _ = pipeline
    df = pl.read_parquet(
        work / "data/parquet/toolchains/**/*.parquet",
        hive_partitioning=True,
        hive_schema={"go": pl.String},
    )
    assert df.select("go", "label", "version", "source").rows() == [
        ("1.27.3", "1.27.3", "1.27.3", "pypi")
    ]
    assert df["go_version"].item().startswith("go version go1.27.3 ")
    assert len(df["wheel_sha256"].item()) == 64


def test_build_records_what_ran(pipeline: tuple[Path, str]) -> None:
    work, _ = pipeline
    out = work / "data/raw/build/go=1.27.3"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["go_version"].startswith("go version go1.27.3 ")
    assert json.loads((out / "go-env.json").read_text())["GOTOOLCHAIN"] == "local"
    labs = {a["lab"] for a in manifest["artifacts"]}
    assert labs == {"escape-clinic", "schedule-forensics", "stack-growth"}
    for art in manifest["artifacts"]:
        assert (out / art["path"]).is_file()


def _scan(work: Path, dataset: str) -> pl.DataFrame:
    """The dataset as the pipeline wrote it, partition columns typed from the catalog."""
    return store.scan(dataset, work / "data/parquet").collect()


def test_escape_dataset_holds_every_lab_for_the_toolchain(pipeline: tuple[Path, str]) -> None:
    df = _scan(pipeline[0], "escape")
    assert set(df["lab"].unique()) == {"escape-clinic", "schedule-forensics", "stack-growth"}
    assert set(df["go"].unique()) == {"1.27.3"}
    assert df.filter(pl.col("in_json") == False).is_empty()  # noqa: E712


def test_bench_datasets_cover_every_round_and_unit(pipeline: tuple[Path, str]) -> None:
    bench = _scan(pipeline[0], "bench")
    assert set(bench["round"].unique()) == {1, 2}
    assert set(bench["gomaxprocs"].unique()) == {1}
    stats = _scan(pipeline[0], "bench_stats")
    assert {"center", "ci_low", "ci_high", "p_value", "significant"} <= set(stats.columns)
    assert (pipeline[0] / "data/raw/bench/bench.txt").read_text().startswith("Unit B/op")


def test_ledger_finds_no_wrong_prediction(pipeline: tuple[Path, str]) -> None:
    led = _scan(pipeline[0], "escape_ledger")
    assert led.height > 30
    assert led.filter(pl.col("verdict") == "prediction_wrong").is_empty()
    assert led.filter(pl.col("allocs_op").is_null()).is_empty()


def test_report_opens_offline_and_names_toolchain_and_machine(pipeline: tuple[Path, str]) -> None:
    work, _ = pipeline
    page = (work / "reports/index.html").read_text()
    md = (work / "reports/report.md").read_text()
    for text in (md, page):
        assert "go version go1.27.3" in text
        assert "CPU model" in text
        assert "Escape ledger" in text
        assert "Benchmarks vs the baseline toolchain" in text
    assert "![Allocations before and after each refactor](figures/escape_allocs.svg)" in md
    assert (work / "reports/figures/escape_allocs.png").stat().st_size > 1000
    assert page.count("<svg") >= 2
    # Nothing to fetch: no external scripts, styles or images (xmlns URIs are names, not loads).
    assert re.findall(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page) == []
    assert "<script" not in page
    assert "<link" not in page


def test_report_opens_in_chromium_offline_with_every_chart_drawn(
    pipeline: tuple[Path, str], tmp_path: Path
) -> None:
    work, _ = pipeline
    assert browser.find() is not None, "chromium is not on PATH: `make test` installs it"
    result = browser.check(work / "reports/index.html", tmp_path / "index.png")
    print(f"screenshot of the pipeline's report: {result.screenshot}")
    assert result.facts["charts"]
    assert result.problems() == []


def test_second_repro_runs_nothing(pipeline: tuple[Path, str]) -> None:
    work, _ = pipeline
    before = _tree(work / "reports")
    log = _run([sys.executable, "-m", "dvc", "repro"], work).stdout
    assert "Running stage" not in log
    assert _tree(work / "reports") == before


def test_report_is_byte_identical_when_rerun_on_the_same_data(pipeline: tuple[Path, str]) -> None:
    work, _ = pipeline
    before = _tree(work / "reports")
    _run([sys.executable, "-m", "stages.report"], work)
    assert _tree(work / "reports") == before


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }
