"""Results shared through an S3 DVC remote: `dvc push` from one clone, `dvc pull` into a fresh one.

A small real pipeline (one toolchain, GOMAXPROCS=1, one round, tiny durations) runs once in a
scratch repository; then the README's push block ("Sharing results": the remote, its MinIO
endpoint, the keys in .dvc/config.local, `dvc push`) runs as written, aimed at moto's S3 server on
localhost (tests/helpers/s3.py; no AWS variable set), and the repository is committed. A clone of
it (`git clone`: no DVC cache, no data) runs the README's pull block.
"""

from __future__ import annotations

import hashlib
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import test_readme
from tests.helpers import s3, scratch

pytestmark = pytest.mark.slow

LABEL = "1.27.3"
OVERRIDES = ["go=one", "sweep.gomaxprocs=[1]", "bench.rounds=1", "bench.benchtime=1x",
             "labs.sched.duration=10ms", "labs.sched.runs=1", "labs.stack.overhead_reps=1",
             "labs.stack.runs=1"]  # fmt: skip
REMOTE_PREFIX = "go-release-lab/dvc"  # where the README's remote keeps the cache
# What DVC's outputs are: every dataset, the raw outputs (test binaries too) and the report.
OUTPUTS = ("data/parquet", "data/raw", "reports")
BUILD = Path("data/raw/build") / f"go={LABEL}"
BENCH_TXT = Path("data/raw/bench/bench.txt")
UP_TO_DATE = "Data and pipelines are up to date."


@dataclass(frozen=True)
class Pushed:
    work: Path  # the repository that ran the pipeline and pushed
    bucket: str
    env: dict[str, str]  # no AWS variable: the README's commands configure endpoint and keys
    pull: list[list[str]]  # the README's pull block, aimed at the test server
    hashes: dict[str, str]  # every output file -> sha256, as pushed


def _hashes(work: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for top in OUTPUTS:
        for p in sorted((work / top).rglob("*")):
            if p.is_file():
                out[p.relative_to(work).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _binaries(build: Path) -> list[Path]:
    return sorted(p for p in build.rglob("*") if p.suffix == ".test" or p.parent.name == "bin")


def _executable(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


def _aimed(block: list[test_readme.Command], server: s3.S3Server, bucket: str) -> list[list[str]]:
    return [shlex.split(test_readme.on_server(c.text, server, bucket)) for c in block]


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory, s3_server: s3.S3Server) -> Pushed:
    env = {k: v for k, v in s3_server.environ(keys=False).items() if k != "AWS_ENDPOINT_URL"}
    bucket = s3_server.new_bucket("dvc")  # its own: test_readme pushes to the README's bucket
    push, pull = test_readme.remote_blocks()
    work = scratch.make(tmp_path_factory.mktemp("dvc-s3") / "work", OVERRIDES)
    scratch.dvc(work, env, "repro")
    for argv in _aimed(push, s3_server, bucket):
        scratch.run(argv, work, env)
    scratch.commit_all(work, env, "pipeline run, S3 remote")
    return Pushed(work, bucket, env, _aimed(pull, s3_server, bucket), _hashes(work))


def _pull(pushed: Pushed, where: Path) -> Path:
    """A fresh clone of the pushed repository (no cache, no data) after the README's pull."""
    clone = where / "clone"
    scratch.run(["git", "clone", "-q", str(pushed.work), str(clone)], where, pushed.env)
    assert not (clone / ".dvc" / "cache").exists()
    assert all(p.endswith("/.gitignore") for p in _hashes(clone))  # DVC's, committed
    for argv in pushed.pull:
        scratch.run(argv, clone, pushed.env)
    return clone


@pytest.fixture(scope="module")
def pulled(pushed: Pushed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pulled clone for the tests that only read it."""
    return _pull(pushed, tmp_path_factory.mktemp("pulled"))


@pytest.fixture
def pulled_to_change(pushed: Pushed, tmp_path: Path) -> Path:
    """A pulled clone of the test's own, for a test that reruns stages in it."""
    return _pull(pushed, tmp_path)


def test_the_remote_holds_the_cache_by_content_hash(pushed: Pushed, s3_server: s3.S3Server) -> None:
    """DVC 3's layout, files/md5/<2 hex>/<30 hex>: the pushing clone's cache of outputs (its
    run cache, .dvc/cache/runs, stays local without `dvc push --run-cache`)."""
    keys = s3_server.objects(pushed.bucket, f"{REMOTE_PREFIX}/")
    cache = pushed.work / ".dvc" / "cache"
    local = {p.relative_to(cache).as_posix() for p in (cache / "files").rglob("*") if p.is_file()}
    assert {k.removeprefix(f"{REMOTE_PREFIX}/") for k in keys} == local
    assert all(k.startswith(f"{REMOTE_PREFIX}/files/md5/") for k in keys)


def test_pull_gives_a_fresh_clone_byte_identical_outputs(pushed: Pushed, pulled: Path) -> None:
    got = _hashes(pulled)
    assert any(k.startswith("data/parquet/") for k in got)
    assert any(k.startswith(BUILD.as_posix()) for k in got)
    assert got == pushed.hashes


def test_dvc_status_is_clean_after_pull(pushed: Pushed, pulled: Path) -> None:
    assert UP_TO_DATE in scratch.dvc(pulled, pushed.env, "status")


def test_repro_after_pull_runs_no_stage(pushed: Pushed, pulled: Path) -> None:
    log = scratch.dvc(pulled, pushed.env, "repro")
    assert "Running stage" not in log
    assert _hashes(pulled) == pushed.hashes


def test_bench_runs_the_test_binaries_pull_restored(pushed: Pushed, pulled_to_change: Path) -> None:
    pulled = pulled_to_change
    binaries = _binaries(pulled / BUILD)
    assert binaries
    assert not any(map(_executable, binaries))  # what DVC restores; else this proves nothing
    (pulled / BENCH_TXT).unlink()
    log = scratch.dvc(pulled, pushed.env, "repro", "-f", "-s", "bench")
    assert "Running stage 'bench'" in log
    assert "Benchmark" in (pulled / BENCH_TXT).read_text(encoding="utf-8")


def test_report_rerun_on_pulled_data_is_byte_identical(
    pushed: Pushed, pulled_to_change: Path
) -> None:
    pulled = pulled_to_change
    for p in (pulled / "reports").rglob("*"):
        if p.is_file():
            p.unlink()
    scratch.dvc(pulled, pushed.env, "repro", "-f", "-s", "report")
    reports = {k: v for k, v in pushed.hashes.items() if k.startswith("reports/")}
    assert {k: v for k, v in _hashes(pulled).items() if k.startswith("reports/")} == reports
