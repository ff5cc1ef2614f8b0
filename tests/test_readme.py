"""The README's commands run as written, so they cannot drift from the code.

Like golang/perf's cmd/benchstat/doc_test.go, which runs the examples of benchstat's
documentation, this takes every command line of the README's ```sh blocks (a trailing `# comment`
stripped) and runs it: its argument list from shlex.split, never a shell, with a timeout, the
venv kept off PATH (the commands name `.venv/bin/...` themselves), in a scratch copy of the
pipeline (tests/helpers/scratch.py) so that nothing a command writes lands in the repository.

- RUN_AS_WRITTEN: the cheap commands (argument-list prefixes), run exactly as the README shows.
- CHECKED_BY: the commands too expensive to run here (the whole pipeline, every check, wheel
  downloads), each with how it is checked instead: the same program, the same arguments, short
  of the expensive part.
- Any other README command fails, named, until it is added to one of the two; a CHECKED_BY entry
  the README no longer has fails too, so the table cannot rot.

The Data section's ```python blocks run with the project's interpreter in a temporary directory
holding a tiny dataset written by releaselab.core.store.write_dataset; so does every ```sql block,
with DuckDB (a project dependency, for stages.query).

"Sharing results" runs against a local S3 endpoint (moto's server, tests/helpers/s3.py) with the
README's MinIO endpoint replaced by the server's: its DVC remote blocks as written (the push
block in a scratch pipeline holding one real output, the pull block in a fresh clone of it),
its publish command over a tiny dataset of every catalog entry, and its ```python blocks reading
that back from the bucket. tests/test_dvc_s3.py (slow) runs the same two remote blocks around a
whole pipeline run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
import pytest
import yaml

from releaselab.core import catalog, config, store
from releaselab.core.paths import PARAMS, REPO
from releaselab.report import document, plots
from tests.helpers import report_data, scratch
from tests.helpers.s3 import S3Server

README = REPO / "README.md"
VENV_PY = ".venv/bin/python"  # as the README spells it: relative to the repository root
VENV_DVC = ".venv/bin/dvc"
SHELL_LANGS = ("sh", "bash", "shell")
TIMEOUT = 120.0
NEWEST_GO = config.release_span()[1]  # what conftest installs for the suite (TEST_GO)
# Hive partition values of the tiny dataset: labels that read back as numbers (1.3, 1.31) unless
# the reader's schema says String, as the README warns ("1.27.3" would make the column a string).
DATA_LABELS = ("1.30", "1.31")

_FENCE = re.compile(r"^(\s*)```([\w+-]*)\s*$")


@dataclass(frozen=True)
class Block:
    lang: str
    section: str  # the `## ` heading it is under
    line: int  # README line of its first body line
    text: str


@dataclass(frozen=True)
class Command:
    text: str  # as written, without its trailing comment
    line: int


def parse_blocks(markdown: str) -> list[Block]:
    """Every fenced code block (top level or indented in a list item), in order."""
    blocks: list[Block] = []
    section, body, start = "", list[str](), 0
    fence: re.Match[str] | None = None
    for n, line in enumerate(markdown.splitlines(), 1):
        m = _FENCE.match(line)
        if fence is None:
            if line.startswith("## "):
                section = line[3:].strip()
            elif m:
                fence, body, start = m, [], n + 1
        elif m and not m.group(2):
            indent = len(fence.group(1))
            text = "\n".join(b[indent:] if b[:indent].isspace() else b for b in body)
            blocks.append(Block(fence.group(2), section, start, text + "\n"))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"README.md:{start - 1}: a ``` fence is never closed"
    return blocks


def strip_comment(line: str) -> str:
    """`cmd args   # comment` -> `cmd args` (a `#` inside quotes or a word is kept)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def parse_commands(block: Block) -> list[Command]:
    """The command lines of one shell block (`\\` continuations joined)."""
    out: list[Command] = []
    pending, first = "", 0
    for n, raw in enumerate(block.text.splitlines(), block.line):
        line = strip_comment(raw.strip())
        if not pending:
            first = n
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        text = (pending + line).strip()
        pending = ""
        if text:
            out.append(Command(text, first))
    return out


BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))
COMMANDS = [c for b in BLOCKS if b.lang in SHELL_LANGS for c in parse_commands(b)]


# --- running things ------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """The caller's environment without any venv on PATH: the commands must not need one."""
    venv_bins = {(REPO / ".venv" / "bin").resolve()}
    if sys.prefix != sys.base_prefix:
        venv_bins.add((Path(sys.prefix) / "bin").resolve())
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "GO_RELEASE_LAB_PYTHON", "PYTHONPATH")}  # fmt: skip
    env["PATH"] = os.pathsep.join(p for p in path if Path(p).resolve() not in venv_bins)
    return env


def run(
    argv: Sequence[str],
    cwd: Path,
    *,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """stdout of argv run in cwd (a relative argv[0] is found from cwd) with env (default
    clean_env()); fails unless it exits 0."""
    shown = f"`{shlex.join(argv)}` (in {cwd})"
    try:
        res = subprocess.run(
            list(argv), cwd=cwd, env=clean_env() if env is None else dict(env), input=stdin,
            capture_output=True, text=True,
            timeout=TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"{shown} did not finish in {TIMEOUT:g}s")
    except OSError as err:
        pytest.fail(f"{shown} cannot start: {err}")
    assert res.returncode == 0, (
        f"{shown} exited {res.returncode}\n--- stdout\n{res.stdout}\n--- stderr\n{res.stderr}"
    )
    return res.stdout


class Lab:
    """Scratch copies of the pipeline, made once per composition and shared by the checks, and
    the "Sharing results" runs against the local S3 endpoint, each made once."""

    def __init__(self, tmp: pytest.TempPathFactory, s3: S3Server) -> None:
        self._tmp = tmp
        self._copies: dict[tuple[str, ...] | None, Path] = {}
        self._launched = False
        self.s3 = s3
        self._round_trip: list[list[str]] | None = None
        self._published: list[str] | None = None

    def copy(self, overrides: Sequence[str] | None = None) -> Path:
        """None: params.yaml as committed (what `dvc repro` reads); else composed from overrides
        the way `dvc exp run -S` composes it."""
        key = None if overrides is None else tuple(overrides)
        if key not in self._copies:
            work = scratch.make(self._tmp.mktemp("readme"), list(key or ()))
            if key is None:
                shutil.copy2(PARAMS, work / "params.yaml")
            self._copies[key] = work
        return self._copies[key]

    def stage_commands_run(self) -> None:
        """`.venv/bin/dvc` runs a stage's `sh bin/stage ...` with no venv on PATH: one real stage,
        `toolchains` for go=one (a toolchain the suite installs anyway), in a scratch copy."""
        if self._launched:
            return
        work = self.copy(["go=one"])
        run([VENV_DVC, "repro", "--single-item", "toolchains"], work)
        assert (work / "data" / "parquet" / "toolchains").is_dir()
        self._launched = True

    def remote_round_trip(self) -> list[list[str]]:
        """The README's DVC remote blocks as written (the endpoint the local server's; no AWS
        variable set: the commands give endpoint and keys): the push block in a scratch pipeline
        after its `toolchains` stage (a real output, cheap), committed; the pull block in a
        fresh clone, whose dataset then equals the pushed one byte for byte. The argv run."""
        if self._round_trip is None:
            self.s3.ensure_bucket(README_BUCKET)
            env = {k: v for k, v in self.s3.environ(clean_env(), keys=False).items()
                   if k != "AWS_ENDPOINT_URL"}  # fmt: skip
            work = scratch.make(self._tmp.mktemp("sharing"), ["go=one"])
            only_toolchains(work)
            run([VENV_DVC, "repro", "--single-item", "toolchains"], work, env=env)
            push, pull = remote_blocks()
            ran = [shlex.split(on_server(c.text, self.s3)) for c in push]
            for argv in ran:
                run(argv, work, env=env)
            scratch.commit_all(work, env, "toolchains, S3 remote")
            clone = work.parent / "clone"
            run(["git", "clone", "-q", str(work), str(clone)], work.parent, env=env)
            for c in pull:
                ran.append(shlex.split(on_server(c.text, self.s3)))
                run(ran[-1], clone, env=env)
            pushed, pulled = (parquet_files(d / "data" / "parquet") for d in (work, clone))
            assert pushed, f"{work}: the toolchains stage wrote no dataset"
            assert pulled == pushed, "`dvc pull` in a fresh clone gave other bytes"
            self._round_trip = ran
        return self._round_trip

    def published(self) -> list[str]:
        """The README's publish command as written (the endpoint the local server's) over a
        tiny dataset of every catalog entry; each file lands at its path under the prefix. The
        argv run."""
        if self._published is None:
            self.s3.ensure_bucket(README_BUCKET)
            (command,) = [c for b in sharing_blocks("sh") for c in parse_commands(b)
                          if "stages.publish" in c.text]  # fmt: skip
            argv = shlex.split(on_server(command.text, self.s3))
            work = self._tmp.mktemp("publish")
            (work / ".venv").symlink_to(REPO / ".venv")
            for ds in catalog.DATASETS:
                write_tiny(ds.name, work)
            run(argv, work, env=self.s3.environ(clean_env()))
            url = next(a for a in argv if a.startswith("s3://"))
            prefix = url.removeprefix(f"s3://{README_BUCKET}/").rstrip("/")
            got = self.s3.objects(README_BUCKET, f"{prefix}/")
            want = parquet_files(work / "data" / "parquet")
            assert {k.removeprefix(f"{prefix}/"): v for k, v in got.items()
                    if k.endswith(".parquet")} == want  # fmt: skip
            self._published = argv
        return self._published


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Lab:
    return Lab(tmp_path_factory, s3_server)


# --- "Sharing results": the README's S3 commands, aimed at a test server ------------------------

SHARING = "Sharing results"
README_ENDPOINT = "http://minio.lab.internal:9000"  # the MinIO server the README's commands name
README_BUCKET = "lab-results"


def sharing_blocks(lang: str) -> list[Block]:
    return [b for b in BLOCKS if b.section == SHARING and b.lang == lang]


def on_server(text: str, server: S3Server, bucket: str = README_BUCKET) -> str:
    """README text aimed at a test server: its endpoint for the README's, and `bucket` (which the
    caller creates) for the README's bucket."""
    return text.replace(README_ENDPOINT, server.url).replace(
        f"s3://{README_BUCKET}/", f"s3://{bucket}/"
    )


def remote_blocks() -> tuple[list[Command], list[Command]]:
    """The README's DVC remote commands: the ```sh block that pushes and the one that pulls."""
    blocks = [parse_commands(b) for b in sharing_blocks("sh")]
    push = [cs for cs in blocks if any(c.text.endswith("dvc push") for c in cs)]
    pull = [cs for cs in blocks if any(c.text.endswith("dvc pull") for c in cs)]
    assert len(push) == len(pull) == 1, "README: one ```sh block runs `dvc push`, one `dvc pull`"
    return push[0], pull[0]


def only_toolchains(work: Path) -> None:
    """Cut a scratch pipeline down to its `toolchains` stage: `dvc pull` fails on the outputs
    of stages that never ran, and the others take minutes."""
    dvc_yaml = work / "dvc.yaml"
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    dvc_yaml.write_text(yaml.safe_dump({"stages": {"toolchains": stages["toolchains"]}}))
    shutil.rmtree(work / "pipelines")


def parquet_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


# --- the commands that run as written, and the table of the others ----------------------------

RUN_AS_WRITTEN: tuple[tuple[str, ...], ...] = (
    (VENV_PY, "-m", "stages.config", "show"),
    (VENV_PY, "-m", "stages.config", "check"),
    (VENV_PY, "-m", "stages.toolchains", "list"),
    (VENV_PY, "-m", "stages.hosts"),
    (VENV_PY, "-m", "stages.toolchains", "path"),
    (VENV_PY, "-m", "stages.toolchains", "exec"),
)


def runs_as_written(argv: Sequence[str]) -> bool:
    return any(tuple(argv[: len(p)]) == p for p in RUN_AS_WRITTEN)


def cell_stages(cfg: config.Config) -> set[str]:
    """The stages a composition makes (dvc.yaml, pipelines/): a build per toolchain, and the
    sched and stack stages, each of which runs every toolchain x GOMAXPROCS cell itself."""
    labs = {f"pipelines/{lab}/dvc.yaml:{lab}" for lab in ("sched", "stack")}
    return labs | {f"build@{go}" for go in cfg.go.labels}


def check_dvc(argv: list[str], lab: Lab) -> None:
    """`dvc repro [TARGET...]` or `dvc exp run [-S OVERRIDE...] [TARGET...]`, short of running
    the pipeline: the overrides compose and validate; in a scratch pipeline with the params.yaml
    the command would run with, DVC's stage list holds every build and cell of that composition
    and each target, and `dvc status TARGET...` resolves the targets; `.venv/bin/dvc` runs stage
    commands with no venv on PATH (Lab.stage_commands_run)."""
    args = argv[1:]
    exp = args[:2] == ["exp", "run"]
    if not exp and args[:1] != ["repro"]:
        pytest.fail(f"`{shlex.join(argv)}`: check_dvc knows `dvc repro` and `dvc exp run` only")
    overrides: list[str] = []
    targets: list[str] = []
    rest = iter(args[2:] if exp else args[1:])
    for arg in rest:
        if exp and arg in ("-S", "--set-param"):
            overrides.append(next(rest))
        elif arg.startswith("-"):
            pytest.fail(f"`{shlex.join(argv)}`: check_dvc has no check for the option {arg}")
        else:
            targets.append(arg)
    if exp:
        run([VENV_PY, "-m", "stages.config", "check", *overrides], REPO)
        cfg, work = config.compose(overrides), lab.copy(overrides)
    else:
        cfg, work = config.load(), lab.copy()
    names = set(run([VENV_DVC, "stage", "list", "--all", "--name-only"], work).split())
    missing = sorted((cell_stages(cfg) | set(targets)) - names)
    assert not missing, f"`{shlex.join(argv)}`: DVC has no stage {missing}"
    if targets:
        run([VENV_DVC, "status", *targets], work)
    lab.stage_commands_run()


def check_make(argv: list[str], lab: Lab) -> None:
    """`make -n TARGET` (make's dry run): the target and its prerequisites exist; each line of the
    recipe that runs `.venv/bin/...` is checked: `dvc` by check_dvc, `python -m MOD` imports MOD
    in the venv, any other tool exists."""
    recipe = run(["make", "-n", *argv[1:]], REPO)
    modules: list[str] = []
    checked = 0
    for line in recipe.splitlines():
        words = shlex.split(line, comments=True) if line.startswith(".venv/bin/") else []
        if not words:
            continue
        checked += 1
        if words[0] == VENV_DVC:
            check_dvc(words, lab)
        elif words[:2] == [VENV_PY, "-m"]:
            modules.append(words[2])
        else:
            assert (REPO / words[0]).is_file(), f"`{argv}` runs {words[0]}, which is missing"
    assert checked, f"`make -n {shlex.join(argv[1:])}` runs nothing from .venv:\n{recipe}"
    find = "import importlib.util as u, sys; print([m for m in sys.argv[1:] if not u.find_spec(m)])"
    assert run([VENV_PY, "-c", find, *modules], REPO).strip() == "[]", f"`{argv}`: {modules}"


def check_install(argv: list[str], lab: Lab) -> None:
    """`stages.toolchains install VERSION...` downloads wheels on a cold cache: each README
    version is a release conf/go/all.yaml pins, and the same command installs the newest release
    (in the cache: the suite installs it) and prints its GOROOT."""
    cut = argv.index("install") + 1
    versions = argv[cut:]
    pinned = {t.version for t in config.compose(["go=all"]).go.toolchains}
    assert versions, f"`{shlex.join(argv)}` names no version"
    assert set(versions) <= pinned, f"{sorted(set(versions) - pinned)} not in conf/go/all.yaml"
    out = run([*argv[:cut], NEWEST_GO], lab.copy())
    assert out.startswith(f"{NEWEST_GO}\t"), out


def check_query(argv: list[str], lab: Lab) -> None:
    """`stages.query SQL` needs datasets, which a scratch copy has none of: run as written in a
    directory holding a tiny dataset of every catalog entry (write_tiny); its labels come back
    as the strings they are."""
    work = lab._tmp.mktemp("query")
    (work / ".venv").symlink_to(REPO / ".venv")
    for ds in catalog.DATASETS:
        write_tiny(ds.name, work)
    out = run(argv, work)
    assert all(label in out for label in DATA_LABELS), out


def check_dvc_reports(argv: list[str], lab: Lab) -> None:
    """`dvc metrics diff` / `dvc plots diff|show` need a pipeline run and revisions to compare:
    tests/test_dvc_metrics.py (slow) runs the same subcommands with the same options after two
    experiments of a tiny pipeline. Here: DVC knows each option, the test runs these options,
    and the --html-template is the page the report stage writes."""
    from stages import report  # noqa: PLC0415
    from tests import test_dvc_metrics  # noqa: PLC0415

    args = argv[1:]
    options = [a for a in args[2:] if a.startswith("-")]
    usage = run([VENV_DVC, *args[:2], "--help"], lab.copy())
    assert all(o in usage for o in options), f"`{shlex.join(argv)}`: {options} vs\n{usage}"
    if args[:2] == ["metrics", "diff"]:
        assert args[: len(test_dvc_metrics.METRICS_DIFF)] == test_dvc_metrics.METRICS_DIFF
    else:
        cut = args.index("--html-template")
        assert args[cut : cut + 3] == test_dvc_metrics.PLOTS, f"`{shlex.join(argv)}`"
        assert args[cut + 1] == (report.PLOTS_DIR / plots.PAGE).as_posix()


def check_browser(argv: list[str], lab: Lab) -> None:
    """`devtools.browser check reports/index.html` needs a report: run as written in a directory
    holding one rendered from the outputs captured under tests/data (tests/helpers/report_data);
    it passes and writes the screenshot it names."""
    work = lab._tmp.mktemp("browser")
    (work / ".venv").symlink_to(REPO / ".venv")
    parquet_root, build_root = report_data.make(work)
    document.build(config.compose(["go=recent"]), parquet_root, build_root, work / "reports")
    out = run(argv, work)
    assert "screenshot: reports/index.png" in out, out
    assert (work / "reports" / "index.png").is_file()


def check_remote(argv: list[str], lab: Lab) -> None:
    """`dvc remote add|modify`, `dvc push`, `dvc pull` of "Sharing results": run as written, in
    order, against a local S3 server (Lab.remote_round_trip)."""
    ran = lab.remote_round_trip()
    assert shlex.split(on_server(shlex.join(argv), lab.s3)) in ran, f"`{shlex.join(argv)}`"


def check_publish(argv: list[str], lab: Lab) -> None:
    """`stages.publish URL --endpoint-url MINIO`: run as written against a local S3 server over a
    tiny dataset of every catalog entry (Lab.published)."""
    assert shlex.split(on_server(shlex.join(argv), lab.s3)) == lab.published()


class Check(NamedTuple):
    how: str
    check: Callable[[list[str], Lab], None]


_REMOTE = Check(
    "needs an S3 server: run as written against a local one (moto), the push block in a "
    "scratch pipeline holding one real output, the pull block in a fresh clone of it; "
    "tests/test_dvc_s3.py (slow) runs both blocks around a whole pipeline run",
    check_remote,
)

CHECKED_BY: dict[str, Check] = {
    "make fleet-demo": Check(
        "the pipeline on a local Ray cluster (minutes): `make -n fleet-demo`, its "
        "`.venv/bin/python -m devtools.fleet` imports; tests/test_fleet.py runs the same matrix",
        check_make,
    ),
    "make run": Check(
        "the whole pipeline: `make -n run`, and its `.venv/bin/dvc repro` line as check_dvc",
        check_make,
    ),
    "make test": Check(
        "every check (minutes): `make -n test`, each `.venv/bin/python -m MOD` imports",
        check_make,
    ),
    ".venv/bin/dvc exp run -S go=all -S 'sweep.gomaxprocs=[1,2,4]'": Check(
        "the whole pipeline for every release x 3 GOMAXPROCS: the overrides through "
        "`stages.config check`, the stages they make through `dvc stage list` in a scratch "
        "pipeline composed from them",
        check_dvc,
    ),
    ".venv/bin/dvc exp run -S targets=stdlib": Check(
        "the pipeline with 9 standard-library targets (~10 minutes, docs/COST.md): the overrides "
        "through `stages.config check`, the stages through `dvc stage list` (check_dvc)",
        check_dvc,
    ),
    ".venv/bin/dvc exp run -S '+targets.sumgo.dir=tests/data/targets/sumgo'": Check(
        "the pipeline with a module directory: check_dvc here; tests/test_targets_pipeline.py "
        "(slow) runs `dvc exp run -S '+targets.<label>.dir=...'` for real",
        check_dvc,
    ),
    ".venv/bin/dvc exp run -S targets=xxhash -S go=span -S targets.labs=false": Check(
        "fetches a module and runs the pipeline: check_dvc here; tests/test_targets_pipeline.py "
        "(slow) runs these overrides for real",
        check_dvc,
    ),
    ".venv/bin/dvc repro pipelines/sched/dvc.yaml:sched": Check(
        "builds and runs a lab: `dvc stage list` and `dvc status TARGET` in a scratch pipeline",
        check_dvc,
    ),
    ".venv/bin/dvc repro": Check(
        "the whole pipeline: `dvc stage list` in a scratch pipeline (check_dvc)", check_dvc
    ),
    ".venv/bin/dvc metrics diff --md main": Check(
        "needs revisions with outputs: tests/test_dvc_metrics.py runs it (slow)", check_dvc_reports
    ),
    ".venv/bin/dvc plots diff main --html-template reports/plots/page.html -o reports/plots_diff": (
        Check(
            "needs revisions with outputs: tests/test_dvc_metrics.py runs it (slow)",
            check_dvc_reports,
        )
    ),
    ".venv/bin/dvc plots show --html-template reports/plots/page.html -o reports/plots_html": Check(
        "needs the report's outputs: tests/test_dvc_metrics.py runs it (slow)", check_dvc_reports
    ),
    '.venv/bin/python -m stages.query "SELECT go, gomaxprocs, count(*) AS n FROM bench_stats '
    'WHERE significant GROUP BY ALL ORDER BY ALL"': Check(
        "reads datasets: run as written beside a tiny dataset of every catalog entry",
        check_query,
    ),
    ".venv/bin/python -m devtools.browser check reports/index.html": Check(
        "needs a report: run as written beside one rendered from tests/data's captured outputs",
        check_browser,
    ),
    ".venv/bin/python -m stages.toolchains install 1.25.5 1.26.6": Check(
        "downloads wheels on a cold cache: the versions are pinned releases; the same command "
        "with the newest release (cached)",
        check_install,
    ),
    ".venv/bin/dvc remote add -d results s3://lab-results/go-release-lab/dvc": _REMOTE,
    ".venv/bin/dvc remote modify results endpointurl http://minio.lab.internal:9000": _REMOTE,
    ".venv/bin/dvc remote modify --local results access_key_id lab-ci": _REMOTE,
    ".venv/bin/dvc remote modify --local results secret_access_key lab-ci-secret": _REMOTE,
    ".venv/bin/dvc push": _REMOTE,
    ".venv/bin/dvc pull": _REMOTE,
    ".venv/bin/python -m stages.publish s3://lab-results/go-release-lab/parquet "
    "--endpoint-url http://minio.lab.internal:9000": Check(
        "needs an S3 server: run as written against a local one (moto) over a tiny dataset of "
        "every catalog entry",
        check_publish,
    ),
}


# --- the tests ---------------------------------------------------------------------------------


def test_the_readme_has_commands() -> None:
    assert any(b.lang in SHELL_LANGS for b in BLOCKS), "README.md has no ```sh block"
    assert COMMANDS, "README.md's ```sh blocks hold no command"


def test_the_table_lists_readme_commands_only() -> None:
    written = {c.text for c in COMMANDS}
    stale = sorted(set(CHECKED_BY) - written)
    assert not stale, f"CHECKED_BY lists commands the README no longer has: {stale}"
    both = sorted(t for t in CHECKED_BY if runs_as_written(shlex.split(t)))
    assert not both, f"both in RUN_AS_WRITTEN and CHECKED_BY: {both}"


@pytest.mark.parametrize("command", COMMANDS, ids=[c.text for c in COMMANDS])
def test_readme_command(command: Command, lab: Lab) -> None:
    argv = shlex.split(command.text)
    if runs_as_written(argv):
        run(argv, lab.copy())
    elif command.text in CHECKED_BY:
        how, check = CHECKED_BY[command.text]
        print(f"README.md:{command.line}: not run here ({how}); {check.__name__}")  # on failure
        check(argv, lab)
    else:
        pytest.fail(
            f"README.md:{command.line}: `{command.text}` is neither run as written "
            "(RUN_AS_WRITTEN) nor checked another way (CHECKED_BY) in tests/test_readme.py; "
            "make it cheap enough to run, or add it to CHECKED_BY with how it is checked"
        )


def _dummy(name: str, dtype: pl.DataType, label: str) -> object:
    if name == "go":
        return label
    if isinstance(dtype, pl.List):
        return []
    if dtype.is_integer():
        return 1
    if dtype.is_float():
        return 1.0
    values: dict[pl.DataType, object] = {pl.String(): "x", pl.Boolean(): True}
    assert dtype in values, f"no dummy value for {name}: {dtype}"
    return values[dtype]


def write_tiny(dataset: str, root: Path) -> None:
    """One row per DATA_LABELS label, through the project's writer (hive partitions, metadata)."""
    schema = catalog.schema(dataset)
    rows = [{c: _dummy(c, t, label) for c, t in schema.items()} for label in DATA_LABELS]
    store.write_dataset(
        store.frame(rows, schema), root / "data" / "parquet" / dataset, dataset=dataset, params={}
    )


# Runs a README block; the value of its last expression (what a notebook would show) printed as
# JSON: a frame's schema and rows, or its repr.
RUNNER = """
import ast, json, sys
tree = ast.parse(sys.stdin.read(), "README.md")
ast.increment_lineno(tree, int(sys.argv[1]) - 1)
if tree.body and isinstance(tree.body[-1], ast.Expr):
    last = tree.body[-1]
    value = ast.Assign(targets=[ast.Name("_value", ast.Store())], value=last.value)
    tree.body[-1] = ast.fix_missing_locations(ast.copy_location(value, last))
ns = {"__name__": "__main__"}
exec(compile(tree, "README.md", "exec"), ns)
v = ns.get("_value")
out = ({"schema": {k: str(t) for k, t in v.schema.items()}, "rows": v.to_dicts()}
       if hasattr(v, "to_dicts") else {"repr": repr(v)})
print(json.dumps(out, default=str))
"""

DATA_PYTHON = [b for b in BLOCKS if b.section == "Data" and b.lang == "python"]


@pytest.mark.parametrize("block", DATA_PYTHON, ids=[f"README.md:{b.line}" for b in DATA_PYTHON])
def test_data_python_block(block: Block, tmp_path: Path) -> None:
    """The block reads a tiny dataset in its working directory; `go` comes back as strings."""
    datasets = sorted(set(re.findall(r"data/parquet/(\w+)/", block.text)))
    assert datasets, f"README.md:{block.line}: the block reads no data/parquet/<dataset>"
    for name in datasets:
        write_tiny(name, tmp_path)
    venv_py = str(REPO / VENV_PY)
    value: dict[str, Any] = json.loads(
        run([venv_py, "-c", RUNNER, str(block.line)], tmp_path, stdin=block.text)
    )
    if "go" in value.get("schema", {}):
        assert value["schema"]["go"] == "String", f"README.md:{block.line}: {value['schema']}"
        assert sorted(r["go"] for r in value["rows"]) == sorted(DATA_LABELS * len(datasets))


SQL_BLOCKS = [b for b in BLOCKS if b.lang == "sql"]
SQL_RUNNER = """
import json, sys
import duckdb
rel = duckdb.sql(sys.stdin.read())
types = {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}
print(json.dumps({"types": types, "go": sorted(str(g) for g in rel.pl()["go"])}))
"""


def test_the_readme_has_sql() -> None:
    assert SQL_BLOCKS, "README.md has no ```sql block"


@pytest.mark.parametrize("block", SQL_BLOCKS, ids=[f"README.md:{b.line}" for b in SQL_BLOCKS])
def test_sql_block(block: Block, tmp_path: Path) -> None:
    """The block reads a tiny dataset with DuckDB in its working directory; `go` comes back as
    VARCHAR strings (1.30, not 1.3)."""
    datasets = sorted(set(re.findall(r"data/parquet/(\w+)/", block.text)))
    assert datasets, f"README.md:{block.line}: the block reads no data/parquet/<dataset>"
    for name in datasets:
        write_tiny(name, tmp_path)
    value = json.loads(run([str(REPO / VENV_PY), "-c", SQL_RUNNER], tmp_path, stdin=block.text))
    assert value["types"]["go"] == "VARCHAR", f"README.md:{block.line}: {value['types']}"
    assert value["go"] == sorted(DATA_LABELS * len(datasets))


SHARING_PYTHON = sharing_blocks("python")


def test_the_sharing_section_reads_the_mirror_with_python() -> None:
    assert SHARING_PYTHON, 'README.md: "Sharing results" has no ```python block'


@pytest.mark.parametrize(
    "block", SHARING_PYTHON, ids=[f"README.md:{b.line}" for b in SHARING_PYTHON]
)
def test_sharing_python_block(block: Block, lab: Lab, tmp_path: Path) -> None:
    """The block reads what the README's publish command put in the bucket (Lab.published),
    through the AWS variables alone (endpoint and keys of the local server); `go` comes back
    as the strings it is."""
    lab.published()
    argv = [str(REPO / VENV_PY), "-c", RUNNER, str(block.line)]
    text, env = on_server(block.text, lab.s3), lab.s3.environ(clean_env())
    value: dict[str, Any] = json.loads(run(argv, tmp_path, stdin=text, env=env))
    assert value.get("schema", {}).get("go") == "String", f"README.md:{block.line}: {value}"
    assert sorted(r["go"] for r in value["rows"]) == sorted(DATA_LABELS), value
