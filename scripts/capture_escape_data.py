"""(Re)capture tests/data/escape/ from real Go toolchains.

Usage (one --goroot per toolchain; the label is the directory name under the output):

    python scripts/capture_escape_data.py \\
        --goroot 1.21.13=/tmp/gobin-1.21.13/go --goroot 1.27.3=/tmp/gobin-1.27.3/go \\
        [--std-package encoding/json] [--std-labels 1.21.13,1.27.3] [--out tests/data/escape]

For each toolchain it writes, under OUT/<label>/:
  small-m1.txt, small-m2.txt          `go build -gcflags='-m=N -json=0,DIR' ./...` of OUT/src
  small-m1.json/, small-m2.json/      the -json files of the same builds, as the compiler wrote them
  std-m2.txt.gz, std-m2.json/*.gz     the same for --std-package (labels in --std-labels only)
  capture.json                        go version, argument lists, working directories
Every build runs with a fresh GOCACHE (a cache hit rewrites no -json and replays -m), and with
GOTOOLCHAIN=local, GOFLAGS= and GOWORK=off so the named toolchain, and only it, compiles.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_S = 900
SMALL_GZIP_OVER = 1_000_000  # bytes: keep committed files small and diffable


def go_env(goroot: Path, gocache: Path) -> dict[str, str]:
    """The environment of one hermetic `go` call: this toolchain, a fresh cache, no surprises."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(
        GOROOT=str(goroot),
        PATH=f"{goroot / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        GOTOOLCHAIN="local",
        GOFLAGS="",
        GOWORK="off",
        GOCACHE=str(gocache),
        GOMODCACHE=os.environ.get("GOMODCACHE", str(gocache / "mod")),
    )
    return env


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run argv, fail loudly with its output on a non-zero exit."""
    proc = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{argv} in {cwd} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def write(path: Path, data: str, gz: bool) -> None:
    """Write text, gzipped (with a fixed mtime, so bytes are stable) when asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with (
            path.with_name(path.name + ".gz").open("wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f,
        ):
            f.write(data.encode())
    else:
        path.write_text(data)


def capture(
    goroot: Path, cwd: Path, pkgs: list[str], *, level: int, out: Path, name: str, gz: bool
) -> dict[str, object]:
    """One build with `-m=level` and `-json=0`: text to OUT/name.txt, JSON to OUT/name.json/."""
    with tempfile.TemporaryDirectory(prefix="escape-capture-") as tmp:
        tmpdir = Path(tmp)
        env = go_env(goroot, tmpdir / "cache")
        version = run([str(goroot / "bin" / "go"), "version"], cwd, env).stdout.strip()
        argv = ["go", "build", "-a", f"-gcflags=-m={level} -json=0,{tmpdir / 'json'}", *pkgs]
        proc = run([str(goroot / "bin" / "go"), *argv[1:]], cwd, env)
        # go build prints compiler output on stderr; stdout stays empty.
        write(out / f"{name}.txt", proc.stdout + proc.stderr, gz)
        jdir = out / f"{name}.json"
        shutil.rmtree(jdir, ignore_errors=True)
        for src in sorted((tmpdir / "json").rglob("*.json")):
            rel = src.relative_to(tmpdir / "json")
            write(jdir / rel, src.read_text(), gz)
    return {"go_version": version, "argv": argv, "cwd": str(cwd), "json_dir": "<tmp>/json"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--goroot", action="append", required=True, metavar="LABEL=GOROOT")
    ap.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "tests/data/escape")
    ap.add_argument("--std-package", default="encoding/json")
    ap.add_argument("--std-labels", default="", help="comma list; default: every --goroot")
    args = ap.parse_args()
    roots = dict(item.split("=", 1) for item in args.goroot)
    std_labels = set(filter(None, args.std_labels.split(","))) or set(roots)
    src = (args.out / "src").resolve()
    for label, root in roots.items():
        goroot = Path(root).resolve()
        out = args.out / label
        meta: dict[str, object] = {}
        for level in (1, 2):
            name = f"small-m{level}"
            meta[name] = capture(goroot, src, ["./..."], level=level, out=out, name=name, gz=False)
        if label in std_labels:
            # Built from its own directory, so the text says ./decode.go, not a GOROOT path.
            pkg_dir = goroot / "src" / args.std_package
            meta["std-m2"] = capture(
                goroot, pkg_dir, ["."], level=2, out=out, name="std-m2", gz=True
            )
            meta["std_package"] = args.std_package
        (out / "capture.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
        print(f"{label}: {meta['small-m1']['go_version']}")  # type: ignore[index]


if __name__ == "__main__":
    main()
