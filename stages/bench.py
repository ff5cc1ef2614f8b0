"""DVC stage `bench`: every benchmark of every lab, toolchains x GOMAXPROCS interleaved in rounds.

    python -m stages.bench

One comparison is one session: in each of `bench.rounds` rounds every cell (toolchain x
GOMAXPROCS x lab package) runs once (-test.count=1), in an order shuffled from `bench.seed` and
recorded, so drift of the machine hits every toolchain alike. Runs the test binaries `build@*`
made. Writes data/raw/bench/bench.txt (Go benchmark format with configuration lines, readable
by benchstat: `benchstat -col go -ignore round,order data/raw/bench/bench.txt`), and the
Parquet datasets `bench` (long format, every unit) and `bench_stats` (benchstat's statistics of
every toolchain against the baseline, Holm-corrected).
"""

from __future__ import annotations

import json
import os
import random
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from stages import build, config, gocmd, log, stats, store, toolchains
from stages.formats import benchfmt
from stages.gocmd import GoCommandError, Toolchain

EXACT_UNITS = ("B/op", "allocs/op")
BENCH_SCHEMA = store.SCHEMAS["bench"]  # the column contract lives in stages.store
STATS_KEYS = ("gomaxprocs", "lab", "package", "name", "unit")


@dataclass(frozen=True)
class Cell:
    """One test binary of one lab package, under one toolchain, at one GOMAXPROCS."""

    go: str
    gomaxprocs: int
    lab: str
    package: str
    binary: Path
    srcdir: Path  # the package's directory: test binaries expect to run there


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
            "order": str(order), "lab": cell.lab, "host": host}  # fmt: skip
    return "".join(f"{k}: {v}\n" for k, v in keys.items())


def header() -> str:
    # benchstat treats allocation counts as exact only when told so (benchmath AssumeExact).
    return "".join(f"Unit {u} assume=exact\n" for u in EXACT_UNITS)


def discover(build_root: Path, label: str, procs: Sequence[int]) -> Iterator[Cell]:
    """Cells for every test binary of one toolchain's build."""
    manifest = json.loads((build_root / f"go={label}" / "manifest.json").read_text("utf-8"))
    for art in manifest["artifacts"]:
        if art["kind"] != "test":
            continue
        rel = art["package"].split(f"/{art['lab']}", 1)[1].lstrip("/")
        for n in procs:
            yield Cell(label, n, art["lab"], art["package"],  # absolute: runs elsewhere
                       (build_root / f"go={label}" / art["path"]).resolve(),
                       build.WORKSPACE / art["lab"] / rel)  # fmt: skip


def has_benchmarks(tc: Toolchain, cell: Cell, timeout: float) -> bool:
    res = gocmd.run_binary(tc, cell.binary, ["-test.list", "^Benchmark"], cwd=cell.srcdir,
                           timeout=timeout, gomaxprocs=cell.gomaxprocs)  # fmt: skip
    return any(line.startswith("Benchmark") for line in res.stdout.splitlines())


def run_cell(tc: Toolchain, cell: Cell, benchtime: str, timeout: float) -> str:
    """One benchmark run of one cell: go test's own output (config lines, results, PASS)."""
    args = ["-test.run", "^$", "-test.bench", ".", "-test.benchmem", "-test.count", "1",
            "-test.cpu", str(cell.gomaxprocs), "-test.benchtime", benchtime]  # fmt: skip
    res = gocmd.run_binary(tc, cell.binary, args, cwd=cell.srcdir, timeout=timeout,
                           gomaxprocs=cell.gomaxprocs)  # fmt: skip
    if not any(line.startswith("Benchmark") for line in res.stdout.splitlines()):
        raise GoCommandError(
            "printed no benchmark results", argv=res.args, toolchain=tc.label,
            stderr=res.stdout + res.stderr,
            hint=f"rerun `dvc repro -f build@{cell.go}` if the binary is stale; else run the "
            "command above by hand to see what it prints",
        )  # fmt: skip
    return res.stdout


def parse(text: str, source: str) -> pl.DataFrame:
    """bench.txt -> the long `bench` frame; a malformed benchmark line is an error naming it."""
    records = list(benchfmt.parse(text))
    bad = [r for r in records if isinstance(r, benchfmt.SyntaxErrorRecord)]
    if bad:
        first = bad[0]
        raise ValueError(f"{source}:{first.lineno}: {first.message} ({len(bad)} malformed lines)")
    rows = [
        {"go": r["go"], "gomaxprocs": int(r["gomaxprocs"]), "lab": r.get("lab", ""),
         "package": r.get("pkg", ""), "name": r["name"], "round": int(r["round"]),
         "order": int(r["order"]), "iterations": r["iterations"], "unit": r["unit"],
         "value": r["value"], "host": r.get("host", "")}
        for r in benchfmt.to_long_rows(records)
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=BENCH_SCHEMA)


