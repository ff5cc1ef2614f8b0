"""A config change reaches every stage that reads it: DVC reruns them and the data shows it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from releaselab.core import store
from tests.helpers import scratch

pytestmark = pytest.mark.slow


def _dvc(work: Path, *args: str) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    res = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=work, env=env,
                         capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout + res.stderr


def test_a_new_target_reruns_the_builds_and_lands_in_escape(tmp_path: Path) -> None:
    work = scratch.make(tmp_path, ["go=one", "sweep.gomaxprocs=[1]"])
    _dvc(work, "repro", "escape")
    params = work / "params.yaml"
    text = params.read_text(encoding="utf-8")
    assert "targets:\n  labs: true\n" in text
    params.write_text(
        text.replace("  labs: true\n", "  labs: true\n  strconv:\n    std: strconv\n")
    )
    status = _dvc(work, "status", "build@1.27.3", "escape")
    assert "build@1.27.3:" in status, status
    assert "targets" in status, status
    _dvc(work, "repro", "escape")
    esc = store.scan("escape", work / "data" / "parquet").collect()
    strconv = esc.filter(pl.col("target") == "strconv")
    assert strconv.height > 0
    assert strconv["file"].str.starts_with("strconv/").all()
