"""End to end: targets through the real pipeline, as a user runs them. In a committed scratch
repo, one `dvc exp run` with Go 1.21.13 and 1.27.3 (go=span) and, instead of the labs' benchmarks
(`targets.labs=false`), a real third-party module fetched from the Go module proxy at a pinned
version (the `targets=xxhash` preset) and two local module directories given on the command line
(`-S '+targets.<label>.dir=...'`): sumgo (go 1.21) and newgo (go 1.24: 1.21.13 skips it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from releaselab.core import store
from releaselab.core.paths import REPO
from tests.helpers import scratch

pytestmark = pytest.mark.slow

DATA = REPO / "tests" / "data" / "targets"
OVERRIDES = ["go=span", "sweep.gomaxprocs=[1]", "bench.rounds=3", "bench.benchtime=10x",
             "labs.sched.runs=2", "labs.sched.duration=10ms", "labs.stack.runs=1",
             "labs.stack.overhead_reps=1", "targets=xxhash", "targets.labs=false"]  # fmt: skip
COMMAND_LINE = [f"+targets.sumgo.dir={DATA / 'sumgo'}", f"+targets.newgo.dir={DATA / 'newgo'}"]
GIT_ID = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
          for what, value in (("NAME", "lab test"), ("EMAIL", "lab@example.invalid"))}  # fmt: skip
OLD, NEW = "1.21.13", "1.27.3"


def _run(argv: list[str], cwd: Path) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", **GIT_ID)
    res = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    assert res.returncode == 0, f"{argv} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout + res.stderr


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scratch repo after `dvc exp run -S ... -S '+targets.sumgo.dir=...' ...`."""
    work = scratch.make(tmp_path_factory.mktemp("targets") / "work", OVERRIDES)
    shutil.copy2(REPO / ".gitignore", work / ".gitignore")  # data/ and reports/ ignored
    _run(["git", "add", "-A"], work)
    _run(["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "base"], work)
    sets = [arg for o in [*OVERRIDES, *COMMAND_LINE] for arg in ("-S", o)]
    _run([sys.executable, "-m", "dvc", "exp", "run", *sets], work)
    return work


def _scan(work: Path, dataset: str) -> pl.DataFrame:
    return store.scan(dataset, work / "data" / "parquet").collect()


def test_the_proxy_module_is_benchmarked_with_both_toolchains(work: Path) -> None:
    bench = _scan(work, "bench").filter(pl.col("target") == "xxhash")
    assert set(bench["go"]) == {OLD, NEW}
    assert set(bench["name"]) == {f"{b}/{n}" for b in ("Sum64", "DigestBytes")
                                  for n in ("4B", "100B", "4KB")}  # fmt: skip
    assert set(bench["round"]) == {1, 2, 3}
    st = _scan(work, "bench_stats").filter(pl.col("target") == "xxhash", pl.col("go") == NEW)
    assert set(st["baseline"]) == {OLD}
    assert st.filter(pl.col("unit") == "sec/op")["delta"].null_count() == 0


def test_the_raw_text_names_each_runs_target(work: Path) -> None:
    text = (work / "data" / "raw" / "bench" / "bench.txt").read_text(encoding="utf-8")
    assert "target: xxhash\n" in text
    assert "target: sumgo\n" in text
    assert "target: labs\n" not in text


def test_the_proxy_modules_escape_changes_are_in_escape_diff(work: Path) -> None:
    diff = _scan(work, "escape_diff").filter(pl.col("target") == "xxhash")
    assert set(zip(diff["from_go"], diff["to_go"], strict=True)) == {(OLD, NEW)}
    assert diff.filter(pl.col("package") == "github.com/cespare/xxhash/v2").height > 5


def test_the_module_is_recorded_with_its_checksum_and_go_line(work: Path) -> None:
    row = (
        _scan(work, "targets")
        .filter(pl.col("target") == "xxhash", pl.col("go") == OLD)
        .row(0, named=True)
    )
    assert row["ref"] == "github.com/cespare/xxhash/v2@v2.3.0"
    assert row["source_hash"] == "h1:UL815xU9SqsFlibzuggzjXhog7bL6oX9BbNZnL2UFvs="
    assert (row["status"], row["go_line"]) == ("built", "1.11")


def test_a_toolchain_that_cannot_build_a_target_is_a_skipped_cell(work: Path) -> None:
    rows = _scan(work, "targets").filter(pl.col("target") == "newgo").sort("go")
    assert rows.select("go", "status", "reason").rows() == [
        (OLD, "skipped", "needs go >= 1.24 (this toolchain is go 1.21.13)"),
        (NEW, "built", ""),
    ]
    bench = _scan(work, "bench").filter(pl.col("target") == "newgo")
    assert set(bench["go"]) == {NEW}
    assert set(_scan(work, "bench_stats").filter(pl.col("target") == "newgo")["baseline"]) == {NEW}


def test_the_local_modules_escape_change_is_in_escape_diff(work: Path) -> None:
    diff = _scan(work, "escape_diff").filter(pl.col("target") == "sumgo")
    assert diff.select("function", "subject", "change", "kind_before", "kind_after").rows() == [
        ("Window", "make([]int, n)", "changes_kind", "escapes", "does_not_escape")
    ]


def test_the_report_has_a_section_per_target_with_table_chart_and_escape_changes(
    work: Path,
) -> None:
    md = (work / "reports" / "report.md").read_text(encoding="utf-8")
    for label in ("sumgo", "newgo", "xxhash"):
        assert f"## Target {label}: benchmarks" in md
        assert f"## Target {label}: escape analysis across releases" in md
    assert "| GOMAXPROCS | sumgo: allocs/op | go 1.21.13 (base) | go 1.27.3 |" in md
    # an exact unit prints as benchstat prints it: no interval at 0%, the change with its n
    assert "| 1 | Window | 1 | 0 · -100.00% (n=3) |" in md
    assert "![Target sumgo: benchmarks](figures/target_sumgo_ratio.svg)" in md
    assert "| 1.21.13 | 1.27.3 | changes_kind | escapes → does_not_escape | 1 |" in md
    assert "go 1.21.13 (skipped)" in md
    assert "> go 1.21.13: skipped, needs go >= 1.24 (this toolchain is go 1.21.13)" in md
    page = (work / "reports" / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="target-xxhash-benchmarks">Target xxhash: benchmarks</h2>' in page


def test_the_labs_are_left_out_of_bench_and_escape_but_still_run(work: Path) -> None:
    assert _scan(work, "bench").filter(pl.col("target") == "labs").is_empty()
    assert _scan(work, "escape").filter(pl.col("target") == "labs").is_empty()
    assert _scan(work, "escape_ledger").is_empty()
    assert not _scan(work, "sched_runs").is_empty()  # sched and stack run the labs' binaries


def test_the_targets_headline_figures_are_in_metrics(work: Path) -> None:
    m = json.loads((work / "reports" / "metrics.json").read_text(encoding="utf-8"))
    sumgo = m["targets"]["sumgo"]
    assert sumgo["bench"][NEW]["gomaxprocs_1"]["allocs_op"] == {"down": 1, "up": 0}
    assert sumgo["escape_diff"][NEW]["changes_kind"]["total"] == 1
    assert "bench" not in m  # the labs' own figures: none, they were left out


def test_the_report_with_targets_is_byte_identical_when_rerun(work: Path) -> None:
    def tree() -> dict[str, bytes]:
        root = work / "reports"
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file()}  # fmt: skip

    before = tree()
    assert any(name.startswith("figures/target_xxhash_ratio") for name in before)
    _run([sys.executable, "-m", "stages.report"], work)
    assert tree() == before
