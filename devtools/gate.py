"""The allocation gate of `make test`: allocs/op and B/op of every lab benchmark must not rise.

    python -m devtools.gate            # run the benchmarks, print benchstat, fail on a rise
    python -m devtools.gate --update   # refresh runtime-foundations/baseline.txt (`make baseline`)

Runs `go test -run=^$ -bench=. -benchmem` on every lab module with the newest toolchain at
GOMAXPROCS=1 and a fixed iteration count, tees the output to data/gate/bench.txt, prints
`benchstat baseline.txt bench.txt`, then compares the exact units: a benchmark fails when every
new run allocates more than every baseline run did. Allocation counts do not depend on how busy
the machine is, so the gate is deterministic; time/op is printed, never gated.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from devtools import gotools
from releaselab.bench import benchfmt, units
from releaselab.core import config, gocmd, log, paths, toolchains

BASELINE = paths.ALLOC_BASELINE
OUT = paths.GATE_OUT  # relative to the repo root, where make runs
GATED_UNITS = units.ALLOC_UNITS
BENCH_ARGS = ("-run=^$", "-bench=.", "-benchmem", "-benchtime=2000x", "-count=3")
TIMEOUT = 1200.0


@dataclass(frozen=True)
class Rise:
    package: str
    name: str
    unit: str
    baseline: float
    new: float


def values(text: str) -> dict[tuple[str, str, str], list[float]]:
    """(package, benchmark, unit) -> every value of the gated units in benchmark text."""
    out: dict[tuple[str, str, str], list[float]] = {}
    for rec in benchfmt.parse(text):
        if isinstance(rec, benchfmt.Result):
            for value, unit in rec.values:
                if unit in GATED_UNITS:
                    key = (rec.config.get("pkg", ""), rec.name, unit)
                    out.setdefault(key, []).append(value)
    return out


def rises(baseline: str, new: str) -> tuple[list[Rise], list[tuple[str, str, str]]]:
    """Benchmarks whose every new run exceeds every baseline run; and those not in the baseline."""
    base, cur = values(baseline), values(new)
    bad = [Rise(*key, max(base[key]), min(vals)) for key, vals in sorted(cur.items())
           if key in base and min(vals) > max(base[key])]  # fmt: skip
    return bad, sorted(k for k in cur if k not in base)


def run_benchmarks(tc: gocmd.Toolchain) -> str:
    chunks = []
    for lab in paths.LAB_MODULES:
        log.info(f"benchmarks of {lab} (go {tc.version}, GOMAXPROCS=1)")
        res = gocmd.go(tc, ["test", *BENCH_ARGS, "./..."], cwd=paths.WORKSPACE / lab,
                       timeout=TIMEOUT, extra_env={"GOMAXPROCS": "1"})  # fmt: skip
        chunks.append(res.stdout)
    return "".join(chunks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.gate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--update", action="store_true", help="rewrite baseline.txt")
    args = parser.parse_args(argv)
    tc = toolchains.install(gotools.tools_go())
    text = run_benchmarks(tc)
    if args.update:
        BASELINE.write_text(text, encoding="utf-8")
        log.info(f"wrote {BASELINE}; commit it")
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    res = gocmd.run(
        [gotools.ensure("benchstat"), str(BASELINE.relative_to(config.REPO)), str(OUT)],
        env=gocmd.hermetic_env(tc),
        cwd=config.REPO,
        timeout=300,
        check=False,
    )
    sys.stdout.write(res.stdout + res.stderr)
    bad, new = rises(BASELINE.read_text(encoding="utf-8"), text)
    for key in new:
        log.info(f"not in the baseline (run `make baseline` to add it): {key}")
    for r in bad:
        print(
            f"ALLOCATION RISE {r.package} {r.name}: {r.unit} {r.baseline:g} -> {r.new:g}",
            file=sys.stderr,
        )
    if bad:
        print(
            f"{len(bad)} benchmarks allocate more than {BASELINE.name}; fix them, or if the "
            "rise is intended run `make baseline` and commit it",
            file=sys.stderr,
        )
        return 1
    log.info(f"allocation gate: no rise over {BASELINE.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
