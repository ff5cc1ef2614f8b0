"""Publish data/parquet as plain hive-partitioned Parquet under an S3 prefix, for analysts.

A DVC remote keeps files by content hash (`files/md5/ab/cdef...`): exact copies for `dvc pull`,
nothing a query engine can glob. The mirror keeps each file's path under data/parquet
(`bench/go=1.27.3/gomaxprocs=2/part-0.parquet`), so Polars, DuckDB, Spark or Athena read
`s3://BUCKET/PREFIX/<dataset>/**/*.parquet` with hive partitioning, as they read data/parquet.

- Idempotent: an object whose size and ETag equal the local file's is not uploaded again. S3's
  ETag of a one-PUT upload is the MD5 of the bytes; of a multipart upload, the MD5 of its parts'
  MD5s and `-<parts>`. Uploads here use one fixed part size, so a local file's ETag is known
  before uploading (local_etag). A bucket that encrypts with SSE-KMS gives other ETags: then
  every run uploads every file again, which is slow but still correct.
- The prefix belongs to the mirror: objects under it that are no local file are deleted, after
  the uploads (a dataset present before and after never goes missing mid-run), unless
  keep_stale. A URL without a prefix (a whole bucket) is refused for that reason.
- `_publish.json` at the prefix, written last, lists every file (path, size, ETag) and the git
  commit of the checkout that published. Readers skip it: it is no `.parquet` file, and
  `_`-names are hidden to Arrow's dataset discovery.

A reader that lists the prefix while a publish runs can see new files beside stale ones (S3 has
no multi-object transaction); the manifest says what one complete publish wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore import exceptions as boto_errors
from botocore.config import Config as BotoConfig

from releaselab.core import staging
from releaselab.core.errors import InputMissing, LabError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

MANIFEST = "_publish.json"
# Multipart threshold and part size in one: a file of at least PART_SIZE bytes goes up in parts
# of PART_SIZE (s3transfer changes the size only past 10,000 parts: files over 640 GiB).
PART_SIZE = 64 * 2**20
_READ_BLOCK = 2**20
CONTENT_TYPES = {".parquet": "application/vnd.apache.parquet", ".json": "application/json"}
# connect/read timeouts (s) and attempts of every S3 request: an unreachable endpoint fails in
# seconds, a slow one is retried
CLIENT_CONFIG = BotoConfig(
    connect_timeout=10, read_timeout=60, retries={"mode": "standard", "max_attempts": 3}
)
GIT_TIMEOUT = 30.0
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
# S3 bucket naming rules (MinIO's are the same): 3-63 of a-z 0-9 . -, a letter or digit at
# each end
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
           "InvalidToken", "AllAccessDisabled"}  # fmt: skip


class PublishError(LabError):
    """S3 refused or failed a request."""

    fix = "read the S3 error above; `--dry-run` lists what a publish would change"


class BadTarget(PublishError):
    fix = "name an S3 prefix: s3://BUCKET/PREFIX, e.g. s3://lab-results/go-release-lab/parquet"


class BadEndpoint(PublishError):
    fix = "pass --endpoint-url http(s)://HOST[:PORT] (MinIO: http://HOST:9000), or unset it for AWS"


class NoCredentials(PublishError):
    fix = (
        "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE with "
        "~/.aws/credentials): the credentials `dvc push` to an S3 remote uses"
    )


class Unreachable(PublishError):
    fix = (
        "check --endpoint-url / AWS_ENDPOINT_URL (MinIO: http://HOST:9000) and that the server "
        "runs and is reachable from here"
    )


class NoBucket(PublishError):
    fix = "create the bucket first (AWS: `aws s3 mb s3://BUCKET`; MinIO: `mc mb ALIAS/BUCKET`)"


class Denied(PublishError):
    fix = (
        "use credentials allowed s3:ListBucket on the bucket and s3:PutObject and "
        "s3:DeleteObject under the prefix"
    )


class NothingToPublish(InputMissing):
    fix = "run `dvc pull` (results pushed to the DVC remote) or `dvc repro`, then publish"


class WriterAtWork(PublishError):
    fix = "wait for the running stage to finish (or stop it), then publish again"


@dataclass(frozen=True)
class Target:
    bucket: str
    prefix: str  # without a leading or trailing "/"; never empty

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}"


@dataclass(frozen=True)
class LocalFile:
    rel: str  # "/"-separated path under the root: the key under the prefix
    path: Path
    size: int
    etag: str  # the ETag S3 gives this file once upload() has put it


@dataclass(frozen=True)
class RemoteObject:
    rel: str
    size: int
    etag: str


@dataclass(frozen=True)
class Plan:
    upload: tuple[LocalFile, ...]
    unchanged: tuple[LocalFile, ...]
    delete: tuple[str, ...]  # stale objects (paths under the prefix) to delete
    kept: tuple[str, ...]  # stale objects left in place (keep_stale)


@dataclass(frozen=True)
class Summary:
    url: str
    dry_run: bool
    files: int
    bytes: int
    uploaded: int
    uploaded_bytes: int
    unchanged: int
    deleted: int
    kept: int
    manifest_written: bool
    seconds: float

    def line(self) -> str:
        verb = ("would upload", "would delete") if self.dry_run else ("uploaded", "deleted")
        kept = f", {self.kept} stale kept" if self.kept else ""
        return (
            f"{'dry run: ' if self.dry_run else ''}{self.url}: {self.files} files "
            f"({human(self.bytes)}); {verb[0]} {self.uploaded} ({human(self.uploaded_bytes)}), "
            f"{self.unchanged} unchanged, {verb[1]} {self.deleted}{kept} in {self.seconds:.1f}s"
        )


def human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


# --- pure pieces ---------------------------------------------------------------------------


def parse_target(url: str) -> Target:
    """s3://BUCKET/PREFIX -> Target; anything else is a BadTarget naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise BadTarget(f"{url!r} is not an s3:// URL")
    if not _BUCKET.match(parts.netloc):
        raise BadTarget(
            f"{url!r}: {parts.netloc!r} is no valid bucket name (3-63 of a-z 0-9 . -, "
            "starting and ending with a letter or digit)"
        )
    if parts.query or parts.fragment:
        raise BadTarget(f"{url!r}: an S3 prefix has no ?query or #fragment")
    prefix = parts.path.strip("/")
    if not prefix:
        raise BadTarget(
            f"{url!r} names a whole bucket: publish deletes what it did not write under its "
            "prefix, so it needs a prefix of its own"
        )
    if any(seg in ("", ".", "..") for seg in prefix.split("/")):
        raise BadTarget(f"{url!r}: the prefix has an empty, `.` or `..` segment")
    return Target(parts.netloc, prefix)


