"""DVC stage `report`: reports/report.md, reports/index.html (self-contained) and metrics.json.

    python -m stages.report

Everything comes from the datasets (and the build manifests), never from the machine running the
report, so re-running it on the same data gives byte-identical files.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from stages import log, render, report_bench, report_escape, report_sched, report_stack, store
from stages.render import Section, Table

REPORTS = Path("reports")
TITLE = "go-release-lab report"
SectionBuilder = Callable[[Path, Path], list[Section]]
# (dataset whose presence enables the sections, builder(parquet_root, figures_dir)), in order.
LAB_SECTIONS: list[tuple[str, SectionBuilder]] = [
    ("escape", report_escape.sections),
    ("bench_stats", report_bench.sections),
    ("stack", report_stack.sections),
    ("sched_waits", report_sched.sections),
]


def machine_section(meta: Sequence[dict[str, str]]) -> Section:
    """The machine(s) the datasets were measured on, from the files' metadata."""
    keys = ("host", "cpu_model", "cores", "os")
    seen = sorted({tuple(m.get(k, "") for k in keys) for m in meta})
    return Section("Machine", tables=(Table(("host", "CPU model", "cores", "OS"), tuple(seen)),))


def toolchains_section(df: pl.DataFrame) -> Section:
    rows = tuple(
        (r["label"], r["version"], r["source"], r["go_version"], (r["wheel_sha256"] or "")[:16])
        for r in df.sort("label").iter_rows(named=True)
    )
    cols = ("label", "version", "source", "go version", "wheel sha256 (prefix)")
    return Section("Toolchains", tables=(Table(cols, rows),))


def builds_section(manifests: Sequence[dict[str, Any]]) -> Section:
    rows = []
    for m in sorted(manifests, key=lambda m: str(m["label"])):
        arts = m.get("artifacts", [])
        for lab in sorted({str(a["lab"]) for a in arts}):
            mine = [a for a in arts if a["lab"] == lab]
            rows.append(
                (
                    str(m["label"]),
                    lab,
                    sum(a["kind"] == "test" for a in mine),
                    sum(a["kind"] == "main" for a in mine),
                )
            )
    return Section(
        "Builds",
        text="Binaries each toolchain built (later stages run these).",
        tables=(Table(("toolchain", "lab", "test binaries", "programs"), tuple(rows)),),
    )


def load_manifests(root: Path) -> list[dict[str, Any]]:
    out = []
    for p in sorted(root.glob("go=*/manifest.json")):
        data = json.loads(p.read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        out.append(data)
    return out


def main() -> int:
    try:
        tcs = store.scan("toolchains").collect()
        meta = store.read_metadata("toolchains")
    except store.StoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    manifests = load_manifests(store.RAW_ROOT / "build")
    sections = [machine_section(meta), toolchains_section(tcs), builds_section(manifests)]
    # Each lab contributes its sections when its dataset exists (see LAB_SECTIONS).
    for dataset, builder in LAB_SECTIONS:
        if (store.PARQUET_ROOT / dataset).is_dir():
            sections += builder(store.PARQUET_ROOT, REPORTS / "figures")
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "report.md").write_text(render.markdown(TITLE, sections), encoding="utf-8")
    (REPORTS / "index.html").write_text(render.page(TITLE, sections), encoding="utf-8")
    metrics = {
        "toolchains": tcs.height,
        "binaries": {str(m["label"]): len(m["artifacts"]) for m in manifests},
    }
    (REPORTS / "metrics.json").write_text(
        json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    log.info(f"wrote {REPORTS}/report.md, index.html, metrics.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
