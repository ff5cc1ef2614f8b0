"""The one runner: every `go` command and every lab binary starts here.

Hermetic means the Go settings are ours: GOROOT/PATH of the chosen toolchain, GOTOOLCHAIN=local
(else the go command may switch to or download another Go and we would measure the wrong one),
GOENV=off (no `go env -w` leaks), no inherited GO* variables but the network ones, explicit
GOMAXPROCS/GODEBUG for runs. Every call has a timeout and captured output; a failure names the
command, the toolchain and the tail of stderr.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import re
import signal
import stat
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from releaselab.core.cache import cache_root
from releaselab.core.errors import LabError

# The machine's network and compiler settings pass through; module downloads need them.
PASS_THROUGH = (
    "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR", "TERM", "TZ",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
    "http_proxy", "https_proxy", "no_proxy", "all_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO", "GIT_SSL_NO_VERIFY",
    "GOPROXY", "GONOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GOSUMDB", "GOINSECURE",
    "CC", "CXX", "PKG_CONFIG_PATH",
)  # fmt: skip
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
STDERR_TAIL_LINES = 25
PROCLOG_ENV = "GO_RELEASE_LAB_PROCLOG"  # optional: a file that gets one JSON line per process
EXEC_BITS = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH

_PR_SET_PDEATHSIG = 1
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)  # Linux only


def _die_with(parent: int) -> None:
    """In the child before exec: be SIGKILLed when the stage that started us dies, so a killed
    `dvc repro` leaves no lab still writing into a directory the next run sweeps."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


NEEDS_NEWER_GO = re.compile(r"requires go >= (\S+) \(running go (\S+); GOTOOLCHAIN=local\)")
_GO_VERSION = re.compile(r"^go version (?:go(\S+)|devel (\S+).*?) (\S+)/(\S+)")


@dataclass(frozen=True)
class Toolchain:
    """A usable Go toolchain: its label, GOROOT and where it came from."""

    label: str
    goroot: Path
    source: str  # "pypi" or "goroot"
    version: str | None = None  # the configured release; None for a local GOROOT
    wheel_sha256: str | None = None

    @property
    def go(self) -> Path:
        return self.goroot / "bin" / "go"


class GoCommandError(LabError, RuntimeError):
    """A `go` command or lab binary failed, timed out, or could not start."""

    def __init__(
        self,
        summary: str,
        *,
        argv: Sequence[str],
        toolchain: str | None,
        stderr: str = "",
        hint: str = "",
    ) -> None:
        self.argv = list(argv)
        self.toolchain = toolchain
        self.stderr = stderr
        tail = "\n".join(stderr.rstrip().splitlines()[-STDERR_TAIL_LINES:])
        parts = [f"{summary}: {' '.join(self.argv)}"]
        if toolchain:
            parts.append(f"toolchain: {toolchain}")
        if tail:
            parts.append("stderr (tail):\n" + "\n".join(f"  | {ln}" for ln in tail.splitlines()))
        if hint:
            parts.append(f"fix: {hint}")
        super().__init__("\n".join(parts))


def hermetic_env(
    tc: Toolchain,
    *,
    gomaxprocs: int | None = None,
    godebug: str | None = None,
    gowork: str | None = "off",
    extra: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment for one command under toolchain `tc`.

    gowork: "off", a path to a go.work, or None to let the go command find one.
    """
    src = os.environ if base is None else base
    env = {k: src[k] for k in PASS_THROUGH if k in src}
    root = cache_root()
    env.update(
        GOROOT=str(tc.goroot),
        PATH=f"{tc.goroot / 'bin'}:{src.get('PATH', SYSTEM_PATH)}",
        GOTOOLCHAIN="local",
        GOENV="off",
        GOFLAGS="",
        GOPATH=str(root / "gopath"),
        GOMODCACHE=str(root / "gomodcache"),
        GOCACHE=str(root / "gocache"),
    )
    if gowork is not None:
        env["GOWORK"] = gowork
    if gomaxprocs is not None:
        env["GOMAXPROCS"] = str(gomaxprocs)
    if godebug:
        env["GODEBUG"] = godebug
    if extra:
        env.update(extra)
    return env


def _hint(stderr: str, tc: Toolchain | None) -> str:
    m = NEEDS_NEWER_GO.search(stderr)
    if m:
        return (
            f"this module needs Go >= {m.group(1)} but toolchain {tc.label if tc else '?'} is "
            f"go{m.group(2)}; GOTOOLCHAIN=local keeps the go command from downloading another "
            "Go. Drop this toolchain for that module, or lower the module's `go` line."
        )
    return ""


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float,
    toolchain: Toolchain | None = None,
    check: bool = True,
    stdout_path: Path | None = None,
    hint: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run argv (never a shell string) with a timeout; kill its whole process group on timeout.

    hint: the fix to print when it exits non-zero and the stderr suggests nothing better.

    stdout goes to `stdout_path` when given (large outputs), else it is captured.
    """
    args = [os.fspath(a) for a in argv]
    label = toolchain.label if toolchain else None
    out_file = stdout_path.open("w", encoding="utf-8") if stdout_path else None
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=dict(env),
            text=True,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
            stdout=out_file or subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # so a timeout can kill `go test`'s children too
            # stages start no threads, so the fork-then-preexec hazard does not apply
            preexec_fn=functools.partial(_die_with, os.getpid()) if _prctl else None,  # noqa: PLW1509
        )
    except OSError as err:
        if out_file:
            out_file.close()
        raise GoCommandError(
            f"cannot start ({err.strerror})",
            argv=args,
            toolchain=label,
            hint="check that the toolchain is installed and the path exists",
        ) from err
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise GoCommandError(
            f"timed out after {timeout:g}s",
            argv=args,
            toolchain=label,
            stderr=stderr or "",
            hint="raise `timeouts` in conf/config.yaml or shrink the run",
        ) from None
    finally:
        if out_file:
            out_file.close()
        _proclog(args, cwd, time.monotonic() - started, proc.returncode)
    result = subprocess.CompletedProcess(args, proc.returncode, stdout or "", stderr or "")
    if check and proc.returncode != 0:
        raise GoCommandError(
            f"exit status {proc.returncode}",
            argv=args,
            toolchain=label,
            stderr=result.stderr or result.stdout,
            hint=_hint(result.stderr, toolchain) or hint,
        )
    return result


