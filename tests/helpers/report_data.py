"""A data/ tree for the report stage made from the real outputs captured under tests/data, through
the same parsers and statistics the stages use, so that a report renders in seconds.

- bench, bench_stats: a real bench stage session (tests/data/bench/pipeline/bench.txt: 1.25.5,
  1.26.6 and 1.27.3, GOMAXPROCS 1 and 2), benchstat's statistics against 1.25.5;
- escape, escape_diff: one compile each of tests/data/escape/src by 1.25.5 and 1.27.3 (-m=2
  text and -json), as the unit `small`;
- sched_*: one run of the schedule-forensics lab each by 1.25.5 and 1.27.3 (GOMAXPROCS 2);
- stack: the stack-growth lab's runs by 1.21.13 and 1.27.3 (GOMAXPROCS 1 and 2) and their
  overhead JSON in data/raw/stack;
- toolchains: one row per label above, its `go version` the label's (no build manifests: the
  report's Builds section says there are none).
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from releaselab.bench import benchfmt, session, stats, units
from releaselab.core import catalog, labels, store
from releaselab.core.config import LABS_TARGET
from releaselab.escape import collect
from releaselab.escape import data as escape_data
from releaselab.sched import data as sched_data
from releaselab.stack import cell as stack_cell

DATA = Path(__file__).resolve().parent.parent / "data"
BASELINE = "1.25.5"
BENCH_KEYS = session.STATS_KEYS
# the host label of the machine the captured outputs came from (tests/data/stack/host=vm)
HOST = "vm"
ESCAPE_GO = ("1.25.5", "1.27.3")
SCHED_GO = ("1.25.5", "1.27.3")
STACK_INTERVAL = "1ms"  # what the captured stack runs were sampled with (their meta.json)


@dataclass(frozen=True)
class Writer:
    """Writes datasets under parquet_root through the project's writer; `only` keeps just those
    toolchains' rows, as if only they had run."""

    parquet_root: Path
    only: tuple[str, ...] = ()

    def __call__(self, df: pl.DataFrame, dataset: str, params: dict[str, object]) -> None:
        if self.only:
            cols = ("from_go", "to_go") if dataset == "escape_diff" else ("go",)
            df = df.filter(*(pl.col(c).is_in(self.only) for c in cols))
        store.write_dataset(
            df, self.parquet_root / dataset, dataset=dataset, params=params, host="vm"
        )


def bench(write: Writer) -> list[str]:
    raw = DATA / "bench" / "pipeline" / "bench.txt"
    df = session.parse(raw.read_text(encoding="utf-8"), str(raw)).with_columns(host=pl.lit(HOST))
    if write.only:  # the session of fewer toolchains: its baseline is one of them
        df = df.filter(pl.col("go").is_in(write.only))
    gos = labels.display_order(df["go"].to_list(), BASELINE)
    write(df, "bench", {})
    st = stats.compare(df, gos[0], keys=BENCH_KEYS, exact_units=units.ALLOC_UNITS)
    write(st, "bench_stats", {})
    return gos


def lab_stats() -> pl.DataFrame:
    """bench_stats of tests/data/bench/lab.txt (10 rounds of 1.25.5 and 1.27.3 at GOMAXPROCS 1
    and 2: enough samples for a time change to be significant after Holm)."""
    records = benchfmt.parse((DATA / "bench" / "lab.txt").read_text(encoding="utf-8"))
    df = pl.DataFrame(list(benchfmt.to_long_rows(records))).with_columns(
        pl.col("gomaxprocs").cast(pl.Int64),
        lab=pl.lit("benchcap"),
        package=pl.col("pkg"),
        target=pl.lit(LABS_TARGET),
        host=pl.lit(HOST),
    )
    return stats.compare(df, BASELINE, keys=BENCH_KEYS, exact_units=units.ALLOC_UNITS)


