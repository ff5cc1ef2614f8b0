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


def _build_once(path: Path, what: str, args: list[str], cwd: Path | None) -> Path:
    """Build `path` with `go ARGS` (TOOLS_GO) unless present: locked, into a temporary directory
    renamed into place, so a half-built tool is never found. cwd None: the temporary directory.
    ARGS may name the output directory as "{out}"."""
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.parent.parent / f".{path.name}.lock"), timeout=BUILD_TIMEOUT):
        if path.is_file():
            return path
        tc = toolchains.install(TOOLS_GO)
        tmp = path.parent.parent / f".{path.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            log.info(f"building {what} with Go {TOOLS_GO} (first time only)")
            gocmd.go(tc, [a.replace("{out}", str(tmp)) for a in args], cwd=cwd or tmp,
                     timeout=BUILD_TIMEOUT, extra_env={"GOBIN": str(tmp)})  # fmt: skip
            shutil.rmtree(path.parent, ignore_errors=True)
            tmp.rename(path.parent)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def ensure(name: str) -> Path:
    """The tool's binary, built from the Go module proxy first if it is not there yet."""
    if name not in TOOLS:
        raise KeyError(f"unknown tool {name!r}; known: {', '.join(TOOLS)}")
    module, version = TOOLS[name]
    return _build_once(tool_path(name), f"{name} {version}", ["install", f"{module}@{version}"],
                       cwd=None)  # fmt: skip


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
    args = ["build", "-trimpath", "-buildvcs=false", "-o", "{out}/traceconv", "."]
    return _build_once(path, f"traceconv ({path.parent.name})", args, cwd=src)


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
