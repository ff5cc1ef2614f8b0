"""DVC stage `escape`: the compiler's escape analysis of every toolchain, as Parquet.

    python -m stages.escape

Reads what `build@*` captured (data/raw/build/go=*/escape/<unit>/m2.txt and json/), parses the
`-m=2` text into one row per diagnostic, cross-checks it with the `-json` channel of the same
compile (`in_json`), names the enclosing function, and writes data/parquet/escape (by toolchain)
and data/parquet/escape_diff (what appears, disappears or changes kind between consecutive
toolchains). Unknown lines are kept as kind `other` and counted, never dropped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from stages import config, escape_data, log, store
from stages.formats.gcflags_json import parse_json
from stages.formats.gcflags_m import parse_m


def parse_unit(unit_dir: Path, *, go: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(text rows, JSON rows) of one captured compile."""
    lab = unit_dir.name
    text = escape_data.diagnostics_frame(
        parse_m((unit_dir / "m2.txt").read_text(encoding="utf-8")), go=go, lab=lab
    )
    json_rows = [
        r
        for f in sorted((unit_dir / "json").rglob("*.json"))
        for r in parse_json(f.read_text(encoding="utf-8"))
    ]
    return text, escape_data.diagnostics_frame(json_rows, go=go, lab=lab)


def collect(build_root: Path, labels: list[str]) -> tuple[pl.DataFrame, dict[str, str]]:
    """All toolchains' diagnostics, cross-checked; and label -> `go version` of what ran."""
    frames, versions = [], {}
    for label in labels:
        build = build_root / f"go={label}"
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        versions[label] = str(manifest["go_version"])
        for unit_dir in sorted(p for p in (build / "escape").iterdir() if p.is_dir()):
            text, js = parse_unit(unit_dir, go=label)
            checked = escape_data.cross_check(text, js)
            other = checked.filter(pl.col("kind") == "other").height
            missing = checked.filter(pl.col("in_json") == False).height  # noqa: E712
            extra = escape_data.json_only(text, js).height
            log.info(
                f"[{label}] {unit_dir.name}: {text.height} diagnostics ({other} kept as "
                f"`other`: unclaimed explanations or unknown lines); JSON {js.height}: "
                f"{missing} text rows not in JSON, {extra} JSON rows not in text"
            )
            frames.append(checked)
    df = pl.concat(frames) if frames else pl.DataFrame(schema=escape_data.SCHEMA)
    return escape_data.attribute_functions(df), versions


def main() -> int:
    cfg = config.load()
    labels = list(cfg.go.labels)
    try:
        df, versions = collect(store.RAW_ROOT / "build", labels)
    except FileNotFoundError as err:
        print(f"error: {err.filename} is missing; run `dvc repro build` first", file=sys.stderr)
        return 2
    params = {"go.toolchains": labels, "labs.escape.packages": list(cfg.labs.escape.packages)}
    store.write_dataset(
        df,
        store.PARQUET_ROOT / "escape",
        dataset="escape",
        params=params,
        go_versions=versions,
        host=cfg.host,
        sort_by=["go", "lab", "package", "file", "line", "col", "kind", "lineno"],
    )
    diff = escape_data.release_diff(df, labels)
    store.write_dataset(
        diff,
        store.PARQUET_ROOT / "escape_diff",
        dataset="escape_diff",
        params=params,
        host=cfg.host,
    )
    log.info(f"wrote escape ({df.height} rows) and escape_diff ({diff.height} changes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