def escape_frame(gos: Sequence[str], work: Path) -> pl.DataFrame:
    """The escape rows of one compile of tests/data/escape/src by each of `gos`."""
    frames = []
    for go in gos:
        unit = work / go / "small"  # the layout build@ captures: <unit>/m2.txt and json/
        unit.mkdir(parents=True)
        shutil.copy(DATA / "escape" / go / "small-m2.txt", unit / "m2.txt")
        shutil.copytree(DATA / "escape" / go / "small-m2.json", unit / "json")
        text, js = collect.parse_unit(unit, go=go)
        frames.append(escape_data.cross_check(text, js))
    return escape_data.attribute_functions(pl.concat(frames))


def escape(write: Writer, work: Path) -> list[str]:
    df = escape_frame(ESCAPE_GO, work)
    write(df, "escape", {})
    write(escape_data.release_diff(df, list(ESCAPE_GO)), "escape_diff", {})
    return list(ESCAPE_GO)


def sched(write: Writer) -> list[str]:
    waits, hist, requests = [], [], []
    for go in SCHED_GO:
        d = DATA / "sched" / f"go{go}-P2"
        w = pl.read_csv(d / "waits.csv.gz", schema=sched_data.WAITS_CSV)
        t = pl.read_csv(d / "tasks.csv", schema=sched_data.TASKS_CSV)
        waits.append(sched_data.waits_frame(w, t, go=go, gomaxprocs=2, host=HOST))
        m = json.loads(gzip.decompress((d / "metrics.json.gz").read_bytes()))
        hist.append(sched_data.hist_frame(m, go=go, gomaxprocs=2, host=HOST))
        r = pl.read_csv(d / "requests.csv", schema=sched_data.REQUESTS_CSV)
        requests.append(sched_data.requests_frame(r, go=go, gomaxprocs=2, host=HOST))
    w_all, r_all = pl.concat(waits), pl.concat(requests)
    write(w_all, "sched_waits", {})
    write(pl.concat(hist), "sched_hist", {})
    write(r_all, "sched_requests", {})
    write(sched_data.run_summary(w_all, r_all, seed=1), "sched_runs", {})
    return list(SCHED_GO)


def stack(write: Writer, raw_root: Path) -> list[str]:
    frames = []
    for p in sorted((DATA / "stack").glob("host=*/go=*/gomaxprocs=*/*.csv")):
        go = p.parent.parent.name.removeprefix("go=")
        procs = int(p.parent.name.removeprefix("gomaxprocs="))
        godebug = "" if p.stem == "default" else p.stem
        text = p.read_text(encoding="utf-8")
        frames.append(
            stack_cell.parse_csv(text, go=go, gomaxprocs=procs, godebug=godebug, host=HOST)
        )
    for p in sorted((DATA / "stack").glob("host=*/go=*/gomaxprocs=*/overhead.json")):
        if write.only and p.parent.parent.name.removeprefix("go=") not in write.only:
            continue
        dest = raw_root / "stack" / p.relative_to(DATA / "stack")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dest)
    df = pl.concat(frames)
    write(df, "stack", {"labs.stack": {"interval": STACK_INTERVAL}})
    return sorted(set(df["go"].to_list()))


def toolchains(write: Writer, gos: list[str]) -> None:
    rows = [
        {"go": g, "label": g, "version": g, "source": "pypi", "goroot": "",
         "go_version": f"go version go{g} linux/amd64", "wheel_sha256": ""}
        for g in labels.display_order(gos, BASELINE)
    ]  # fmt: skip
    write(pl.DataFrame(rows, schema=catalog.schema("toolchains")), "toolchains", {})


def make(root: Path, only: Sequence[str] = ()) -> tuple[Path, Path]:
    """data/parquet and data/raw (with an empty build/) under root; (parquet root, build root).
    `only`: keep just these toolchains' rows (as if only they had run)."""
    parquet_root, raw_root = root / "data" / "parquet", root / "data" / "raw"
    build_root = raw_root / "build"
    build_root.mkdir(parents=True)
    write = Writer(parquet_root, tuple(only))
    gos = {*bench(write), *escape(write, root / "escape-units"), *sched(write)}
    gos |= set(stack(write, raw_root))
    toolchains(write, sorted(gos & set(only)) if only else sorted(gos))
    return parquet_root, build_root
