"""A scratch copy of the pipeline, for tests and benchmarks that run `dvc repro` for real.

The code, the config and the labs (never data/ or reports/), a params.yaml composed from Hydra
overrides the way `dvc exp run` would, in a new git repository (DVC needs one).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
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
