"""DVC stage `report`: reports/report.md, reports/index.html (self-contained) and metrics.json.

    python -m stages.report

Everything comes from the datasets (and the build manifests), never from the machine running the
report, so re-running it on the same data gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from releaselab.build import manifest
from releaselab.core import config, entry, log, store
from releaselab.core.paths import BUILD_ROOT, PARQUET_ROOT, REPORTS
from releaselab.report import render, sections


def report(_: argparse.Namespace, cfg: config.Config) -> None:
    tcs = store.scan("toolchains").collect()
    meta = store.read_metadata("toolchains")
    manifests = [manifest.read(lb) for lb in manifest.labels_present(BUILD_ROOT)]
    out = [sections.machine_section(meta), sections.toolchains_section(tcs),
           sections.builds_section(manifests)]  # fmt: skip
    # Each lab contributes its sections when its dataset exists (see LAB_SECTIONS).
    for dataset, builder in sections.LAB_SECTIONS:
        if (PARQUET_ROOT / dataset).is_dir():
            out += builder(cfg, PARQUET_ROOT, REPORTS / "figures")
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "report.md").write_text(render.markdown(sections.TITLE, out), encoding="utf-8")
    (REPORTS / "index.html").write_text(render.page(sections.TITLE, out), encoding="utf-8")
    metrics = {
        "toolchains": tcs.height,
        "binaries": {m.label: len(m.artifacts) for m in manifests},
    }
    (REPORTS / "metrics.json").write_text(
        json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    log.info(f"wrote {REPORTS}/report.md, index.html, metrics.json")


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run(report, argv, args=entry.parser("stages.report", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
