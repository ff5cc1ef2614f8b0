"""The one runner: hermetic environment, timeouts, clear failures, on a real toolchain."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from releaselab.core import gocmd
from releaselab.core.cache import cache_root
from releaselab.core.gocmd import GoCommandError, Toolchain

PROBE = """package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() { fmt.Println(runtime.GOMAXPROCS(0), os.Getenv("GODEBUG"), runtime.Version()) }
"""


def _module(root: Path, go_line: str, source: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module example.com/probe\n\ngo {go_line}\n")
    (root / "main.go").write_text(source)
    return root


def test_env_pins_toolchain_and_drops_user_go_settings(
    go_newest: Toolchain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GO_RELEASE_LAB_CACHE", str(cache_root()))
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".config" / "go").mkdir(parents=True)
    (tmp_path / ".config" / "go" / "env").write_text("GOFLAGS=-tags=from_go_env_w\n")
    monkeypatch.setenv("GOFLAGS", "-tags=leaked")
    monkeypatch.setenv("GOTOOLCHAIN", "go1.99.0")
    monkeypatch.setenv("GOROOT", "/somewhere/else")
    env = gocmd.go_env(go_newest, cwd=tmp_path)
    assert env["GOTOOLCHAIN"] == "local"
    assert env["GOFLAGS"] == ""
    assert Path(env["GOROOT"]) == go_newest.goroot
    assert env["GOVERSION"] == "go1.27.3"


def test_network_settings_pass_through(
    go_newest: Toolchain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOPROXY", "https://proxy.example.test,direct")
    monkeypatch.setenv("GONOSUMDB", "example.test")
    env = gocmd.go_env(go_newest, cwd=tmp_path)
    assert env["GOPROXY"] == "https://proxy.example.test,direct"
    assert env["GONOSUMDB"] == "example.test"


def test_runs_get_explicit_gomaxprocs_and_godebug(go_newest: Toolchain, tmp_path: Path) -> None:
    mod = _module(tmp_path / "probe", "1.21", PROBE)
    gocmd.go(go_newest, ["build", "-o", str(tmp_path / "probe.bin"), "."], cwd=mod, timeout=300)
    res = gocmd.run_binary(
        go_newest,
        tmp_path / "probe.bin",
        [],
        cwd=tmp_path,
        timeout=60,
        gomaxprocs=3,
        godebug="asyncpreemptoff=1",
    )
    assert res.stdout.split() == ["3", "asyncpreemptoff=1", "go1.27.3"]


def test_module_needing_newer_go_fails_instead_of_downloading(
    go_newest: Toolchain, tmp_path: Path
) -> None:
    mod = _module(tmp_path / "future", "1.99", PROBE)
    with pytest.raises(GoCommandError) as err:
        gocmd.go(go_newest, ["build", "./..."], cwd=mod, timeout=120)
    msg = str(err.value)
    assert "needs Go >= 1.99" in msg
    assert "toolchain 1.27.3" in msg
    assert not (cache_root() / "gomodcache" / "golang.org" / "toolchain@v0.0.1-go1.99").exists()


def test_failure_names_command_toolchain_and_stderr_tail(
    go_newest: Toolchain, tmp_path: Path
) -> None:
    mod = _module(tmp_path / "broken", "1.21", "package main\n\nfunc main() { undefinedThing() }\n")
    with pytest.raises(GoCommandError) as err:
        gocmd.go(go_newest, ["build", "."], cwd=mod, timeout=120)
    msg = str(err.value)
    assert "exit status 1" in msg
    assert "go build ." in msg.replace(str(go_newest.go), "go")
    assert "toolchain: 1.27.3" in msg
    assert "undefined: undefinedThing" in msg


def test_timeout_kills_the_process_group(go_newest: Toolchain, tmp_path: Path) -> None:
    child = "import subprocess, time; subprocess.Popen(['sleep', '30']); time.sleep(30)"
    t0 = time.monotonic()
    with pytest.raises(GoCommandError, match=r"timed out after 1s"):
        gocmd.run(
            [sys.executable, "-c", child],
            env=gocmd.hermetic_env(go_newest),
            cwd=tmp_path,
            timeout=1,
            toolchain=go_newest,
        )
    assert time.monotonic() - t0 < 20


def test_child_dies_when_the_stage_running_it_is_killed(tmp_path: Path) -> None:
    # A SIGKILLed stage cannot clean up; its child must not live on and write into the
    # directory that the next run sweeps.
    pidfile = tmp_path / "child.pid"
    code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    stage = (
        "import os, sys; from pathlib import Path; from releaselab.core import gocmd\n"
        f"gocmd.run([sys.executable, '-c', {code!r}], env=dict(os.environ), cwd=Path('.'), "
        "timeout=120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", stage], cwd=tmp_path, env=_stage_env())
    try:
        deadline = time.monotonic() + 30
        while not pidfile.exists() or not pidfile.read_text():
            assert proc.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child = int(pidfile.read_text())
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _stage_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}


def _alive(pid: int) -> bool:
    """True while pid runs and is not a zombie (an orphan's zombie is init's to reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_missing_binary_is_a_clear_error(go_newest: Toolchain, tmp_path: Path) -> None:
    with pytest.raises(GoCommandError, match="cannot start"):
        gocmd.run_binary(go_newest, tmp_path / "nope", [], cwd=tmp_path, timeout=5, gomaxprocs=1)


@pytest.mark.parametrize(
    ("before", "after"),
    [(0o644, 0o755), (0o640, 0o750), (0o600, 0o700), (0o444, 0o555), (0o400, 0o500)],
)
def test_file_without_execute_bits_gets_them_where_it_is_readable(
    before: int, after: int, tmp_path: Path
) -> None:
    path = tmp_path / "restored"
    path.write_bytes(b"")
    path.chmod(before)
    gocmd.ensure_executable(path)
    assert stat.S_IMODE(path.stat().st_mode) == after


@pytest.mark.parametrize("mode", [0o700, 0o744, 0o750, 0o755, 0o654])
def test_file_with_any_execute_bit_keeps_its_mode(mode: int, tmp_path: Path) -> None:
    path = tmp_path / "chosen"
    path.write_bytes(b"")
    path.chmod(mode)
    gocmd.ensure_executable(path)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_binary_restored_without_execute_bit_still_runs(
    go_newest: Toolchain, tmp_path: Path
) -> None:
    # What `dvc checkout` does to a build's binaries: the bytes come back, the mode does not.
    mod = _module(tmp_path / "probe", "1.21", PROBE)
    gocmd.go(go_newest, ["build", "-o", str(tmp_path / "built"), "."], cwd=mod, timeout=300)
    restored = tmp_path / "restored"
    shutil.copyfile(tmp_path / "built", restored)
    restored.chmod(0o644)
    res = gocmd.run_binary(go_newest, restored, [], cwd=tmp_path, timeout=60, gomaxprocs=2)
    assert res.stdout.split() == ["2", "go1.27.3"]
    assert stat.S_IMODE(restored.stat().st_mode) == 0o755


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("go version go1.27.3 linux/amd64", ("1.27.3", "linux", "amd64")),
        ("go version go1.21.13 darwin/arm64\n", ("1.21.13", "darwin", "arm64")),
        (
            "go version devel go1.28-4a3f1b2 Mon Nov 2 10:00:00 2026 +0000 linux/amd64",
            ("devel go1.28-4a3f1b2", "linux", "amd64"),
        ),
    ],
)
def test_go_version_output_is_parsed(text: str, expected: tuple[str, str, str]) -> None:
    assert gocmd.parse_go_version(text) == expected


def test_wrong_version_is_refused(go_newest: Toolchain) -> None:
    liar = Toolchain(label="x", goroot=go_newest.goroot, source="pypi", version="1.26.6")
    with pytest.raises(GoCommandError, match=r"configured as go1\.26\.6"):
        gocmd.verify_version(liar, gocmd.go_version(liar))
