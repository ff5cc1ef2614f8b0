"""Go tools the checks use, built from the Go module proxy at pinned versions.

    python -m devtools.gotools install [NAME...]   # golangci-lint, benchstat (default: all)
    python -m devtools.gotools path NAME

Built with the newest configured release (releaselab.core.gotools.tools_go) into
$GO_RELEASE_LAB_CACHE/tools/<name>@<version>/, under a file lock, renamed into place when built.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from releaselab.core import entry
from releaselab.core.cache import cache_root
from releaselab.core.errors import LabError
from releaselab.core.gotools import build_once, tools_go

__all__ = ["TOOLS", "ensure", "tool_path", "tools_go"]

TOOLS: dict[str, tuple[str, str]] = {
    "golangci-lint": ("github.com/golangci/golangci-lint/v2/cmd/golangci-lint", "v2.15.0"),
    "benchstat": ("golang.org/x/perf/cmd/benchstat", "v0.0.0-20260908200009-22c9c6c9d4da"),
}


def tool_path(name: str) -> Path:
    _module, version = TOOLS[name]
    return cache_root() / "tools" / f"{name}@{version}" / name


def ensure(name: str) -> Path:
    """The tool's binary, built from the Go module proxy first if it is not there yet."""
    if name not in TOOLS:
        raise LabError(f"unknown tool {name!r}; known: {', '.join(TOOLS)}")
    module, version = TOOLS[name]
    return build_once(tool_path(name), f"{name} {version}", ["install", f"{module}@{version}"],
                      cwd=None)  # fmt: skip


def body(args: argparse.Namespace) -> None:
    for name in args.names if args.cmd == "install" else [args.name]:
        print(ensure(name))


def main(argv: Sequence[str] | None = None) -> int:
    parser = entry.parser("devtools.gotools", __doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_inst = sub.add_parser("install")
    p_inst.add_argument("names", nargs="*", default=list(TOOLS))
    p_path = sub.add_parser("path")
    p_path.add_argument("name", choices=list(TOOLS))
    return entry.run_tool(body, argv, args=parser)


if __name__ == "__main__":
    raise SystemExit(main())
