"""Read what build@* captured (escape/<unit>/m2.txt and json/ of every toolchain's build) into
one cross-checked frame of diagnostics: the `-m=2` text parsed, each row marked `in_json` when the
`-json` channel of the same compile has it, and its enclosing function named."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from releaselab.build import manifest
from releaselab.core import log
from releaselab.core.config import LABS_TARGET
from releaselab.core.paths import LAB_MODULES
from releaselab.escape import data as escape_data
from releaselab.escape.gcflags_json import parse_json
from releaselab.escape.gcflags_m import parse_m


def parse_unit(
    unit_dir: Path, *, go: str, target: str = LABS_TARGET
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(text rows, JSON rows) of one captured compile."""
    lab = unit_dir.name
    text = escape_data.diagnostics_frame(
        parse_m((unit_dir / "m2.txt").read_text(encoding="utf-8")), go=go, lab=lab, target=target
    )
    json_rows = [
        r
        for f in sorted((unit_dir / "json").rglob("*.json"))
        for r in parse_json(f.read_text(encoding="utf-8"))
    ]
    js = escape_data.diagnostics_frame(json_rows, go=go, lab=lab, target=target)
    return text, escape_data.align_main_package(text, js)


def unit_target(unit: str) -> str:
    """The target a captured compile unit belongs to: a lab module's is `labs`; a target's
    unit is named by its label (labels have no '-', lab modules do, so they never collide)."""
    return LABS_TARGET if unit in LAB_MODULES else unit


def collect(build_root: Path, labels: list[str]) -> tuple[pl.DataFrame, dict[str, str]]:
    """All toolchains' diagnostics, cross-checked; and label -> `go version` of what ran."""
    frames, versions = [], {}
    for label in labels:
        build = build_root / f"go={label}"
        versions[label] = manifest.read(label, build_root).go_version
        units = sorted(p for p in (build / "escape").iterdir() if p.is_dir()) if (
            build / "escape").is_dir() else []  # fmt: skip
        for unit_dir in units:
            text, js = parse_unit(unit_dir, go=label, target=unit_target(unit_dir.name))
            checked = escape_data.cross_check(text, js)
            agree = escape_data.agreement(text, js)
            a = agree.row(0, named=True) if agree.height else dict.fromkeys(agree.columns, 0)
            log.info(
                f"[{label}] {unit_dir.name}: {text.height} diagnostics ({a['other']} kept as "
                f"`other`: lines of no known form); JSON {js.height}: {a['found']} of "
                f"{a['json_diagnostics']} escape/leak/inlining diagnostics in the text, "
                f"{a['not_in_json']} of {a['text_verdicts']} text verdicts not in JSON"
            )
            frames.append(checked)
    df = pl.concat(frames) if frames else pl.DataFrame(schema=escape_data.SCHEMA)
    return escape_data.attribute_functions(df), versions
