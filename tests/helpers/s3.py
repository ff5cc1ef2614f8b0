"""A local S3 endpoint for tests: moto's server (`moto[server]`, a dev dependency) on a free
localhost port, with fake credentials, so that no test reaches a real bucket or the network.

environ() is what a client needs to use it: AWS_ENDPOINT_URL (boto3, s3fs, Polars and dvc-s3
all read it), fake keys, and every other AWS setting of the caller cleared, so that neither a
developer's ~/.aws nor EC2's instance metadata service (AWS_EC2_METADATA_DISABLED) is asked.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_NO_FILE = "/nonexistent/go-release-lab-test-aws"
# What a client of the fake endpoint sees besides it: a region, no config file, no IMDS.
_BASE = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": _NO_FILE,
    "AWS_SHARED_CREDENTIALS_FILE": _NO_FILE,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_BUCKETS = itertools.count(1)


def without_aws(env: Mapping[str, str]) -> dict[str, str]:
    """env with every AWS_* variable removed (credentials, profile, endpoints, tokens)."""
    return {k: v for k, v in env.items() if not k.startswith("AWS_")}


@dataclass(frozen=True)
class S3Server:
    url: str  # http://127.0.0.1:PORT

    def environ(self, base: Mapping[str, str] = os.environ, *, keys: bool = True) -> dict[str, str]:
        """base pointed at this server (keys=False: no credentials at all)."""
        return {**without_aws(base), **_BASE, **(FAKE_KEYS if keys else {}),
                "AWS_ENDPOINT_URL": self.url}  # fmt: skip

    def client(self) -> S3Client:
        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=FAKE_KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_KEYS["AWS_SECRET_ACCESS_KEY"],
        )  # fmt: skip

    def new_bucket(self, stem: str = "lab") -> str:
        """A new empty bucket (a fresh name on every call: tests share the server)."""
        name = f"{stem}-{next(_BUCKETS)}"
        self.client().create_bucket(Bucket=name)
        return name

    def ensure_bucket(self, name: str) -> str:
        """The bucket `name`, made if this server has none of that name yet."""
        s3 = self.client()
        if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """The keys under prefix, sorted."""
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every object under prefix, key -> bytes."""
        s3 = self.client()
        out: dict[str, bytes] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                out[obj["Key"]] = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        return out


@contextmanager
def serve() -> Iterator[S3Server]:
    """moto's S3 on 127.0.0.1 and a port the kernel picks, for the duration of the block."""
    # werkzeug logs every request at INFO, which pytest would keep for every failure
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
