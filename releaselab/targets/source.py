"""Where a target's code comes from, made ready to build offline.

- std: the toolchain's own GOROOT/src; nothing to fetch.
- dir: a local module directory, built where it is; its dependencies are downloaded once (into
  Go's module cache, checked against its go.sum) with the pinned tools toolchain.
- module: path@version from the Go module proxy, downloaded once with the pinned tools toolchain
  (the go command checks the zip against the checksum database, as GOSUMDB says), copied into
  the project cache ($GO_RELEASE_LAB_CACHE/targets/<path>@<version>), and its dependencies
  downloaded and checked against its go.sum there.

After `prepare`, every build runs with `OFFLINE` (GOPROXY=off, -mod=readonly): a toolchain that
would need anything not already fetched, or a go.sum that does not cover it, fails naming it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from releaselab.core import gocmd, gotools, log, staging, toolchains
from releaselab.core.cache import cache_root
from releaselab.core.config import TargetSpec
from releaselab.core.errors import LabError
from releaselab.core.gocmd import GoCommandError, Toolchain

MARKER = ".go-release-lab.json"
FETCH_TIMEOUT = 900.0
# Builds of a prepared target: nothing from the network, go.mod and go.sum as they are.
OFFLINE = {"GOPROXY": "off", "GOFLAGS": "-mod=readonly"}
_GO_LINE = re.compile(r"^go[ \t]+(\S+)", re.MULTILINE)


class TargetError(LabError, RuntimeError):
    """A target's source cannot be fetched, or its code does not build."""

    fix = "fix the target named above in conf/targets/ or `-S targets...`, or drop it"


@dataclass(frozen=True)
class Prepared:
    """A target ready to build: where its module is and what identifies its code."""

    root: Path | None  # the module directory (None for std: each toolchain's GOROOT/src)
    go_line: str  # the go.mod `go` line ("" for std)
    source_hash: str  # module: the go.sum-style h1: hash; dir: a hash of its files; std: ""


def go_line(go_mod: str) -> str:
    """The `go` directive of a go.mod text ("" when it has none).

    >>> go_line("module m\\n\\ngo 1.22.0\\n")
    '1.22.0'
    """
    m = _GO_LINE.search(go_mod)
    return m.group(1) if m else ""


def escape_path(path: str) -> str:
    """A module path as Go's module cache spells it on disk: `!` + lower case for upper case.

    >>> escape_path("github.com/BurntSushi/toml")
    'github.com/!burnt!sushi/toml'
    """
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


def targets_dir() -> Path:
    return cache_root() / "targets"


def module_dir(spec: TargetSpec) -> Path:
    """Where a `module` target's source lives in the project cache."""
    assert spec.module is not None
    return targets_dir() / escape_path(spec.module)


def root(spec: TargetSpec, tc: Toolchain) -> Path:
    """The directory a target's package directories are relative to (in the manifest)."""
    if spec.std is not None:
        return tc.goroot / "src"
    if spec.dir is not None:
        assert spec.path is not None
        return spec.path.resolve()
    return module_dir(spec)


