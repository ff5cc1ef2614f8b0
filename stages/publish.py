"""Publish data/parquet to an S3 prefix as plain hive-partitioned Parquet, for analysts.

    python -m stages.publish s3://BUCKET/PREFIX [--endpoint-url URL] [--dry-run] [--keep-stale]

Mirrors every file under data/parquet to the same path under the prefix
(s3://BUCKET/PREFIX/bench/go=1.27.3/gomaxprocs=2/part-0.parquet), which Polars and DuckDB read
with hive partitioning (README, "Sharing results"). Uploads only what changed (size and ETag),
then deletes objects under the prefix that are no local file (unless --keep-stale), then writes
_publish.json (every file and the git commit). Credentials: the standard AWS chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws). Endpoint: --endpoint-url, else
AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS S3 itself (MinIO: http://HOST:9000).

Not a DVC stage: `dvc repro` computes results and stays offline; publishing them to a shared
bucket is an explicit act, like `dvc push`. Bad input, missing credentials or an unreachable
endpoint give `error:` and `fix:` lines and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from releaselab.core import entry, log
from releaselab.core.paths import PARQUET_ROOT
from releaselab.share import publish as pub


def run(ns: argparse.Namespace) -> int:
    summary = pub.publish(
        ns.root,
        ns.url,
        endpoint=ns.endpoint_url,
        jobs=ns.jobs,
        dry_run=ns.dry_run,
        keep_stale=ns.keep_stale,
        say=log.info,
    )
    print(summary.line())
    return 0


def parser() -> argparse.ArgumentParser:
    p = entry.parser("stages.publish", __doc__)
    p.add_argument("url", help="s3://BUCKET/PREFIX (the prefix belongs to the mirror)")
    p.add_argument("--endpoint-url", help="an S3-compatible endpoint, e.g. http://minio:9000")
    p.add_argument("--root", type=Path, default=PARQUET_ROOT, help="what to mirror (data/parquet)")
    p.add_argument("--jobs", type=int, default=8, help="uploads at a time (default 8)")
    p.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    p.add_argument("--keep-stale", action="store_true",
                   help="keep objects under the prefix that are no local file")  # fmt: skip
    return p


def main(argv: Sequence[str] | None = None) -> int:
    return entry.run_tool(run, argv, args=parser())


if __name__ == "__main__":
    raise SystemExit(main())