def aa_pairs(cfg: config.Config) -> list[tuple[str, str]]:
    """Pairs of labels that name the same toolchain: an A/A comparison."""
    seen: dict[str, str] = {}
    pairs = []
    for t in cfg.go.toolchains:
        ident = t.version or str(t.goroot)
        if ident in seen:
            pairs.append((seen[ident], t.label))
        else:
            seen[ident] = t.label
    return pairs


def run_all(cfg: config.Config, out_txt: Path) -> None:
    """Every run of the session into out_txt (written beside, renamed when complete)."""
    host = cfg.host or socket.gethostname()
    tcs = {spec.label: toolchains.resolve(spec) for spec in cfg.go.toolchains}
    cells = []
    for label, tc in tcs.items():
        for cell in discover(store.RAW_ROOT / "build", label, cfg.sweep.gomaxprocs):
            if has_benchmarks(tc, cell, cfg.timeouts.run):
                cells.append(cell)
    if not cells:
        raise ValueError(
            f"no test binary lists a benchmark (`-test.list ^Benchmark`) in "
            f"{store.RAW_ROOT / 'build'}/go=*: rerun `dvc repro -f build` and check its manifest"
        )
    runs = schedule(cells, cfg.bench.rounds, cfg.bench.seed)
    log.info(f"{len(runs)} runs: {len(cells)} cells x {cfg.bench.rounds} rounds, "
             f"benchtime {cfg.bench.benchtime}, seed {cfg.bench.seed}")  # fmt: skip
    tmp = out_txt.with_name(f".{out_txt.name}.tmp-{os.getpid()}")
    t0 = time.monotonic()
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(header())
            for i, (rnd, order, cell) in enumerate(runs, 1):
                out = run_cell(tcs[cell.go], cell, cfg.bench.benchtime, cfg.timeouts.run)
                f.write(config_block(cell, rnd, order, host) + out)
                left = (time.monotonic() - t0) / i * (len(runs) - i)
                log.info(f"[{i}/{len(runs)}] round {rnd} go {cell.go} GOMAXPROCS "
                         f"{cell.gomaxprocs} {cell.package.rsplit('/', 2)[-2:][-1]} "
                         f"(~{left:.0f}s left)")  # fmt: skip
        tmp.rename(out_txt)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    cfg = config.load()
    raw = store.RAW_ROOT / "bench"
    raw.mkdir(parents=True, exist_ok=True)
    out_txt = raw / "bench.txt"
    try:
        run_all(cfg, out_txt)
        df = parse(out_txt.read_text(encoding="utf-8"), str(out_txt))
    except (GoCommandError, toolchains.ToolchainError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    go_versions = {
        lb: str(
            json.loads(
                (store.RAW_ROOT / "build" / f"go={lb}" / "manifest.json").read_text("utf-8")
            )["go_version"]
        )
        for lb in cfg.go.labels
    }
    params = {"bench": {"rounds": cfg.bench.rounds, "benchtime": cfg.bench.benchtime,
                        "seed": cfg.bench.seed, "baseline": cfg.baseline},
              "sweep.gomaxprocs": list(cfg.sweep.gomaxprocs)}  # fmt: skip
    store.write_dataset(
        df,
        store.PARQUET_ROOT / "bench",
        dataset="bench",
        params=params,
        go_versions=go_versions,
        host=cfg.host,
        sort_by=["go", "gomaxprocs", "lab", "package", "name", "unit", "round"],
    )
    st = stats.compare(df, cfg.baseline, keys=STATS_KEYS, exact_units=EXACT_UNITS)
    store.write_dataset(st, store.PARQUET_ROOT / "bench_stats", dataset="bench_stats",
                        params=params, go_versions=go_versions, host=cfg.host,
                        sort_by=["go", *STATS_KEYS])  # fmt: skip
    for a, b in aa_pairs(cfg):
        aa = stats.aa_false_positive_rate(df.filter(pl.col("go").is_in([a, b])), a, b)
        log.info(
            f"A/A {a} vs {b}: {aa.n_significant_raw}/{aa.n_comparisons} significant "
            f"before correction ({aa.rate:.1%}), {aa.n_significant_adjusted} after Holm"
        )
    log.info(f"wrote bench ({df.height} rows) and bench_stats ({st.height} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
