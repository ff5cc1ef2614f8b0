"""DVC stage `build@LABEL`: compile every lab module with one toolchain.

    python -m stages.build LABEL

Writes data/raw/build/go=LABEL/: one test binary per lab package with tests and one binary per
main package (later stages run these, so every run uses exactly what this toolchain built),
escape/<unit>/m2.txt and escape/<unit>/json/ (the compiler's `-m=2` text and `-json=0`
diagnostics of one compile, for every lab module and every extra package in labs.escape.packages),
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


def escape_units(extra: Sequence[str], repo: Path = config.REPO) -> list[tuple[str, Path, str]]:
    """(unit name, directory to build in, package pattern) for each lab and each extra package.

    An extra entry that is a directory (absolute or relative to the repo) is a user's module,
    built as `./...` there; anything else is an import path built from the escape-clinic module.
    """
    units = [(lab, WORKSPACE / lab, "./...") for lab in LAB_MODULES]
    for entry in extra:
        path = Path(entry) if Path(entry).is_absolute() else repo / entry
        name = "pkg__" + entry.strip("/").replace("/", "__").replace(".", "_")
        if path.is_dir():
            units.append((name, path.resolve(), "./..."))
        else:
            units.append((name, WORKSPACE / "escape-clinic", entry))
    return units


def capture_escape(
    tc: Toolchain, unit: str, *, cwd: Path, pattern: str, out: Path, timeout: float
) -> int:
    """Write the `-m=2` text and `-json=0` files of one compile of `pattern` into out/<unit>/.

    The -json directory is new for every build, so the compile's cache key is new too: the
    output can never be a replay from the build cache (which would rewrite no JSON files).
    """
    dest = out / "escape" / unit
    json_dir = (dest / "json").resolve()
    json_dir.mkdir(parents=True)
    res = gocmd.go(
        tc,
        ["build", *BUILD_FLAGS, "-o", os.devnull, f"-gcflags=-m=2 -json=0,{json_dir}", pattern],
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    if res.returncode != 0:
        raise GoCommandError(
            f"escape capture of {unit} failed (exit {res.returncode})",
            argv=res.args,
            toolchain=tc.label,
            stderr=res.stderr,
        )
    (dest / "m2.txt").write_text(res.stderr, encoding="utf-8")
    return len(res.stderr.splitlines())


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
        for unit, cwd, pattern in escape_units(cfg.labs.escape.packages):
            lines = capture_escape(
                tc, unit, cwd=cwd, pattern=pattern, out=tmp, timeout=cfg.timeouts.build
            )
            log.info(f"[{label}] escape analysis of {unit}: {lines} lines of -m=2")
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
