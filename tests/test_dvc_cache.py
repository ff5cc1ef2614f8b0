"""Outputs that come back from DVC's cache still run.

DVC restores the files of a directory output without their execute bit: after `dvc checkout`,
`dvc exp run`, `dvc exp apply` or `dvc pull` the binaries build@LABEL made are 0644. Every stage
that runs them (bench, sched, stack) must run them anyway.

One small real pipeline (one toolchain, GOMAXPROCS=1, one round, tiny durations) is run once,
committed, pushed to a local remote, and given one experiment; the tests share it. Each test
first removes the build and brings it back by the route it is named for, so the order they run
in does not matter.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from releaselab.core import hosts
from tests.helpers import scratch

pytestmark = pytest.mark.slow

LABEL = "1.27.3"
HOST = hosts.label()  # the stages' host label on this machine (config `host` is empty)
OVERRIDES = ["go=one", "sweep.gomaxprocs=[1]", "bench.rounds=1", "bench.benchtime=1x",
             "labs.sched.duration=10ms", "labs.sched.runs=1", "labs.stack.overhead_reps=1",
             "labs.stack.runs=1"]  # fmt: skip
BUILD = Path("data/raw/build") / f"go={LABEL}"
BENCH_TXT = Path("data/raw/bench/bench.txt")
EXPERIMENT = "seed2"
GIT_ID = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
          for what, value in (("NAME", "lab test"), ("EMAIL", "lab@example.invalid"))}  # fmt: skip
TIMEOUT = 600

# Each stage that runs build@LABEL's binaries, and a file it writes from what they print.
RUNNERS = {
    "bench": BENCH_TXT,
    "pipelines/sched/dvc.yaml:sched": Path(
        f"data/raw/sched/host={HOST}/go={LABEL}/gomaxprocs=1/metrics.json"
    ),
    "pipelines/stack/dvc.yaml:stack": Path(
        f"data/raw/stack/host={HOST}/go={LABEL}/gomaxprocs=1/round=1/default.csv"
    ),
}


def _env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", **GIT_ID)


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert res.returncode == 0, f"{argv} failed:\n{res.stdout}\n{res.stderr}"
    return res


def _dvc(work: Path, *args: str) -> str:
    res = _run([sys.executable, "-m", "dvc", *args], work)
    return res.stdout + res.stderr


def _git(work: Path, *args: str) -> None:
    _run(["git", "-c", "commit.gpgsign=false", *args], work)


def _set(overrides: list[str]) -> list[str]:
    """`dvc exp run` composes conf/ from scratch: every override again, as -S."""
    return [arg for o in overrides for arg in ("-S", o)]


def _binaries(build: Path) -> list[Path]:
    return sorted(p for p in build.rglob("*") if p.suffix == ".test" or p.parent.name == "bin")


def _executable(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


def _bench_results(work: Path) -> list[str]:
    text = (work / BENCH_TXT).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("Benchmark")]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed scratch repo after one `dvc repro`, its outputs pushed to a local remote,
    with one experiment (bench.seed=2) run in the workspace."""
    root = tmp_path_factory.mktemp("dvc-cache")
    work = scratch.make(root / "work", OVERRIDES)
    _dvc(work, "repro")
    _dvc(work, "remote", "add", "-d", "store", str(root / "remote"))
    _dvc(work, "push")
    (work / ".gitignore").write_text("__pycache__/\n", encoding="utf-8")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "baseline")
    _dvc(work, "exp", "run", "-n", EXPERIMENT, *_set([*OVERRIDES, "bench.seed=2"]))
    return work


@pytest.mark.parametrize("stage", RUNNERS, ids=lambda s: s.rsplit(":", 1)[-1])
def test_stage_runs_the_binaries_dvc_checkout_restored(pipeline: Path, stage: str) -> None:
    shutil.rmtree(pipeline / BUILD)
    _dvc(pipeline, "checkout", f"build@{LABEL}")
    restored = _binaries(pipeline / BUILD)
    assert restored
    assert not any(map(_executable, restored))  # what DVC does; else this proves nothing
    (pipeline / RUNNERS[stage]).unlink()
    log = _dvc(pipeline, "repro", "-f", "-s", stage)
    assert "Running stage" in log
    assert (pipeline / RUNNERS[stage]).stat().st_size > 0


def test_exp_run_benches_the_builds_it_restored_from_the_cache(pipeline: Path) -> None:
    shutil.rmtree(pipeline / BUILD)
    log = _dvc(pipeline, "exp", "run", "-n", "seed3", *_set([*OVERRIDES, "bench.seed=3"]))
    assert "Running stage 'bench'" in log
    assert _bench_results(pipeline)


def test_bench_runs_after_exp_apply_restored_the_builds(pipeline: Path) -> None:
    shutil.rmtree(pipeline / BUILD)
    _dvc(pipeline, "exp", "apply", EXPERIMENT)
    assert _binaries(pipeline / BUILD)
    (pipeline / BENCH_TXT).unlink()
    _dvc(pipeline, "repro", "-f", "-s", "bench")
    assert _bench_results(pipeline)


def test_bench_runs_in_a_clone_whose_builds_came_from_dvc_pull(
    pipeline: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    _run(["git", "clone", "-q", str(pipeline), str(clone)], tmp_path)
    _dvc(clone, "pull")
    assert _binaries(clone / BUILD)
    (clone / BENCH_TXT).unlink()
    _dvc(clone, "repro", "-f", "-s", "bench")
    assert _bench_results(clone)
