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
    lab: str
    package: str
    kind: str  # "test" or "main"
    path: str  # relative to the build directory
    sha256: str


@dataclass(frozen=True)
class Manifest:
    label: str
    go_version: str  # the `go version` line of what ran
    source: str
    version: str | None
    build_flags: tuple[str, ...]
    artifacts: tuple[Artifact, ...]

    @property
    def release(self) -> str:
        """The Go version alone: `go version go1.27.3 linux/amd64` -> 1.27.3."""
        return self.go_version.split()[2].removeprefix("go")

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["build_flags"] = list(self.build_flags)
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
        )
    except FileNotFoundError:
        raise InputMissing(
            f"{path} is missing: build@{label} has not run; `dvc repro build@{label}` makes it"
        ) from None
    except (ValueError, KeyError, TypeError) as err:
        raise LabOutputError(f"{path} is not a build manifest ({err!r})") from None


def read_all(labels: list[str] | tuple[str, ...], root: Path = BUILD_ROOT) -> dict[str, Manifest]:
    return {label: read(label, root) for label in labels}


def labels_present(root: Path = BUILD_ROOT) -> list[str]:
    """Labels that have a build under root, sorted."""
    return sorted(p.parent.name.removeprefix("go=") for p in root.glob(f"go=*/{FILE}"))
