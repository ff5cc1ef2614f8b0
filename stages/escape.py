"""DVC stage `escape`: the compiler's escape analysis of every toolchain, as Parquet.

    python -m stages.escape

Reads what `build@*` captured (data/raw/build/go=*/escape/<unit>/m2.txt and json/: the lab
modules and every target), parses the `-m=2` text into one row per diagnostic, cross-checks it
with the `-json` channel of the same compile (`in_json`), names the enclosing function, and
writes data/parquet/escape (by toolchain) and data/parquet/escape_diff (what appears, disappears
or changes kind between consecutive toolchains, per target over the toolchains that built it).
Unknown lines are kept as kind `other` and counted, never dropped.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from releaselab.build import manifest
from releaselab.core import config, entry, log, store
from releaselab.core.paths import BUILD_ROOT, PARQUET_ROOT
from releaselab.escape import collect
from releaselab.escape import data as escape_data


def escape(_: argparse.Namespace, cfg: config.Config) -> None:
    labels = list(cfg.go.labels)
    df, versions = collect.collect(BUILD_ROOT, labels)
    built = manifest.built_by(manifest.read_all(labels))
    params = {"go.toolchains": labels, "targets": sorted(built)}
    store.write_dataset(df, PARQUET_ROOT / "escape", dataset="escape", params=params,
                        go_versions=versions, host=cfg.host)  # fmt: skip
    diff = escape_data.release_diff_by_target(df, labels, built)
    store.write_dataset(diff, PARQUET_ROOT / "escape_diff", dataset="escape_diff",
                        params=params, host=cfg.host)  # fmt: skip
    log.info(f"wrote escape ({df.height} rows) and escape_diff ({diff.height} changes)")


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run(escape, argv, args=entry.parser("stages.escape", __doc__))


if __name__ == "__main__":
    raise SystemExit(main())
