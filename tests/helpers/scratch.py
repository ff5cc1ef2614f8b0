"""A scratch copy of the pipeline, for tests and benchmarks that run `dvc repro` for real.

The code, the config and the labs (never data/ or reports/), a params.yaml composed from Hydra
overrides the way `dvc exp run` would, in a new git repository (DVC needs one).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from releaselab.core import config

PIPELINE_FILES = ("bin", "stages", "releaselab", "conf", "runtime-foundations", "dvc.yaml",
                  "pipelines", ".dvcignore", "pyproject.toml")  # fmt: skip


def make(work: Path, overrides: Sequence[str], *, skip: Sequence[str] = ()) -> Path:
    """Fill `work` with the pipeline and params.yaml from `overrides`; return it.

    skip: extra file-name patterns to leave out (testdata is always left out: never an input).
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "testdata", *skip)
    for name in PIPELINE_FILES:
        src = config.REPO / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=ignore)
        else:
            shutil.copy2(src, work / name)
    (work / ".dvc").mkdir()
    shutil.copy2(config.REPO / ".dvc" / "config", work / ".dvc" / "config")
    (work / "params.yaml").write_text(config.compose_yaml(overrides), encoding="utf-8")
    if (config.REPO / ".venv").is_dir():  # bin/stage finds the project's Python there
        (work / ".venv").symlink_to(config.REPO / ".venv")
    subprocess.run(["git", "init", "-q"], cwd=work, check=True, timeout=60)
    return work


# A committer for scratch repositories (CI has no git identity).
GIT_ID = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
          for what, value in (("NAME", "lab test"), ("EMAIL", "lab@example.invalid"))}  # fmt: skip


def run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """argv in cwd with env (the venv's bin first on PATH, GIT_ID added); fails unless it
    exits 0, showing its output."""
    full = {**env, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}", **GIT_ID}
    res = subprocess.run(list(argv), cwd=cwd, env=full, capture_output=True, text=True,
                         timeout=timeout, check=False)  # fmt: skip
    assert res.returncode == 0, f"{list(argv)} failed in {cwd}:\n{res.stdout}\n{res.stderr}"
    return res


def dvc(work: Path, env: Mapping[str, str], *args: str) -> str:
    """`dvc ARGS` in work with this interpreter; its stdout and stderr."""
    res = run([sys.executable, "-m", "dvc", *args], work, env)
    return res.stdout + res.stderr


def commit_all(work: Path, env: Mapping[str, str], message: str) -> None:
    """Commit everything in work (the pipeline, params.yaml, dvc.lock files, DVC's config)."""
    if not (work / ".gitignore").exists():
        (work / ".gitignore").write_text("__pycache__/\n", encoding="utf-8")
    run(["git", "add", "-A"], work, env)
    run(["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", message], work, env)