def _proclog(args: Sequence[str], cwd: Path, wall: float, status: int | None) -> None:
    """With GO_RELEASE_LAB_PROCLOG=<file>, append one JSON line per process (bench/pipeline_cost.py
    sums them); without it, nothing."""
    path = os.environ.get(PROCLOG_ENV)
    if path:
        import resource  # noqa: PLC0415 - only when logging (Unix)

        # children_maxrss_kib: the largest child of this stage so far (a running max)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rec = {"argv": list(args[:3]), "cwd": str(cwd), "wall_s": round(wall, 6),
               "exit": status, "stage_pid": os.getpid(), "children_maxrss_kib": rss}  # fmt: skip
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")


def go(
    tc: Toolchain,
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path,
    timeout: float,
    gowork: str | None = "off",
    extra_env: Mapping[str, str] | None = None,
    check: bool = True,
    stdout_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `go ARGS` with toolchain tc in its hermetic environment."""
    env = hermetic_env(tc, gowork=gowork, extra=extra_env)
    return run(
        [tc.go, *args],
        env=env,
        cwd=cwd,
        timeout=timeout,
        toolchain=tc,
        check=check,
        stdout_path=stdout_path,
    )


def ensure_executable(path: Path) -> None:
    """Give a file with no execute bit at all u+x, and g+x / o+x where it has g+r / o+r.

    Leaves a file that has any execute bit alone; a missing file or a failed chmod is left for
    the start of the process to report.
    """
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & EXEC_BITS == 0:
            path.chmod(mode | stat.S_IXUSR | ((mode & (stat.S_IRGRP | stat.S_IROTH)) >> 2))


def run_binary(
    tc: Toolchain,
    binary: Path,
    args: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    gomaxprocs: int,
    godebug: str | None = None,
    check: bool = True,
    stdout_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a lab binary built by tc with an explicit GOMAXPROCS (and GODEBUG when given)."""
    # DVC restores outputs from its cache (`dvc checkout`, `exp apply`, `exp run`, `pull`)
    # without the execute bit of files in a directory output: build@LABEL's binaries come
    # back as 0644 and would fail with `Permission denied`.
    ensure_executable(binary)
    env = hermetic_env(tc, gomaxprocs=gomaxprocs, godebug=godebug)
    return run(
        [binary, *args],
        env=env,
        cwd=cwd,
        timeout=timeout,
        toolchain=tc,
        check=check,
        stdout_path=stdout_path,
        hint=f"rerun `dvc repro -f build@{tc.label}` if the binary is stale; else run the "
        f"command above by hand (GOMAXPROCS={gomaxprocs}) to see why the lab fails",
    )


def parse_go_version(text: str) -> tuple[str, str, str]:
    """`go version` output -> (version, goos, goarch); version is "1.27.3" or "devel ...".

    >>> parse_go_version("go version go1.27.3 linux/amd64")
    ('1.27.3', 'linux', 'amd64')
    """
    m = _GO_VERSION.match(text.strip())
    if not m:
        raise ValueError(f"not `go version` output: {text.strip()[:200]!r}")
    version = m.group(1) or f"devel {m.group(2)}"
    return version, m.group(3), m.group(4)


def go_version(tc: Toolchain, *, timeout: float = 60) -> str:
    """What `go version` of tc prints (one line)."""
    return go(tc, ["version"], cwd=tc.goroot, timeout=timeout).stdout.strip()


def go_env(
    tc: Toolchain, *, cwd: Path, timeout: float = 60, gowork: str | None = "off"
) -> dict[str, str]:
    """`go env -json` of tc, as it applies in cwd."""
    out = go(tc, ["env", "-json"], cwd=cwd, timeout=timeout, gowork=gowork).stdout
    data = json.loads(out)
    return {str(k): str(v) for k, v in data.items()}


def verify_version(tc: Toolchain, printed: str) -> None:
    """Fail unless `go version` says the configured release (a local GOROOT says what it says)."""
    version, _, _ = parse_go_version(printed)
    if tc.version is not None and version != tc.version:
        raise GoCommandError(
            f"toolchain {tc.label} is configured as go{tc.version} but `go version` says "
            f"{printed!r}",
            argv=[str(tc.go), "version"],
            toolchain=tc.label,
            hint=f"reinstall it: python -m stages.toolchains install --force {tc.version}",
        )
