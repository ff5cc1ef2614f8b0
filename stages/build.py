"""DVC stage `build@LABEL`: compile every lab module with one toolchain.

    python -m stages.build LABEL

Writes data/raw/build/go=LABEL/: one test binary per lab package with tests and one binary per
main package (later stages run these, so every run uses exactly what this toolchain built),
plus go-version.txt, go-env.json and manifest.json recording what ran. Builds use -trimpath and
-buildvcs=false so the same source and toolchain give the same bytes wherever the repo lives.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from stages import config, gocmd, log, store, toolchains
from stages.gocmd import GoCommandError, Toolchain

WORKSPACE = config.REPO / "runtime-foundations"
LAB_MODULES = ("escape-clinic", "schedule-forensics", "stack-growth")
BUILD_FLAGS = ("-trimpath", "-buildvcs=false")
GO_LIST_FORMAT = "{{.ImportPath}}|{{.Name}}|{{.Dir}}|{{len .TestGoFiles}}|{{len .XTestGoFiles}}"


@dataclass(frozen=True)
class Package:
    lab: str
    import_path: str
    rel: str  # path inside the lab module, "." for its root
    name: str  # Go package name ("main" for programs)
    has_tests: bool


@dataclass(frozen=True)
class Artifact:
    lab: str
    package: str
    kind: str  # "test" or "main"
    path: str  # relative to the build directory
    sha256: str


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


def build(label: str, out_dir: Path) -> list[Artifact]:
    cfg = config.load()
    tc = toolchains.resolve(cfg.go.get(label))
    printed = gocmd.go_version(tc)
    gocmd.verify_version(tc, printed)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        arts: list[Artifact] = []
        for i, lab in enumerate(LAB_MODULES, 1):
            log.info(f"[{label}] [{i}/{len(LAB_MODULES)}] building {lab}")
            arts += build_lab(tc, lab, tmp, cfg.timeouts.build)
        env = gocmd.go_env(tc, cwd=WORKSPACE)
        (tmp / "go-version.txt").write_text(printed + "\n", encoding="utf-8")
        (tmp / "go-env.json").write_text(
            json.dumps(env, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        manifest = {
            "label": label,
            "go_version": printed,
            "source": tc.source,
            "version": tc.version,
            "build_flags": list(BUILD_FLAGS),
            "artifacts": [asdict(a) for a in arts],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(out_dir, ignore_errors=True)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info(f"[{label}] built {len(arts)} binaries into {out_dir}")
    return arts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stages.build",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("label", help="toolchain label from params.yaml (go.toolchains)")
    args = parser.parse_args(argv)
    try:
        build(args.label, store.RAW_ROOT / "build" / f"go={args.label}")
    except (GoCommandError, toolchains.ToolchainError, config.ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
