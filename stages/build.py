"""DVC stage `build@LABEL`: compile every lab module with one toolchain.

    python -m stages.build LABEL

Writes data/raw/build/go=LABEL/: one test binary per lab package with tests and one binary per
main package (later stages run these, so every run uses exactly what this toolchain built),
escape/<unit>/m2.txt and escape/<unit>/json/ (the compiler's `-m=2` text and `-json=0`
diagnostics of one compile, for every lab module and every extra package in labs.escape.packages),
plus go-version.txt, go-env.json and manifest.json recording what ran.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from releaselab.build import binaries, manifest
from releaselab.core import config, entry, gocmd, log, staging, toolchains
from releaselab.core.paths import LAB_MODULES, WORKSPACE, build_dir
from releaselab.escape import capture


def build(args: argparse.Namespace, cfg: config.Config) -> None:
    label = args.label
    out_dir = build_dir(label)
    tc = toolchains.resolve(cfg.go.get(label))
    printed = gocmd.go_version(tc)
    gocmd.verify_version(tc, printed)
    with staging.staged_dir(out_dir) as tmp:
        arts: list[manifest.Artifact] = []
        for i, lab in enumerate(LAB_MODULES, 1):
            log.info(f"[{label}] [{i}/{len(LAB_MODULES)}] building {lab}")
            arts += binaries.build_lab(tc, lab, tmp, cfg.timeouts.build)
        for unit, cwd, pattern in capture.escape_units(cfg.labs.escape.packages):
            lines = capture.capture_escape(
                tc, unit, cwd=cwd, pattern=pattern, out=tmp, timeout=cfg.timeouts.build
            )
            log.info(f"[{label}] escape analysis of {unit}: {lines} lines of -m=2")
        env = gocmd.go_env(tc, cwd=WORKSPACE)
        (tmp / "go-version.txt").write_text(printed + "\n", encoding="utf-8")
        (tmp / "go-env.json").write_text(
            json.dumps(env, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        made = manifest.Manifest(label, printed, tc.source, tc.version,
                                 binaries.BUILD_FLAGS, tuple(arts))  # fmt: skip
        manifest.write(made, tmp)
    log.info(f"[{label}] built {len(arts)} binaries into {out_dir}")


def main(argv: Sequence[str] | None = None) -> int:
    args = entry.parser("stages.build", __doc__)
    args.add_argument("label", help="toolchain label from params.yaml (go.toolchains)")
    return entry.run(build, argv, args=args)


if __name__ == "__main__":
    raise SystemExit(main())
