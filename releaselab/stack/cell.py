"""The stack-growth lab's runs and their output: one GODEBUG variant, the sampler-overhead
measurement, the CSV and JSON the lab writes -> the `stack` frame (the stage: stages/stack.py)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from releaselab.core import catalog, gocmd, hosts
from releaselab.core.errors import LabOutputError
from releaselab.core.gocmd import Toolchain

DATASET = "stack"
BINARY = Path("stack-growth") / "bin" / "stack-growth"  # inside data/raw/build/go=<label>/
OVERHEAD_FILE = "overhead.json"
# The lab's CSV contract (runtime-foundations/stack-growth/internal/lab/output.go, CSVHeader).
CSV_COLUMNS = (
    "t_ns", "scenario", "phase", "kind", "stack_inuse_bytes", "stack_os_bytes", "goroutines",
    "starting_size_bytes", "gc_cycles", "memstats_stack_inuse",
)  # fmt: skip
SORT_BY = ("godebug", "t_ns", "kind", "scenario", "phase")
RUN_DIR = "round={}"  # one run's CSVs and meta JSONs, inside data/raw/stack/go=L/gomaxprocs=N/
_SLUG_BAD = re.compile(r"[^A-Za-z0-9._=+-]+")


class StackLabError(LabOutputError):
    """The lab's output does not match what was asked for or what the stage can read."""


def variant_name(godebug: str) -> str:
    """A file-name stem for one GODEBUG variant: `default` when unset.

    >>> variant_name(""), variant_name("adaptivestackstart=0,gctrace=1")
    ('default', 'adaptivestackstart=0+gctrace=1')
    """
    return _SLUG_BAD.sub("_", godebug.replace(",", "+")) if godebug else "default"


def parse_csv(
    text: str,
    *,
    go: str,
    gomaxprocs: int,
    godebug: str,
    rnd: int = 1,
    order: int = 1,
    host: str | None = None,
) -> pl.DataFrame:
    """The lab's CSV -> rows of the `stack` dataset (round rnd, `order` in the session); an
    empty field (metric absent) is null."""
    header = tuple(text.split("\n", 1)[0].strip().split(","))
    if header != CSV_COLUMNS:
        raise StackLabError(
            f"stack-growth CSV header is {','.join(header)!r}, expected {','.join(CSV_COLUMNS)!r}:"
            " the lab's output contract changed; update releaselab/stack/cell.py and the catalog"
        )
    schema = catalog.schema(DATASET)
    try:
        df = pl.read_csv(io.StringIO(text), schema={c: schema[c] for c in CSV_COLUMNS})
    # polars 2.1 panics (PanicException, a BaseException) on a lone '"' at the very end.
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as err:
        raise StackLabError(f"stack-growth CSV does not parse: {err}") from err
    run = {"host": host or hosts.label(), "go": go, "gomaxprocs": gomaxprocs, "round": rnd,
           "order": order, "godebug": godebug}  # fmt: skip
    keys = pl.DataFrame({k: [v] for k, v in run.items()}, schema={k: schema[k] for k in run})
    return keys.join(df, how="cross").select(list(schema))


def check_meta(meta: dict[str, Any], tc: Toolchain, *, gomaxprocs: int, godebug: str) -> None:
    """Fail unless the run used this toolchain's Go, this GOMAXPROCS and exactly this GODEBUG."""
    problems = []
    if tc.version is not None and meta.get("go_version") != f"go{tc.version}":
        problems.append(f"runtime.Version() is {meta.get('go_version')!r}, not go{tc.version}")
    if meta.get("gomaxprocs") != gomaxprocs:
        problems.append(f"GOMAXPROCS was {meta.get('gomaxprocs')}, not {gomaxprocs}")
    if meta.get("godebug", "") != godebug:
        problems.append(f"GODEBUG was {meta.get('godebug')!r}, not {godebug!r}")
    if problems:
        raise StackLabError(f"stack-growth ({tc.label}) ran differently: {'; '.join(problems)}")


def run_variant(
    tc: Toolchain,
    binary: Path,
    raw_dir: Path,
    *,
    gomaxprocs: int,
    godebug: str,
    interval: str,
    timeout: float,
    rnd: int = 1,
    order: int = 1,
    host: str | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Run the lab once with GODEBUG=godebug; keep its CSV and meta JSON in raw_dir."""
    name = variant_name(godebug)
    csv, meta_path = raw_dir / f"{name}.csv", raw_dir / f"{name}.meta.json"
    gocmd.run_binary(
        tc,
        binary,
        [f"-interval={interval}", f"-out={csv.resolve()}", f"-meta={meta_path.resolve()}"],
        cwd=raw_dir,
        timeout=timeout,
        gomaxprocs=gomaxprocs,
        godebug=godebug or None,
    )
    meta = _lab_json(meta_path, tc, binary)
    check_meta(meta, tc, gomaxprocs=gomaxprocs, godebug=godebug)
    text = csv.read_text(encoding="utf-8")
    df = parse_csv(text, go=tc.label, gomaxprocs=gomaxprocs, godebug=godebug, rnd=rnd,
                   order=order, host=host)  # fmt: skip
    return df, meta


def run_overhead(
    tc: Toolchain,
    binary: Path,
    raw_dir: Path,
    *,
    gomaxprocs: int,
    interval: str,
    reps: int,
    timeout: float,
) -> dict[str, Any]:
    """The lab's -overhead mode (reps fresh processes with the sampler off, reps with it on)."""
    path = raw_dir / OVERHEAD_FILE
    gocmd.run_binary(
        tc,
        binary,
        [f"-interval={interval}", f"-overhead={path.resolve()}", f"-overhead-reps={reps}"],
        cwd=raw_dir,
        timeout=timeout,
        gomaxprocs=gomaxprocs,
    )
    data = _lab_json(path, tc, binary)
    check_meta(data, tc, gomaxprocs=gomaxprocs, godebug="")
    return data


def _lab_json(path: Path, tc: Toolchain, binary: Path) -> dict[str, Any]:
    """A JSON object the lab wrote; anything else is a StackLabError naming binary and file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        data, why = None, str(err)
    else:
        why = f"a JSON {type(data).__name__}, not an object"
    if not isinstance(data, dict):
        raise StackLabError(
            f"{binary} ({tc.label}) did not write its JSON to {path}: {why}; rerun "
            f"`dvc repro -f build@{tc.label}` if the binary is stale"
        )
    return data
