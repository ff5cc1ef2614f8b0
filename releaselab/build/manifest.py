"""The build manifest (data/raw/build/go=<label>/manifest.json): what build@<label> made and
which Go made it. The one reader and writer of it; every stage that runs or reports a build
reads it here."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from releaselab.core.errors import InputMissing, LabOutputError
from releaselab.core.paths import BUILD_ROOT, build_dir

FILE = "manifest.json"


@dataclass(frozen=True)
class Artifact:
    lab: str  # the compile unit: a lab module, or a target's label
    package: str
    kind: str  # "test" or "main"
    path: str  # relative to the build directory
    sha256: str
    target: str = "labs"  # the target it belongs to ("labs" for the lab modules)
    dir: str = "."  # the package's directory relative to its unit's root (where it runs)


@dataclass(frozen=True)
class TargetBuild:
    """What one toolchain made of one target: built, or skipped and why (a go.mod that needs a
    newer Go than this toolchain: a marked cell, not a failed run)."""

    target: str
    source: str  # labs, std, dir or module
    ref: str  # the std pattern, the module directory or path@version
    packages: tuple[str, ...]  # the package patterns built
    status: str  # "built" or "skipped"
    reason: str  # why it was skipped ("" when built)
    go_line: str  # the go.mod `go` line ("" for std and the labs)
    source_hash: str  # module: its h1: hash; dir: a hash of its files; std and labs: ""
    test_binaries: int
    bench: str = "."  # the -test.bench regex its cells run
    benchtime: str = ""  # its -test.benchtime ("": bench.benchtime)


@dataclass(frozen=True)
class Manifest:
    label: str
    go_version: str  # the `go version` line of what ran
    source: str
    version: str | None
    build_flags: tuple[str, ...]
    artifacts: tuple[Artifact, ...]
    targets: tuple[TargetBuild, ...] = ()

    @property
    def release(self) -> str:
        """The Go version alone: `go version go1.27.3 linux/amd64` -> 1.27.3."""
        return self.go_version.split()[2].removeprefix("go")

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["build_flags"] = list(self.build_flags)
        for t in data["targets"]:
            t["packages"] = list(t["packages"])
        return json.dumps(data, indent=2) + "\n"


def write(manifest: Manifest, directory: Path) -> None:
    (directory / FILE).write_text(manifest.to_json(), encoding="utf-8")


def read(label: str, root: Path = BUILD_ROOT) -> Manifest:
    """The manifest of build@<label>; a clear error when it is missing or unreadable."""
    path = build_dir(label, root) / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(
            label=str(data["label"]),
            go_version=str(data["go_version"]),
            source=str(data["source"]),
            version=data.get("version"),
            build_flags=tuple(data.get("build_flags", ())),
            artifacts=tuple(Artifact(**a) for a in data["artifacts"]),
            targets=tuple(
                TargetBuild(**{**t, "packages": tuple(t["packages"])})
                for t in data.get("targets", ())
            ),
        )
    except FileNotFoundError:
        raise InputMissing(
            f"{path} is missing: build@{label} has not run; `dvc repro build@{label}` makes it"
        ) from None
    except (ValueError, KeyError, TypeError) as err:
        raise LabOutputError(f"{path} is not a build manifest ({err!r})") from None


def read_all(labels: list[str] | tuple[str, ...], root: Path = BUILD_ROOT) -> dict[str, Manifest]:
    return {label: read(label, root) for label in labels}


def built_by(manifests: dict[str, Manifest]) -> dict[str, list[str]]:
    """target -> the toolchain labels that built it (not skipped), in the order given."""
    out: dict[str, list[str]] = {}
    for label, m in manifests.items():
        if not m.targets:  # a manifest from before targets: the labs only
            out.setdefault("labs", []).append(label)
        for t in m.targets:
            if t.status == "built":
                out.setdefault(t.target, []).append(label)
    return out


def labels_present(root: Path = BUILD_ROOT) -> list[str]:
    """Labels that have a build under root, sorted."""
    return sorted(p.parent.name.removeprefix("go=") for p in root.glob(f"go=*/{FILE}"))
