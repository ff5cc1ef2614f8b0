"""Every Go check, through the one runner: gofmt, go vet, golangci-lint, go test -race.

    python -m devtools.checks

Lab modules are checked with the oldest toolchain they support (go 1.21) and the newest, since
each lab must build on both; tools/traceconv (its own module) with the newest only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools import gotools
from releaselab.core import config, gocmd, log, paths, toolchains

# The oldest and newest configured releases (conf/go/all.yaml): the labs must build on both.
OLDEST_GO, NEWEST_GO = config.release_span()
TOOL_MODULES = ("tools/traceconv",)
TIMEOUT = 900.0


@dataclass(frozen=True)
class Check:
    name: str
    go: str
    argv: tuple[str, ...]  # "golangci-lint" as argv[0] means the pinned build
    cwd: Path
    must_be_silent: bool = False  # gofmt -l: any output is a failure


def plan(root: Path = paths.WORKSPACE) -> list[Check]:
    labs = [root / m for m in paths.LAB_MODULES]
    tools = [root / m for m in TOOL_MODULES if (root / m / "go.mod").is_file()]
    lint = ("golangci-lint", "run", "-c", str(root / ".golangci.yml"), "./...")
    checks = [Check("gofmt -l", NEWEST_GO, ("gofmt", "-l", "."), root, must_be_silent=True)]
    for go in (OLDEST_GO, NEWEST_GO):
        checks += [Check(f"go vet {m.name}", go, ("go", "vet", "./..."), m) for m in labs]
    checks += [Check(f"go vet {m.name}", NEWEST_GO, ("go", "vet", "./..."), m) for m in tools]
    checks += [Check(f"golangci-lint {m.name}", NEWEST_GO, lint, m) for m in labs + tools]
    for go in (OLDEST_GO, NEWEST_GO):
        checks += [
            Check(f"go test -race {m.name}", go, ("go", "test", "-race", "-count=1", "./..."), m)
            for m in labs
        ]
    checks += [
        Check(f"go test -race {m.name}", NEWEST_GO, ("go", "test", "-race", "-count=1", "./..."), m)
        for m in tools
    ]
    return checks


def run_check(c: Check) -> tuple[bool, str]:
    tc = toolchains.install(c.go)
    exe: str | Path = (
        gotools.ensure("golangci-lint")
        if c.argv[0] == "golangci-lint"
        else (tc.goroot / "bin" / c.argv[0])
    )
    env = gocmd.hermetic_env(tc, gowork="off")
    res = gocmd.run(
        [exe, *c.argv[1:]], env=env, cwd=c.cwd, timeout=TIMEOUT, toolchain=tc, check=False
    )
    output = (res.stdout + res.stderr).strip()
    ok = res.returncode == 0 and not (c.must_be_silent and res.stdout.strip())
    return ok, output


def main(argv: Sequence[str] | None = None) -> int:
    checks = plan()
    failed = []
    for i, c in enumerate(checks, 1):
        t0 = time.monotonic()
        ok, output = run_check(c)
        status = "ok" if ok else "FAIL"
        log.info(f"[{i}/{len(checks)}] {status} {c.name} (go {c.go}, {time.monotonic() - t0:.1f}s)")
        if not ok:
            failed.append(c.name)
            print(f"--- {c.name} (go {c.go}) in {c.cwd}\n{output}\n", file=sys.stderr)
    print(f"go-checks: {len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
