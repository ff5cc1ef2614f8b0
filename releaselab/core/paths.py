"""Every path the project knows, in one place.

Code, config and the Go workspace are found from this file (absolute); data and reports are
relative to the working directory, which is the repository root for every DVC stage.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
CONF_DIR = REPO / "conf"
PARAMS = REPO / "params.yaml"
WORKSPACE = REPO / "runtime-foundations"
LAB_MODULES = ("escape-clinic", "schedule-forensics", "stack-growth")
TRACECONV_SRC = WORKSPACE / "tools" / "traceconv"
PREDICTIONS = WORKSPACE / "escape-clinic" / "cases" / "predictions.json"
ALLOC_BASELINE = WORKSPACE / "baseline.txt"

DATA = Path("data")
PARQUET_ROOT = DATA / "parquet"
RAW_ROOT = DATA / "raw"
BUILD_ROOT = RAW_ROOT / "build"
REPORTS = Path("reports")
GATE_OUT = DATA / "gate" / "bench.txt"


def build_dir(label: str, root: Path = BUILD_ROOT) -> Path:
    """data/raw/build/go=<label>: what build@<label> made."""
    return root / f"go={label}"
