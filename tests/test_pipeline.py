"""End to end: the real pipeline on one toolchain and GOMAXPROCS=1, in a scratch repo copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from stages import config

pytestmark = pytest.mark.slow

COPY = ("stages", "conf", "runtime-foundations", "dvc.yaml", ".dvcignore", "pyproject.toml")
OVERRIDES = ["go=one", "sweep.gomaxprocs=[1]", "bench.rounds=2", "bench.benchtime=10x"]


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
    work = tmp_path_factory.mktemp("pipeline")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "testdata")
    for name in COPY:
        src = repo / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=ignore)
        else:
            shutil.copy2(src, work / name)
    (work / ".dvc").mkdir()
    shutil.copy2(repo / ".dvc" / "config", work / ".dvc" / "config")
    (work / "params.yaml").write_text(config.compose_yaml(OVERRIDES), encoding="utf-8")
    _run(["git", "init", "-q"], work)
    first = _run([sys.executable, "-m", "dvc", "repro"], work)
    return work, first.stdout + first.stderr


def test_repro_runs_every_stage(pipeline: tuple[Path, str]) -> None:
    _, log = pipeline
    for stage in ("toolchains", "build@1.27.3", "report"):
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


def test_report_opens_offline_and_names_toolchain_and_machine(pipeline: tuple[Path, str]) -> None:
    work, _ = pipeline
    page = (work / "reports/index.html").read_text()
    md = (work / "reports/report.md").read_text()
    for text in (md, page):
        assert "go version go1.27.3" in text
        assert "CPU model" in text
    assert "http://" not in page
    assert "https://" not in page


def test_second_repro_runs_nothing(pipeline: tuple[Path, str]) -> None:
    work, _ = pipeline
    before = {p: p.read_bytes() for p in (work / "reports").iterdir()}
    log = _run([sys.executable, "-m", "dvc", "repro"], work).stdout
    assert "Running stage" not in log
    assert {p: p.read_bytes() for p in (work / "reports").iterdir()} == before


def test_report_is_byte_identical_when_rerun_on_the_same_data(pipeline: tuple[Path, str]) -> None:
    work, _ = pipeline
    before = {p.name: p.read_bytes() for p in (work / "reports").iterdir()}
    _run([sys.executable, "-m", "stages.report"], work)
    assert {p.name: p.read_bytes() for p in (work / "reports").iterdir()} == before
