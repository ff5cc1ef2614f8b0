"""DVC stage `build@LABEL`: compile every lab module and every target with one toolchain.

    python -m stages.build LABEL

Writes data/raw/build/go=LABEL/: one test binary per lab package with tests and one binary per
main package (later stages run these, so every run uses exactly what this toolchain built), one
test binary per package with tests of every target (`targets`), escape/<unit>/m2.txt and
escape/<unit>/json/ (the compiler's `-m=2` text and `-json=0` diagnostics of one compile of each
lab module, when `targets.labs`, and of each target), plus go-version.txt, go-env.json and
manifest.json recording what ran; and data/parquet/targets/go=LABEL (one row per target: built,
or skipped because its go.mod needs a newer Go than this toolchain).

Targets are fetched (a module from the proxy) and their dependencies downloaded once, before
anything is built; every target build then runs offline (releaselab/targets/source.py).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import polars as pl

from releaselab.build import binaries, manifest
from releaselab.build import targets as build_targets
from releaselab.core import catalog, config, entry, gocmd, log, staging, store, toolchains
from releaselab.core.paths import LAB_MODULES, PARQUET_ROOT, WORKSPACE, build_dir
from releaselab.escape import capture
from releaselab.targets import source


def build(args: argparse.Namespace, cfg: config.Config) -> None:
    label = args.label
    out_dir = build_dir(label)
    tc = toolchains.resolve(cfg.go.get(label))
    printed = gocmd.go_version(tc)
    gocmd.verify_version(tc, printed)
    prepared = {t.label: source.prepare(t) for t in cfg.targets.specs}
    with staging.staged_dir(out_dir) as tmp:
        arts: list[manifest.Artifact] = []
        for i, lab in enumerate(LAB_MODULES, 1):
            log.info(f"[{label}] [{i}/{len(LAB_MODULES)}] building {lab}")
            arts += binaries.build_lab(tc, lab, tmp, cfg.timeouts.build)
        built = [build_targets.labs_record(sum(a.kind == "test" for a in arts))]
        for unit, cwd, pattern in capture.lab_units() if cfg.targets.labs else ():
            lines = capture.capture_escape(
                tc, unit, cwd=cwd, patterns=[pattern], out=tmp, timeout=cfg.timeouts.build
            )
            log.info(f"[{label}] escape analysis of {unit}: {lines} lines of -m=2")
        for spec in cfg.targets.specs:
            made = build_targets.build_target(tc, spec, prepared[spec.label], tmp,
                                              cfg.timeouts.build)  # fmt: skip
            arts += made.artifacts
            built.append(made.record)
        env = gocmd.go_env(tc, cwd=WORKSPACE)
        (tmp / "go-version.txt").write_text(printed + "\n", encoding="utf-8")
        (tmp / "go-env.json").write_text(
            json.dumps(env, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        made_all = manifest.Manifest(label, printed, tc.source, tc.version,
                                     binaries.BUILD_FLAGS, tuple(arts), tuple(built))  # fmt: skip
        manifest.write(made_all, tmp)
    store.write_cell(targets_frame(label, built), "targets", {"go": label},
                     params={"targets": [t.target for t in built]}, go_version=printed,
                     host=cfg.host, root=PARQUET_ROOT)  # fmt: skip
    skipped = [t.target for t in built if t.status == "skipped"]
    log.info(f"[{label}] built {len(arts)} binaries into {out_dir}"
             + (f"; skipped targets: {', '.join(skipped)}" if skipped else ""))  # fmt: skip


def targets_frame(label: str, built: Sequence[manifest.TargetBuild]) -> pl.DataFrame:
    """The `targets` dataset's rows of one toolchain."""
    rows = [{"go": label, "target": t.target, "source": t.source, "ref": t.ref,
             "packages": list(t.packages), "status": t.status, "reason": t.reason,
             "go_line": t.go_line, "source_hash": t.source_hash,
             "test_binaries": t.test_binaries, "bench": t.bench,
             "benchtime": t.benchtime} for t in built]  # fmt: skip
    return store.frame(rows, catalog.schema("targets"))


def main(argv: Sequence[str] | None = None) -> int:
    args = entry.parser("stages.build", __doc__)
    args.add_argument("label", help="toolchain label from params.yaml (go.toolchains)")
    return entry.run(build, argv, args=args)


if __name__ == "__main__":
    raise SystemExit(main())
