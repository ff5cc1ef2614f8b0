"""DVC reads the report's metrics and plots across experiments: after two `dvc exp run`s of a tiny
pipeline (in a scratch repo git-ignoring data/ and reports/ as this one does), `dvc exp show` lists
both with the metrics side by side, `dvc metrics diff --md` gives a table and `dvc plots diff`
overlays them on the offline page. The README's CI recipe runs these commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from releaselab.core.paths import REPO
from tests.helpers import scratch

pytestmark = pytest.mark.slow

OVERRIDES = ["go=one", "sweep.gomaxprocs=[1]", "bench.rounds=2", "bench.benchtime=1x",
             "labs.sched.duration=10ms", "labs.stack.overhead_reps=1"]  # fmt: skip
GIT_ID = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
          for what, value in (("NAME", "lab test"), ("EMAIL", "lab@example.invalid"))}  # fmt: skip
TIMEOUT = 600
# What the README's CI recipe and plots commands run (tests/test_readme.py checks them by these).
METRICS_DIFF = ["metrics", "diff", "--md"]
PLOTS = ["--html-template", "reports/plots/page.html", "-o"]
KEY = "sched.1.27.3.gomaxprocs_1.waits.pingpong.p50_us"


def _run(argv: list[str], cwd: Path) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", **GIT_ID)
    res = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert res.returncode == 0, f"{argv} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def _dvc(work: Path, *args: str) -> str:
    return _run([sys.executable, "-m", "dvc", *args], work)


def _set(overrides: list[str]) -> list[str]:
    return [arg for o in overrides for arg in ("-S", o)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed scratch repo after `dvc repro`, then experiments seed2 and seed3."""
    work = scratch.make(tmp_path_factory.mktemp("metrics") / "work", OVERRIDES)
    shutil.copy2(REPO / ".gitignore", work / ".gitignore")  # data/ and reports/ ignored
    _dvc(work, "repro")
    _run(["git", "add", "-A"], work)
    _run(["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "baseline"], work)
    for seed in ("2", "3"):
        _dvc(work, "exp", "run", "-n", f"seed{seed}", *_set([*OVERRIDES, f"bench.seed={seed}"]))
    return work


def test_exp_show_lists_both_experiments_with_their_metrics(lab: Path) -> None:
    out = _dvc(
        lab,
        "exp",
        "show",
        "--md",
        "--no-pager",
        "--drop",
        ".*",
        "--keep",
        r"Experiment|bench\.seed|.*geomean_ns_op|.*pingpong\.p50_us|.*serve\.p99_us",
    )
    print(out)
    assert "seed2" in out
    assert "seed3" in out
    assert "bench.1.27.3.gomaxprocs_1.time.geomean_ns_op" in out
    for exp in ("seed2", "seed3"):
        line = next(ln for ln in out.splitlines() if re.search(rf"\b{exp}\b", ln))
        # a number, not DVC's "-" for a metric it could not read from the experiment
        assert re.search(r"^\|[^|]+\|\s*\d+(\.\d+)?\s*\|", line), line


def test_metrics_diff_gives_a_markdown_table(lab: Path) -> None:
    out = _dvc(lab, *METRICS_DIFF, "seed2", "seed3")
    print(out)
    assert out.startswith("| Path")
    assert "reports/metrics.json" in out
    assert "bench.1.27.3.gomaxprocs_1.time.geomean_ns_op" in out
    assert KEY not in out  # sched did not rerun: its waits are the same in both


def test_metrics_diff_against_the_commit(lab: Path) -> None:
    _dvc(lab, "exp", "apply", "seed3")
    out = _dvc(lab, *METRICS_DIFF, "HEAD", "--all")
    print(out)
    assert KEY in out
    assert "toolchains" in out


def test_plots_diff_overlays_two_experiments_offline(lab: Path) -> None:
    _dvc(lab, "plots", "diff", "seed2", "seed3", *PLOTS, "diff")
    page = (lab / "diff" / "index.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in page
    assert "window.vegaEmbed" in page
    assert page.count("vegaEmbed('#") == 3
    for rev in ("seed2", "seed3"):
        assert f'"rev": "{rev}"' in page
