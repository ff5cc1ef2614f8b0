"""Every stage runs through one entry contract: bad input gives `error:` and `fix:` lines and exit
status 2, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from releaselab.core import config, entry
from releaselab.core.errors import InputMissing
from releaselab.core.gocmd import GoCommandError
from releaselab.core.paths import REPO

STAGES = [
    ["toolchains", "stage"],
    ["build", "1.27.3"],
    ["escape"],
    ["bench"],
    ["ledger"],
    ["sched"],
    ["stack"],
    ["report"],
]


@pytest.fixture(scope="module")
def bad_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The code with a params.yaml whose bench.rounds is -3 (config.load reads the params.yaml
    beside releaselab/)."""
    work = tmp_path_factory.mktemp("bad-params")
    for pkg in ("stages", "releaselab"):
        shutil.copytree(REPO / pkg, work / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    text = config.compose_yaml(["go=one"]).replace("rounds: 6", "rounds: -3")
    assert "rounds: -3" in text
    (work / "params.yaml").write_text(text, encoding="utf-8")
    return work


@pytest.mark.parametrize("argv", STAGES, ids=[a[0] for a in STAGES])
def test_bad_params_give_error_and_fix_lines_and_exit_2(bad_repo: Path, argv: list[str]) -> None:
    res = subprocess.run(
        [sys.executable, "-m", f"stages.{argv[0]}", *argv[1:]],
        cwd=bad_repo, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error: invalid configuration in "), res.stderr
    assert "bench.rounds: -3 must be >= 1" in res.stderr
    assert sum(ln.startswith("fix: ") for ln in res.stderr.splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_a_missing_input_names_the_file_and_the_stage_that_makes_it() -> None:
    text = entry.message(FileNotFoundError(2, "No such file", "data/raw/build/go=1.27.3/x"))
    assert text == (f"error: data/raw/build/go=1.27.3/x is missing\nfix: {InputMissing.fix}\n")


def test_an_error_that_carries_its_own_fix_gets_no_second_one() -> None:
    err = GoCommandError("exit status 1", argv=["go", "build"], toolchain="1.27.3", hint="do X")
    text = entry.message(err)
    assert text.startswith("error: exit status 1: go build\n")
    assert [ln for ln in text.splitlines() if ln.startswith("fix:")] == ["fix: do X"]
