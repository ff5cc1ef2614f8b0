"""Capture the compiler's escape analysis: the `-m=2` text and `-json=0` diagnostics of one
compile of each lab module and each extra package (labs.escape.packages)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from releaselab.build.binaries import BUILD_FLAGS
from releaselab.core import gocmd
from releaselab.core.gocmd import GoCommandError, Toolchain
from releaselab.core.paths import LAB_MODULES, REPO, WORKSPACE


def escape_units(extra: Sequence[str], repo: Path = REPO) -> list[tuple[str, Path, str]]:
    """(unit name, directory to build in, package pattern) for each lab and each extra package.

    An extra entry that is a directory (absolute or relative to the repo) is a user's module,
    built as `./...` there; anything else is an import path built from the escape-clinic module.
    """
    units = [(lab, WORKSPACE / lab, "./...") for lab in LAB_MODULES]
    for entry in extra:
        path = Path(entry) if Path(entry).is_absolute() else repo / entry
        name = "pkg__" + entry.strip("/").replace("/", "__").replace(".", "_")
        if path.is_dir():
            units.append((name, path.resolve(), "./..."))
        else:
            units.append((name, WORKSPACE / "escape-clinic", entry))
    return units


def capture_escape(
    tc: Toolchain, unit: str, *, cwd: Path, pattern: str, out: Path, timeout: float
) -> int:
    """Write the `-m=2` text and `-json=0` files of one compile of `pattern` into out/<unit>/.

    The -json directory is new for every build, so the compile's cache key is new too: the
    output can never be a replay from the build cache (which would rewrite no JSON files).
    """
    dest = out / "escape" / unit
    json_dir = (dest / "json").resolve()
    json_dir.mkdir(parents=True)
    res = gocmd.go(
        tc,
        ["build", *BUILD_FLAGS, "-o", os.devnull, f"-gcflags=-m=2 -json=0,{json_dir}", pattern],
        cwd=cwd,
        timeout=timeout,
        check=False,
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
