"""The false-positive rate of the sched comparisons, measured: an A/A session repeated N times.

One repetition is the sched stage's own session (releaselab.sched.cell.run_session) with the
baseline toolchain listed twice, under its label and under `aa_<label with _>` (the same Go,
the same binary; `-S '+go.toolchains.aa_1_27_3.version=1.27.3'` does the same for dvc exp run),
every cell run `--runs` times in interleaved rounds shuffled from a seed of its own (seed0 + i);
then the report's comparisons (releaselab.sched.report.comparisons: each run's p50 and p99 per
workload and GOMAXPROCS, Mann-Whitney run against run, Holm over each table). Every comparison
is between identical setups, so each significant one is a false positive.

    python bench/sched_aa.py [--reps 10] [--runs 10] [--duration 50ms] [--label 1.27.3]
        [--gomaxprocs 1,2] [--seed0 1] [--json FILE]

Prints one line per repetition and the totals: comparisons, significant before correction
(alpha 0.05) with the rate's 95% Clopper-Pearson and Wilson intervals (comparisons of one
repetition share their runs, so the binomial interval is optimistic), significant after Holm,
and the repetitions with any Holm-significant comparison (the family-wise rate). Uses the
binaries `dvc repro build@<label>` made in data/raw/build (run it first); writes only to a
temporary directory. `--duration` shortens each run (default 50 ms per workload, half the
pipeline's) so that a repetition takes well under a minute on two cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl
from scipy import stats as sps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from releaselab.core import config
from releaselab.core.paths import BUILD_ROOT
from releaselab.sched import cell
from releaselab.sched import report as sched_report


def aa_label(label: str) -> str:
    """The second label of the A/A pair. Hydra's override grammar refuses a key such as
    `1.27.3_aa` (a dotted number, then more), so: aa_1_27_3."""
    return "aa_" + label.replace(".", "_")


def repetition(
    label: str, seed: int, args: argparse.Namespace, work: Path
) -> tuple[pl.DataFrame, float]:
    """One A/A session; (the comparisons of both tables, seconds)."""
    aa = aa_label(label)
    overrides = [
        "go=one",
        f"+go.toolchains.{aa}.version={label}",
        f"sweep.gomaxprocs=[{args.gomaxprocs}]",
        f"labs.sched.runs={args.runs}",
        f"labs.sched.seed={seed}",
        f"labs.sched.duration={args.duration}",
    ]
    cfg = config.compose(overrides)
    build = work / "build"
    build.mkdir(exist_ok=True)
    for lab in (label, aa):  # the same build under both labels: one binary, two names
        link = build / f"go={lab}"
        if not link.exists():
            link.symlink_to((BUILD_ROOT / f"go={label}").resolve())
    start = time.monotonic()
    out = work / f"rep-{seed}"
    runs = cell.run_session(
        cfg, build_root=build, raw_root=out / "raw" / "sched", parquet_root=out / "parquet"
    )
    shutil.rmtree(out)
    tables = sched_report.comparisons(runs, cfg.baseline)
    both = pl.concat(
        [t.with_columns(what=pl.lit(w)) for w, t in tables.items() if t.height],
        how="diagonal_relaxed",
    )
    return both, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--runs", type=int, default=10, help="runs per cell (labs.sched.runs)")
    p.add_argument("--duration", default="50ms", help="labs.sched.duration of each run")
    p.add_argument("--label", default="1.27.3", help="go=one's toolchain, run under two labels")
    p.add_argument("--gomaxprocs", default="1,2")
    p.add_argument("--seed0", type=int, default=1)
    p.add_argument("--json", type=Path, help="also write the per-repetition rows here")
    args = p.parse_args(argv)
    if not (BUILD_ROOT / f"go={args.label}" / cell.BINARY).is_file():
        sys.stderr.write(f"error: no build of {args.label}; run `dvc repro build@{args.label}`\n")
        return 2
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sched-aa-") as tmp:
        for i in range(args.reps):
            seed = args.seed0 + i
            t, secs = repetition(args.label, seed, args, Path(tmp))
            row = {
                "rep": i + 1,
                "seed": seed,
                "comparisons": t.height,
                "raw": int(t["raw_significant"].sum()),
                "holm": int(t["significant"].sum()),
                "min_p": float(t["p_value"].min()),  # type: ignore[arg-type]
                "seconds": round(secs, 1),
            }
            rows.append(row)
            print(
                f"rep {row['rep']:2d} seed {seed}: {row['raw']}/{row['comparisons']} significant "
                f"before correction, {row['holm']} after Holm (smallest p {row['min_p']:.3g}; "
                f"{secs:.0f}s)",
                flush=True,
            )
    n = sum(r["comparisons"] for r in rows)
    raw = sum(r["raw"] for r in rows)
    holm = sum(r["holm"] for r in rows)
    cp = sps.binomtest(raw, n).proportion_ci(0.95, method="exact")
    wilson = sps.binomtest(raw, n).proportion_ci(0.95, method="wilson")
    fwer = sum(1 for r in rows if r["holm"])
    print(
        f"\nA/A {args.label} vs {aa_label(args.label)}: {len(rows)} repetitions x {args.runs} "
        f"runs per cell ({args.duration} per workload, GOMAXPROCS {args.gomaxprocs})\n"
        f"| repetitions | runs/cell | comparisons | significant raw | rate | 95% CI "
        f"(Clopper-Pearson) | 95% CI (Wilson) | after Holm | reps with any after Holm |\n"
        f"| {len(rows)} | {args.runs} | {n} | {raw} | {raw / n:.2%} | "
        f"{cp.low:.2%}-{cp.high:.2%} | {wilson.low:.2%}-{wilson.high:.2%} | {holm} | "
        f"{fwer}/{len(rows)} |"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
