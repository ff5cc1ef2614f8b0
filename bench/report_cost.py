"""What the report and its browser check cost: wall and CPU time of writing the report
(releaselab.report.document.build) and of opening it in headless Chromium offline
(devtools.browser.check), median of `--repeats`.

    python bench/report_cost.py [--data DIR] [--repeats 3]

--data: a directory holding data/parquet and data/raw (default: a tree made from the outputs
captured under tests/data, as tests/test_report_page.py makes it). The report is written to a
temporary directory; the configuration is the committed params.yaml.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools import browser
from releaselab.core import config
from releaselab.report import document
from tests.helpers import report_data


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Chromium runs as a child)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of `repeats` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), _cpu()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(_cpu() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, help="directory holding data/parquet and data/raw")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg = config.load()
    with tempfile.TemporaryDirectory(prefix="report-cost-") as tmp:
        work = Path(tmp)
        if args.data:
            parquet_root, build_root = args.data / "data/parquet", args.data / "data/raw/build"
        else:
            parquet_root, build_root = report_data.make(work / "captured")
        reports = work / "reports"
        wall, cpu = timed(lambda: document.build(cfg, parquet_root, build_root, reports),
                          args.repeats)  # fmt: skip
        print(f"report (report.md, index.html, figures): {wall:.2f} s wall, {cpu:.2f} s CPU")
        shot = work / "index.png"
        wall, cpu = timed(lambda: browser.check(reports / "index.html", shot), args.repeats)
        problems = browser.check(reports / "index.html", shot).problems()
        print(f"browser check (probe + screenshot + PNG decode): {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU; problems: {problems or 'none'}")  # fmt: skip
        size = (reports / "index.html").stat().st_size
        print(f"index.html: {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
