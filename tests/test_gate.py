"""The allocation gate and the lint drill: what makes `make test` fail on an escape regression."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools import gate, gotools
from releaselab.core import gocmd, paths, toolchains

BASE = """pkg: example.com/p
BenchmarkA/before-2   1000   12.0 ns/op   8 B/op   1 allocs/op
BenchmarkA/before-2   1000   13.0 ns/op   8 B/op   1 allocs/op
BenchmarkB   1000   5.0 ns/op   0 B/op   0 allocs/op
"""


def test_no_rise_passes() -> None:
    slower = BASE.replace("12.0 ns/op", "99.0 ns/op")  # time is reported, never gated
    assert gate.rises(BASE, slower) == ([], [])


def test_an_allocation_rise_fails() -> None:
    worse = BASE.replace("0 B/op   0 allocs/op", "16 B/op   1 allocs/op")
    bad, _ = gate.rises(BASE, worse)
    assert [(r.name, r.unit, r.baseline, r.new) for r in bad] == [
        ("B", "B/op", 0.0, 16.0),
        ("B", "allocs/op", 0.0, 1.0),
    ]


def test_a_rise_in_only_some_runs_is_not_a_regression() -> None:
    one_noisy_run = BASE + "BenchmarkB   1000   5.0 ns/op   2 B/op   0 allocs/op\n"
    assert gate.rises(BASE, one_noisy_run)[0] == []


def test_benchmarks_missing_from_the_baseline_are_listed() -> None:
    extra = BASE + "BenchmarkC   1000   5.0 ns/op   0 B/op   0 allocs/op\n"
    assert gate.rises(BASE, extra)[1] == [
        ("example.com/p", "C", "B/op"),
        ("example.com/p", "C", "allocs/op"),
    ]


def test_committed_baseline_covers_every_lab_benchmark_package() -> None:
    pkgs = {key[0] for key in gate.values(gate.BASELINE.read_text())}
    for lab in ("escape-clinic/cases", "escape-clinic/lintdrill", "stack-growth/internal/lab"):
        assert any(p.endswith(lab) for p in pkgs), lab


BAD = paths.WORKSPACE / "escape-clinic" / "lintdrill" / "testdata" / "bad"


def _expected() -> set[str]:
    lines = (BAD / "EXPECTED").read_text().splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


@pytest.fixture(scope="module")
def lint_findings() -> set[str]:
    """golangci-lint (the pinned build, the project's config) on the drill's bad examples."""
    tc = toolchains.install(gotools.tools_go())
    res = gocmd.run([gotools.ensure("golangci-lint"), "run", "-c",
                     str(paths.WORKSPACE / ".golangci.yml"), "--show-stats=false",
                     "--output.json.path=stdout", "./..."],
                    env=gocmd.hermetic_env(tc, gowork="off"), cwd=BAD, timeout=600,
                    toolchain=tc, check=False)  # fmt: skip
    assert res.returncode == 1, res.stderr
    issues = json.loads(res.stdout.splitlines()[0])["Issues"]
    return {f"{i['FromLinter']}:" + (i["Text"].split(":")[0] if i["FromLinter"] in
                                      ("staticcheck", "gocritic") else i["FromLinter"])
            for i in issues}  # fmt: skip


@pytest.mark.parametrize("finding", sorted(_expected()))
def test_lint_config_catches_each_escape_pathology(lint_findings: set[str], finding: str) -> None:
    assert finding in lint_findings


def test_lint_drill_fires_nothing_else(lint_findings: set[str]) -> None:
    assert lint_findings == _expected()


def test_bad_examples_are_outside_the_lab_module() -> None:
    assert (BAD / "go.mod").is_file()  # its own module: `./...` of the lab never lints it
    assert "testdata" in Path(BAD).parts
