"""Compile Go packages with one toolchain: a test binary per package with tests (and, for the
labs, a binary per main package), with -trimpath and -buildvcs=false so the same source and
toolchain give the same bytes wherever the repo lives. The stage is `python -m stages.build`."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from releaselab.build.manifest import Artifact
from releaselab.core import gocmd
from releaselab.core.config import LABS_TARGET
from releaselab.core.errors import LabOutputError
from releaselab.core.gocmd import Toolchain
from releaselab.core.paths import WORKSPACE

__all__ = ["Artifact"]

BUILD_FLAGS = ("-trimpath", "-buildvcs=false")
GO_LIST_FORMAT = "{{.ImportPath}}|{{.Name}}|{{.Dir}}|{{len .TestGoFiles}}|{{len .XTestGoFiles}}"


@dataclass(frozen=True)
class Package:
    lab: str  # the compile unit: a lab module or a target label
    import_path: str
    rel: str  # the package's directory relative to the unit's root, "." for the root itself
    name: str  # Go package name ("main" for programs)
    has_tests: bool


def parse_go_list(unit: str, text: str, root: Path) -> list[Package]:
    """Packages from `go list -f` output in GO_LIST_FORMAT, one per line; directories are made
    relative to `root` (the real path, as the go command prints directories)."""
    pkgs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        imp, name, directory, tests, xtests = line.split("|")
        rel = Path(os.path.relpath(directory, root)).as_posix()
        if rel.startswith(".."):
            raise LabOutputError(f"`go list` put package {imp} in {directory}, outside {root}")
        pkgs.append(Package(unit, imp, rel, name, int(tests) + int(xtests) > 0))
    return pkgs


def binary_name(pkg: Package, kind: str) -> str:
    """A flat, unique file name: <unit>/<rel with / as __>.test, or <unit>/bin/<last element>."""
    stem = "root" if pkg.rel == "." else pkg.rel.replace("/", "__")
    if kind == "test":
        return f"{pkg.lab}/{stem}.test"
    return f"{pkg.lab}/bin/{pkg.lab if pkg.rel == '.' else pkg.rel.rsplit('/', 1)[-1]}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def list_packages(
    tc: Toolchain,
    unit: str,
    *,
    cwd: Path,
    patterns: Sequence[str],
    root: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> list[Package]:
    res = gocmd.go(tc, ["list", "-f", GO_LIST_FORMAT, *patterns], cwd=cwd, timeout=timeout,
                   extra_env=env)  # fmt: skip
    return parse_go_list(unit, res.stdout, root.resolve())


def build_packages(
    tc: Toolchain,
    pkgs: Sequence[Package],
    *,
    target: str,
    cwd: Path,
    out: Path,
    timeout: float,
    programs: bool = False,
    env: Mapping[str, str] | None = None,
) -> list[Artifact]:
    """A test binary of every package with tests (and a program of every main package when
    `programs`) into out/<unit>/; the artifacts in package order."""
    arts = []
    for pkg in pkgs:
        kinds = (["test"] if pkg.has_tests else []) + (
            ["main"] if programs and pkg.name == "main" else []
        )
        for kind in kinds:
            rel = binary_name(pkg, kind)
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            cmd = ["test", "-c"] if kind == "test" else ["build"]
            gocmd.go(
                tc,
                [*cmd, *BUILD_FLAGS, "-o", str((out / rel).resolve()), pkg.import_path],
                cwd=cwd,
                timeout=timeout,
                extra_env=env,
            )
            arts.append(Artifact(pkg.lab, pkg.import_path, kind, rel, _sha256(out / rel),
                                 target=target, dir=pkg.rel))  # fmt: skip
    return arts


def build_lab(tc: Toolchain, lab: str, out: Path, timeout: float) -> list[Artifact]:
    """Compile one lab module's test binaries and programs into out/<lab>/."""
    where = WORKSPACE / lab
    pkgs = list_packages(tc, lab, cwd=where, patterns=["./..."], root=where, timeout=timeout)
    return build_packages(tc, pkgs, target=LABS_TARGET, cwd=where, out=out, timeout=timeout,
                          programs=True)  # fmt: skip
