"""Build one target with one toolchain: its test binaries and one escape-analysis compile, or a
skipped record when its go.mod (or a dependency's) needs a newer Go than the toolchain.

A target that does not compile is an error naming the target, the toolchain and the compiler's
own message. Builds are offline (source.OFFLINE): source.prepare fetched what they need.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from releaselab.build import binaries
from releaselab.build.manifest import Artifact, TargetBuild
from releaselab.core import log
from releaselab.core.config import TargetSpec
from releaselab.core.gocmd import GoCommandError, Toolchain
from releaselab.escape import capture
from releaselab.targets import source
from releaselab.targets.source import Prepared, TargetError

STDERR_LINES = 30


@dataclass(frozen=True)
class Built:
    record: TargetBuild
    artifacts: tuple[Artifact, ...]


def _record(spec: TargetSpec, prep: Prepared, status: str, reason: str, n: int) -> TargetBuild:
    return TargetBuild(spec.label, spec.source, spec.ref, spec.patterns, status, reason,
                       prep.go_line, prep.source_hash, n, spec.bench,
                       spec.benchtime or "")  # fmt: skip


def _compile_error(spec: TargetSpec, tc: Toolchain, err: GoCommandError) -> TargetError:
    lines = err.stderr.strip().splitlines()[-STDERR_LINES:]
    return TargetError(
        f"target {spec.label} ({spec.source} {spec.ref}) does not build with toolchain "
        f"{tc.label} ({tc.version or tc.goroot}): {' '.join(err.argv[1:4])} ...\n"
        + "\n".join(f"  | {ln}" for ln in lines)
    )


def build_target(
    tc: Toolchain, spec: TargetSpec, prep: Prepared, out: Path, timeout: float
) -> Built:
    """Test binaries into out/<label>/ and the escape capture into out/escape/<label>/."""
    where = source.root(spec, tc)
    try:
        pkgs = binaries.list_packages(tc, spec.label, cwd=where, patterns=spec.patterns,
                                      root=where, timeout=timeout, env=source.OFFLINE)  # fmt: skip
        arts = binaries.build_packages(tc, pkgs, target=spec.label, cwd=where, out=out,
                                       timeout=timeout, env=source.OFFLINE)  # fmt: skip
        capture.capture_escape(tc, spec.label, cwd=where, patterns=spec.patterns, out=out,
                               timeout=timeout, env=source.OFFLINE)  # fmt: skip
    except GoCommandError as err:
        why = source.needs_newer_go(err.stderr)
        if why is None:
            raise _compile_error(spec, tc, err) from None
        for partial in (out / spec.label, out / "escape" / spec.label):
            shutil.rmtree(partial, ignore_errors=True)
        log.warn(f"[{tc.label}] target {spec.label} skipped: {why}")
        return Built(_record(spec, prep, "skipped", why, 0), ())
    log.info(f"[{tc.label}] target {spec.label}: {len(pkgs)} packages, {len(arts)} test binaries")
    return Built(_record(spec, prep, "built", "", len(arts)), tuple(arts))


def labs_record(n_test_binaries: int) -> TargetBuild:
    """The labs as a target of the manifest (always built: sched and stack run them)."""
    return TargetBuild("labs", "labs", "runtime-foundations", ("./...",), "built", "", "", "",
                       n_test_binaries)  # fmt: skip
