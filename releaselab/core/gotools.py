"""Go programs the stages build for themselves: built once per source, into the project cache.

`build_once` is the one locked build-into-place path (the dev tools in devtools/gotools.py use
it too); `traceconv` is runtime-foundations/tools/traceconv, built with the newest configured
release (tools_go()) because it must read the newest trace format.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from filelock import FileLock

from releaselab.core import config, gocmd, log, staging, toolchains
from releaselab.core.cache import cache_root
from releaselab.core.paths import TRACECONV_SRC


def tools_go() -> str:
    """The newest configured release (conf/go/all.yaml): golangci-lint can only lint code for
    Go versions up to the one it was built with, and traceconv must read the newest traces.
    A function, not a constant: reading conf/ at import time would fail outside the entry's
    error handling."""
    return config.release_span()[1]


BUILD_TIMEOUT = 1800.0


def build_once(path: Path, what: str, args: list[str], cwd: Path | None) -> Path:
    """Build `path` with `go ARGS` (TOOLS_GO) unless present: locked, into a temporary directory
    renamed into place, so a half-built tool is never found. cwd None: the temporary directory.
    ARGS may name the output directory as "{out}"."""
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.parent.parent / f".{path.name}.lock"), timeout=BUILD_TIMEOUT):
        if path.is_file():
            return path
        tc = toolchains.install(tools_go())
        with staging.staged_dir(path.parent) as tmp:
            log.info(f"building {what} with Go {tools_go()} (first time only)")
            gocmd.go(tc, [a.replace("{out}", str(tmp)) for a in args], cwd=cwd or tmp,
                     timeout=BUILD_TIMEOUT, extra_env={"GOBIN": str(tmp)})  # fmt: skip
    return path


def source_key(root: Path, go: str | None = None) -> str:
    """A hash of a Go module's build inputs (go.mod, go.sum, non-test .go files) and the Go."""
    h = hashlib.sha256(f"go{go or tools_go()}\n".encode())
    files = [p for p in root.rglob("*") if p.is_file() and "testdata" not in p.parts]
    for p in sorted(files):
        if p.name in ("go.mod", "go.sum") or (
            p.suffix == ".go" and not p.name.endswith("_test.go")
        ):
            h.update(f"{p.relative_to(root).as_posix()}\n".encode() + p.read_bytes())
    return h.hexdigest()[:16]


def traceconv(src: Path = TRACECONV_SRC) -> Path:
    """runtime-foundations/tools/traceconv built from the repo's source with tools_go().

    Not from the module proxy: the cache entry is keyed by a hash of the source, so an edit
    rebuilds it and an unchanged tree reuses it. Its own module (GOWORK=off): x/exp needs a
    newer `go` line than the lab workspace has.
    """
    path = cache_root() / "tools" / f"traceconv@{source_key(src)}" / "traceconv"
    args = ["build", "-trimpath", "-buildvcs=false", "-o", "{out}/traceconv", "."]
    return build_once(path, f"traceconv ({path.parent.name})", args, cwd=src)
