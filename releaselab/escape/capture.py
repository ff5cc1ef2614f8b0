"""Capture the compiler's escape analysis: the `-m=2` text and `-json=0` diagnostics of one
compile of each lab module and of each target (releaselab/build/targets.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from releaselab.build.binaries import BUILD_FLAGS
from releaselab.core import gocmd
from releaselab.core.gocmd import GoCommandError, Toolchain
from releaselab.core.paths import LAB_MODULES, WORKSPACE


def lab_units() -> list[tuple[str, Path, str]]:
    """(unit name, directory to build in, package pattern) for each lab module."""
    return [(lab, WORKSPACE / lab, "./...") for lab in LAB_MODULES]


def capture_escape(
    tc: Toolchain,
    unit: str,
    *,
    cwd: Path,
    patterns: Sequence[str],
    out: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> int:
    """Write the `-m=2` text and `-json=0` files of one compile of `patterns` into out/<unit>/.

    The -json directory is new for every build, so the compile's cache key is new too: the
    output can never be a replay from the build cache (which would rewrite no JSON files).
    """
    dest = out / "escape" / unit
    json_dir = (dest / "json").resolve()
    json_dir.mkdir(parents=True)
    res = gocmd.go(
        tc,
        ["build", *BUILD_FLAGS, "-o", os.devnull, f"-gcflags=-m=2 -json=0,{json_dir}", *patterns],
        cwd=cwd,
        timeout=timeout,
        check=False,
        extra_env=env,
    )
    if res.returncode != 0:
        raise GoCommandError(
            f"escape capture of {unit} failed (exit {res.returncode})",
            argv=res.args,
            toolchain=tc.label,
            stderr=res.stderr,
        )
    (dest / "m2.txt").write_text(res.stderr, encoding="utf-8")
    return len(res.stderr.splitlines())