def check_endpoint(url: str | None) -> str | None:
    """An http(s)://HOST[:PORT] endpoint, or None (AWS S3's own)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadEndpoint(f"endpoint {url!r} is not an http(s)://HOST[:PORT] URL")
    return url


def env_endpoint(env: Mapping[str, str] = os.environ) -> str | None:
    """The endpoint boto3 would take from the environment (the S3-specific variable first)."""
    return env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None


def local_etag(path: Path, part_size: int = PART_SIZE) -> str:
    """The ETag S3 gives `path` uploaded with parts of part_size (multipart from part_size on):
    the MD5 of a smaller file; else the MD5 of its parts' MD5s, `-` and the number of parts."""
    size = path.stat().st_size
    digests: list[bytes] = []
    with path.open("rb") as f:
        for _ in range(max(1, -(-size // part_size))):  # ceil(size / part_size), 1 if empty
            md5, left = hashlib.md5(usedforsecurity=False), part_size
            while left and (block := f.read(min(_READ_BLOCK, left))):
                md5.update(block)
                left -= len(block)
            digests.append(md5.digest())
    if size < part_size:
        return digests[0].hex()
    return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


def plan(
    local: Sequence[LocalFile], remote: Mapping[str, RemoteObject], *, keep_stale: bool = False
) -> Plan:
    """What to upload (new or changed: size or ETag differs), leave, and delete (under the
    prefix, no local file; never the manifest, which publish rewrites itself)."""
    upload: list[LocalFile] = []
    unchanged: list[LocalFile] = []
    for f in local:
        r = remote.get(f.rel)
        same = r is not None and r.size == f.size and r.etag == f.etag
        (unchanged if same else upload).append(f)
    names = {f.rel for f in local} | {MANIFEST}
    stale = tuple(sorted(rel for rel in remote if rel not in names))
    return Plan(tuple(upload), tuple(unchanged), () if keep_stale else stale,
                stale if keep_stale else ())  # fmt: skip


def manifest(local: Sequence[LocalFile], source: Mapping[str, object]) -> bytes:
    """_publish.json: every file with its size and ETag, and where the data came from. Stable
    bytes (no time in it): an unchanged publish leaves it unchanged too."""
    doc = {
        "source": dict(source),
        "files": [{"path": f.rel, "size": f.size, "etag": f.etag} for f in local],
    }
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


# --- the local side ------------------------------------------------------------------------


def local_files(root: Path, part_size: int = PART_SIZE, jobs: int = 8) -> list[LocalFile]:
    """Every file under root, sorted by path, with its size and ETag (hashed `jobs` files at a
    time: hashlib releases the GIL). Leftovers of a killed writer are cleaned first
    (staging.recover); those of a running one stop the publish."""
    if not root.is_dir():
        raise NothingToPublish(f"{root} does not exist: there is nothing to publish")
    staging.recover(root)
    found = sorted(p for p in root.rglob("*") if p.is_file())
    busy = [p for p in found if any(part.startswith(".") for part in p.relative_to(root).parts)]
    if busy:
        raise WriterAtWork(f"{busy[0].parent} is being written (a stage is running)")
    if not found:
        raise NothingToPublish(f"{root} holds no file: there is nothing to publish")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        etags = list(pool.map(lambda p: local_etag(p, part_size), found))
    return [
        LocalFile(p.relative_to(root).as_posix(), p, p.stat().st_size, etag)
        for p, etag in zip(found, etags, strict=True)
    ]


def source_of(cwd: Path) -> dict[str, object]:
    """The git commit of the checkout the data is in, and whether tracked files (dvc.lock among
    them) differ from it; None for both outside a git checkout."""
    git = ["git", "-C", str(cwd)]
    try:
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT, check=False)  # fmt: skip
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=GIT_TIMEOUT,
                                check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


# --- the S3 side ---------------------------------------------------------------------------


@contextmanager
def s3_errors(target: Target, endpoint: str | None) -> Iterator[None]:
    """botocore's exceptions as the project's errors, each with what to do."""
    where = f"{target.url} (endpoint {endpoint or 'AWS S3'})"
    try:
        yield
    except boto_errors.NoCredentialsError:
        raise NoCredentials(f"no S3 credentials for {where}") from None
    except (boto_errors.ConnectionError, boto_errors.HTTPClientError) as err:
        raise Unreachable(f"cannot reach {where}: {err}") from None
    except boto_errors.ClientError as err:
        error = err.response.get("Error", {})
        code, text = error.get("Code", ""), error.get("Message", "")
        if code == "NoSuchBucket":
            raise NoBucket(f"bucket {target.bucket!r} does not exist at {where}") from None
        if code in _DENIED:
            raise Denied(f"{where} refused the request: {code} {text}".rstrip()) from None
        raise PublishError(f"{where}: {code} {text}".rstrip()) from None
    except S3UploadFailedError as err:  # s3transfer wraps the ClientError in text only
        raise PublishError(f"{where}: {err}") from None


def client(endpoint: str | None) -> S3Client:
    """An S3 client with the standard credential chain; NoCredentials when it finds none."""
    session = boto3.session.Session()
    if session.get_credentials() is None:
        raise NoCredentials("no S3 credentials found (environment, AWS_PROFILE, ~/.aws)")
    return session.client("s3", endpoint_url=endpoint, config=CLIENT_CONFIG)


def list_remote(s3: S3Client, target: Target) -> dict[str, RemoteObject]:
    """Every object under the prefix, by its path under the prefix."""
    out: dict[str, RemoteObject] = {}
    start = len(target.prefix) + 1
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=target.bucket, Prefix=target.prefix + "/"
    )
    for page in pages:
        for obj in page.get("Contents", []):
            rel = obj["Key"][start:]
            out[rel] = RemoteObject(rel, obj["Size"], obj["ETag"].strip('"'))
    return out


def _content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")


def upload(s3: S3Client, target: Target, f: LocalFile, part_size: int = PART_SIZE) -> None:
    transfer = TransferConfig(
        multipart_threshold=part_size, multipart_chunksize=part_size, use_threads=False
    )
    s3.upload_file(str(f.path), target.bucket, target.key(f.rel),
                   ExtraArgs={"ContentType": _content_type(f.rel)}, Config=transfer)  # fmt: skip


def delete(s3: S3Client, target: Target, rels: Sequence[str]) -> None:
    for i in range(0, len(rels), DELETE_BATCH):
        batch: list[ObjectIdentifierTypeDef] = [
            {"Key": target.key(rel)} for rel in rels[i : i + DELETE_BATCH]
        ]
        res = s3.delete_objects(Bucket=target.bucket, Delete={"Objects": batch, "Quiet": True})
        if errors := res.get("Errors"):
            first = errors[0]
            raise PublishError(
                f"{target.url}: {len(errors)} objects not deleted, first {first.get('Key')}: "
                f"{first.get('Code')} {first.get('Message')}"
            )


def publish(
    root: Path,
    url: str,
    *,
    endpoint: str | None = None,
    jobs: int = 8,
    dry_run: bool = False,
    keep_stale: bool = False,
    part_size: int = PART_SIZE,
    say: Callable[[str], None] = print,
) -> Summary:
    """Mirror root (data/parquet) to url (s3://BUCKET/PREFIX); endpoint None: AWS_ENDPOINT_URL_S3
    or AWS_ENDPOINT_URL if set, else AWS S3 itself."""
    t0 = time.monotonic()
    target = parse_target(url)
    endpoint = check_endpoint(endpoint or env_endpoint())
    local = local_files(root, part_size, jobs)
    s3 = client(endpoint)
    with s3_errors(target, endpoint):
        remote = list_remote(s3, target)
        todo = plan(local, remote, keep_stale=keep_stale)
        body = manifest(local, source_of(root))
        old = remote.get(MANIFEST)
        write_manifest = (
            old is None or old.etag != hashlib.md5(body, usedforsecurity=False).hexdigest()
        )
        say(f"{target.url}: {len(local)} local files, {len(remote)} objects under the prefix")
        if dry_run:
            for f in todo.upload:
                say(f"would upload {f.rel} ({human(f.size)})")
            for rel in todo.delete:
                say(f"would delete {rel}")
        else:
            _upload_all(s3, target, todo.upload, jobs=jobs, part_size=part_size, say=say)
            if todo.delete:
                delete(s3, target, todo.delete)
            for rel in todo.delete:
                say(f"deleted {rel}")
            if write_manifest:
                s3.put_object(Bucket=target.bucket, Key=target.key(MANIFEST), Body=body,
                              ContentType=_content_type(MANIFEST))  # fmt: skip
    return Summary(
        url=target.url,
        dry_run=dry_run,
        files=len(local),
        bytes=sum(f.size for f in local),
        uploaded=len(todo.upload),
        uploaded_bytes=sum(f.size for f in todo.upload),
        unchanged=len(todo.unchanged),
        deleted=len(todo.delete),
        kept=len(todo.kept),
        manifest_written=write_manifest and not dry_run,
        seconds=time.monotonic() - t0,
    )


def _upload_all(
    s3: S3Client,
    target: Target,
    files: Sequence[LocalFile],
    *,
    jobs: int,
    part_size: int,
    say: Callable[[str], None],
) -> None:
    """Upload files `jobs` at a time (boto3 clients are thread-safe); the first failure cancels
    what has not started and is raised."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(upload, s3, target, f, part_size): f for f in files}
        try:
            for done, fut in enumerate(as_completed(futures), 1):
                fut.result()
                f = futures[fut]
                say(f"[{done}/{len(files)}] uploaded {f.rel} ({human(f.size)})")
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