def tree_hash(root: Path) -> str:
    """A hash of a module's build inputs: go.mod, go.sum and every .go file (tests too), by
    relative path; testdata and hidden directories left out."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith((".", "_")) or part == "testdata" for part in rel.parts[:-1]):
            continue
        if p.is_file() and (p.suffix == ".go" or p.name in ("go.mod", "go.sum")):
            h.update(f"{rel.as_posix()}\n".encode() + p.read_bytes())
    return "sha256:" + h.hexdigest()[:16]


def prepare(spec: TargetSpec, timeout: float = FETCH_TIMEOUT) -> Prepared:
    """Make a target buildable offline: fetch a module once, download a module's dependencies.
    Idempotent (a module already in the cache is not fetched again); the one place that reads
    the network for targets."""
    if spec.std is not None:
        return Prepared(None, "", "")
    if spec.module is not None:
        return _fetch_module(spec, timeout)
    assert spec.path is not None
    where = spec.path.resolve()
    _download_deps(spec, where, timeout)
    return Prepared(where, go_line((where / "go.mod").read_text(encoding="utf-8")),
                    tree_hash(where))  # fmt: skip


def _tools() -> Toolchain:
    return toolchains.install(gotools.tools_go())


def _download_deps(spec: TargetSpec, where: Path, timeout: float) -> None:
    """Download what building the target's packages and tests needs, checked against go.sum
    (-mod=readonly: a missing or wrong sum is an error, go.mod and go.sum stay as they are)."""
    readonly = {"GOFLAGS": "-mod=readonly"}
    res = gocmd.go(_tools(), ["list", "-deps", "-test", *spec.patterns], cwd=where,
                   timeout=timeout, extra_env=readonly, check=False)  # fmt: skip
    if res.returncode != 0:
        raise TargetError(
            f"target {spec.label}: cannot resolve the dependencies of {spec.ref} "
            f"({' '.join(spec.patterns)}) with Go {gotools.tools_go()}:\n"
            + "\n".join(f"  | {ln}" for ln in res.stderr.strip().splitlines()[-15:])
        )


def _fetch_module(spec: TargetSpec, timeout: float) -> Prepared:
    assert spec.module is not None
    dest = module_dir(spec)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dest.parent / f".{dest.name}.lock"), timeout=timeout * 2):
        if not (dest / MARKER).is_file():
            with staging.staged_dir(dest) as tmp:
                info = _download(spec, timeout)
                log.info(f"target {spec.label}: {spec.module} ({info['Sum']}) into {dest}")
                _copy_writable(Path(info["Dir"]), tmp)
                _download_deps(spec, tmp, timeout)
                gocmd.go(_tools(), ["mod", "verify"], cwd=tmp, timeout=timeout)
                marker = {"module": spec.module, "sum": info["Sum"],
                          "go_mod_sum": info.get("GoModSum", "")}  # fmt: skip
                (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        marker = json.loads((dest / MARKER).read_text(encoding="utf-8"))
    return Prepared(dest, go_line((dest / "go.mod").read_text(encoding="utf-8")),
                    str(marker["sum"]))  # fmt: skip


def _download(spec: TargetSpec, timeout: float) -> dict[str, str]:
    """`go mod download -json path@version` (outside any module): the go command checks the
    zip against the checksum database unless GONOSUMDB/GOPRIVATE/GOSUMDB say otherwise."""
    assert spec.module is not None
    with tempfile.TemporaryDirectory(prefix=".download-", dir=targets_dir()) as empty:
        try:
            res = gocmd.go(_tools(), ["mod", "download", "-json", spec.module], cwd=Path(empty),
                           timeout=timeout, check=False)  # fmt: skip
        except GoCommandError as err:  # timed out
            raise TargetError(f"target {spec.label}: downloading {spec.module}: {err}") from err
    try:
        info = json.loads(res.stdout) if res.stdout.strip() else {}
    except ValueError:
        info = {}
    if res.returncode != 0 or info.get("Error") or not info.get("Dir"):
        why = info.get("Error") or res.stderr.strip() or f"exit status {res.returncode}"
        raise TargetError(
            f"target {spec.label}: cannot download {spec.module} from the Go module proxy "
            f"(GOPROXY as the environment sets it): {why}"
        )
    return {str(k): str(v) for k, v in info.items()}


def _copy_writable(src: Path, dst: Path) -> None:
    """Copy a module out of Go's read-only module cache, writable (so it can be replaced)."""
    shutil.copytree(src, dst, dirs_exist_ok=True, symlinks=True)
    for p in [dst, *dst.rglob("*")]:
        if not p.is_symlink():
            p.chmod(stat.S_IMODE(p.stat().st_mode) | stat.S_IWUSR | (stat.S_IXUSR * p.is_dir()))


def bench_levels(regex: str) -> list[list[str]]:
    """-test.bench split as the testing package splits it: alternatives at top-level `|`, each
    a list of per-level regexes at top-level `/` (not inside [] or (); `\\` escapes).

    >>> bench_levels("^BenchmarkA$/^4K$|B")
    [['^BenchmarkA$', '^4K$'], ['B']]
    """
    alts: list[list[str]] = []
    levels: list[str] = []
    start, brackets, parens, i = 0, 0, 0, 0
    while i < len(regex):
        c = regex[i]
        if c == "[":
            brackets += 1
        elif c == "]":
            brackets = max(brackets - 1, 0)  # an unmatched ']' is legal
        elif c == "(" and brackets == 0:
            parens += 1
        elif c == ")" and brackets == 0:
            parens -= 1
        elif c == "\\":
            i += 1
        elif c in "/|" and brackets == 0 and parens == 0:
            levels.append(regex[start:i])
            start = i + 1
            if c == "|":
                alts.append(levels)
                levels = []
        i += 1
    levels.append(regex[start:])
    alts.append(levels)
    return alts


def list_regex(bench: str) -> str:
    """A -test.list regex for the top-level benchmarks a -test.bench regex can run."""
    tops = [alt[0] for alt in bench_levels(bench)]
    return tops[0] if len(tops) == 1 else "|".join(f"(?:{t})" for t in tops)


def needs_newer_go(stderr: str) -> str | None:
    """Why a toolchain cannot build a module at all (its go.mod, or a dependency's, needs a
    newer Go; GOTOOLCHAIN=local keeps the go command from fetching one), or None."""
    m = gocmd.NEEDS_NEWER_GO.search(stderr)
    return f"needs go >= {m.group(1)} (this toolchain is go {m.group(2)})" if m else None
