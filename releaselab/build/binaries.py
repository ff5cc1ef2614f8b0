"""Compile every lab module with one toolchain: a test binary per package with tests and a
binary per main package, with -trimpath and -buildvcs=false so the same source and toolchain
give the same bytes wherever the repo lives. The stage is `python -m stages.build`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from releaselab.build.manifest import Artifact
from releaselab.core import gocmd
from releaselab.core.gocmd import Toolchain
from releaselab.core.paths import WORKSPACE

__all__ = ["Artifact"]

BUILD_FLAGS = ("-trimpath", "-buildvcs=false")
GO_LIST_FORMAT = "{{.ImportPath}}|{{.Name}}|{{.Dir}}|{{len .TestGoFiles}}|{{len .XTestGoFiles}}"


@dataclass(frozen=True)
class Package:
    lab: str
    import_path: str
    rel: str  # path inside the lab module, "." for its root
    name: str  # Go package name ("main" for programs)
    has_tests: bool


def parse_go_list(lab: str, text: str) -> list[Package]:
    """Packages from `go list -f` output in GO_LIST_FORMAT, one per line."""
    pkgs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        imp, name, _dir, tests, xtests = line.split("|")
        rel = imp.split(f"/{lab}", 1)[1].lstrip("/") or "."
        pkgs.append(Package(lab, imp, rel, name, int(tests) + int(xtests) > 0))
    return pkgs


def binary_name(pkg: Package, kind: str) -> str:
    """A flat, unique file name: <lab>/<rel with / as __>.test, or <lab>/bin/<last element>."""
    stem = "root" if pkg.rel == "." else pkg.rel.replace("/", "__")
    if kind == "test":
        return f"{pkg.lab}/{stem}.test"
    return f"{pkg.lab}/bin/{pkg.lab if pkg.rel == '.' else pkg.rel.rsplit('/', 1)[-1]}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def list_packages(tc: Toolchain, lab: str, timeout: float) -> list[Package]:
    res = gocmd.go(
        tc, ["list", "-f", GO_LIST_FORMAT, "./..."], cwd=WORKSPACE / lab, timeout=timeout
    )
    return parse_go_list(lab, res.stdout)


def build_lab(tc: Toolchain, lab: str, out: Path, timeout: float) -> list[Artifact]:
    """Compile one lab module's test binaries and programs into out/<lab>/."""
    arts = []
    for pkg in list_packages(tc, lab, timeout):
        kinds = (["test"] if pkg.has_tests else []) + (["main"] if pkg.name == "main" else [])
        for kind in kinds:
            rel = binary_name(pkg, kind)
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            cmd = ["test", "-c"] if kind == "test" else ["build"]
            gocmd.go(
                tc,
                [*cmd, *BUILD_FLAGS, "-o", str((out / rel).resolve()), pkg.import_path],
                cwd=WORKSPACE / lab,
                timeout=timeout,
            )
            arts.append(Artifact(lab, pkg.import_path, kind, rel, _sha256(out / rel)))
    return arts
