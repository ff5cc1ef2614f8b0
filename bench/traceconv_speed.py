"""Time tools/traceconv against `go tool trace -d=parsed` of the same toolchain on one large trace.

Builds schedule-forensics with Go 1.27.3, runs it at GOMAXPROCS=2 with -trace until the trace has
at least MIN_EVENTS events (doubling -duration), then times each reader REPEATS times on that
file: traceconv writing its CSV tables to disk, `go tool trace -d=parsed` printing to /dev/null.
Target: traceconv no slower. Every command runs through releaselab.core.gocmd.

    python bench/traceconv_speed.py [--duration 100ms] [--repeats 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from releaselab.build import binaries as build
from releaselab.core import gocmd, gotools, paths, toolchains
from releaselab.sched import cell as sched

GO = "1.27.3"
MIN_EVENTS = 1_000_000
TIMEOUT = 900.0


def make_trace(tc: gocmd.Toolchain, work: Path, duration_ms: int) -> tuple[Path, int]:
    """A lab trace of >= MIN_EVENTS events (and its event count)."""
    binary = (work / "schedule-forensics").resolve()
    gocmd.go(
        tc, ["build", *build.BUILD_FLAGS, "-o", str(binary), "."],
        cwd=paths.WORKSPACE / sched.LAB, timeout=TIMEOUT,
    )  # fmt: skip
    trace = (work / "big.trace").resolve()
    while True:
        gocmd.run_binary(
            tc, binary, [f"-duration={duration_ms}ms", f"-trace={trace}"],
            cwd=work, timeout=TIMEOUT, gomaxprocs=2,
        )  # fmt: skip
        events = int(sched.convert(trace, work / "conv")["events"])
        print(f"trace: -duration={duration_ms}ms -> {events:,} events, "
              f"{trace.stat().st_size / 1e6:.1f} MB")  # fmt: skip
        if events >= MIN_EVENTS:
            return trace, events
        duration_ms *= 2


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        default="100ms",
        help="initial -duration (ms), doubled until the trace is big enough",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the trace and tables in this directory")
    args = parser.parse_args(argv)
    tc = toolchains.install(GO)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        trace, events = make_trace(tc, work, int(args.duration.removesuffix("ms")))
        conv = work / "conv"
        ours = timed(lambda: sched.convert(trace, conv, timeout=TIMEOUT), args.repeats)
        devnull = Path(os.devnull)
        theirs = timed(
            lambda: gocmd.go(
                tc, ["tool", "trace", "-d=parsed", str(trace)], cwd=work, timeout=TIMEOUT,
                stdout_path=devnull,
            ),
            args.repeats,
        )  # fmt: skip
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"traceconv {gotools.source_key(gotools.TRACECONV_SRC)} (Go {gotools.tools_go()}): "
          f"median {a:.2f} s of {[round(x, 2) for x in ours]}")  # fmt: skip
    print(f"go {GO} tool trace -d=parsed: median {b:.2f} s of {[round(x, 2) for x in theirs]}")
    print(f"{events:,} events: traceconv is {b / a:.1f}x as fast ({'ok' if a <= b else 'SLOWER'})")
    return 0 if a <= b else 1


if __name__ == "__main__":
    raise SystemExit(main())
