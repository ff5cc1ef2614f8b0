"""Go tools the project uses, built from the Go module proxy at pinned versions.

    python -m stages.gotools install [NAME...]   # golangci-lint, benchstat (default: all)
    python -m stages.gotools path NAME

Built with the TOOLS_GO toolchain (a PyPI wheel like every other Go here) into
$GO_RELEASE_LAB_CACHE/tools/<name>@<version>/, under a file lock, renamed into place when built.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock

from stages import gocmd, log, toolchains
from stages.cache import cache_root

# The newest release: golangci-lint can only lint code for Go versions up to the one it was
# built with, and traceconv must read the newest trace format.
TOOLS_GO = "1.27.3"
TOOLS: dict[str, tuple[str, str]] = {
    "golangci-lint": ("github.com/golangci/golangci-lint/v2/cmd/golangci-lint", "v2.15.0"),
    "benchstat": ("golang.org/x/perf/cmd/benchstat", "v0.0.0-20260908200009-22c9c6c9d4da"),
}
BUILD_TIMEOUT = 1800.0


def tool_path(name: str) -> Path:
    _module, version = TOOLS[name]
    return cache_root() / "tools" / f"{name}@{version}" / name


def ensure(name: str) -> Path:
    """The tool's binary, built first if it is not there yet."""
    if name not in TOOLS:
        raise KeyError(f"unknown tool {name!r}; known: {', '.join(TOOLS)}")
    path = tool_path(name)
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.parent.parent / f".{name}.lock"), timeout=BUILD_TIMEOUT):
        if path.is_file():
            return path
        module, version = TOOLS[name]
        tc = toolchains.install(TOOLS_GO)
        tmp = path.parent.parent / f".{name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            log.info(f"building {name} {version} with Go {TOOLS_GO} (first time only)")
            gocmd.go(
                tc,
                ["install", f"{module}@{version}"],
                cwd=tmp,
                timeout=BUILD_TIMEOUT,
                extra_env={"GOBIN": str(tmp)},
            )
            shutil.rmtree(path.parent, ignore_errors=True)
            tmp.rename(path.parent)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


TRACECONV_SRC = Path(__file__).resolve().parent.parent / "runtime-foundations/tools/traceconv"


def source_key(root: Path, go: str = TOOLS_GO) -> str:
    """A hash of a Go module's build inputs (go.mod, go.sum, non-test .go files) and the Go."""
    h = hashlib.sha256(f"go{go}\n".encode())
    files = [p for p in root.rglob("*") if p.is_file() and "testdata" not in p.parts]
    for p in sorted(files):
        if p.name in ("go.mod", "go.sum") or (
            p.suffix == ".go" and not p.name.endswith("_test.go")
        ):
            h.update(f"{p.relative_to(root).as_posix()}\n".encode() + p.read_bytes())
    return h.hexdigest()[:16]


def traceconv(src: Path = TRACECONV_SRC) -> Path:
    """runtime-foundations/tools/traceconv built from the repo's source with TOOLS_GO.

    Not from the module proxy: the cache entry is keyed by a hash of the source, so an edit
    rebuilds it and an unchanged tree reuses it. Its own module (GOWORK=off): x/exp needs a
    newer `go` line than the lab workspace has.
    """
    path = cache_root() / "tools" / f"traceconv@{source_key(src)}" / "traceconv"
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.parent.parent / ".traceconv.lock"), timeout=BUILD_TIMEOUT):
        if path.is_file():
            return path
        tc = toolchains.install(TOOLS_GO)
        tmp = path.parent.parent / f".traceconv.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            log.info(f"building traceconv ({path.parent.name}) with Go {TOOLS_GO}")
            gocmd.go(
                tc,
                ["build", "-trimpath", "-buildvcs=false", "-o", str(tmp / "traceconv"), "."],
                cwd=src,
                timeout=BUILD_TIMEOUT,
            )
            shutil.rmtree(path.parent, ignore_errors=True)
            tmp.rename(path.parent)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stages.gotools",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_inst = sub.add_parser("install")
    p_inst.add_argument("names", nargs="*", default=list(TOOLS))
    p_path = sub.add_parser("path")
    p_path.add_argument("name", choices=list(TOOLS))
    args = parser.parse_args(argv)
    try:
        for name in args.names if args.cmd == "install" else [args.name]:
            print(ensure(name))
    except (gocmd.GoCommandError, toolchains.ToolchainError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
