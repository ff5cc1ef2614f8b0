"""stages.publish: data/parquet mirrored to an S3 prefix as plain hive Parquet, against a real S3
API (moto's server on localhost, tests/helpers/s3.py).

The datasets are the project's own: `bench` and `bench_stats` of a real bench stage run
(tests/data/bench/pipeline/bench.txt) through the stage's parser, statistics and the one writer.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
import s3fs
from polars.testing import assert_frame_equal

from releaselab.bench import session, stats, units
from releaselab.core import catalog, store
from releaselab.share import publish as pub
from stages import publish as publish_stage
from tests.helpers.s3 import S3Server

RAW = Path(__file__).parent / "data/bench/pipeline/bench.txt"  # a real run of the bench stage
DATASETS = ("bench", "bench_stats")
PREFIX = "go-release-lab/parquet"
MIB = 2**20
SMALL_PART = 5 * MIB  # S3's smallest part: multipart ETags with small files


@pytest.fixture(scope="module")
def parquet_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/parquet holding bench and bench_stats as the bench stage writes them (read only:
    a test that changes files works on a copy, see `root`)."""
    root = tmp_path_factory.mktemp("published") / "parquet"
    df = session.parse(RAW.read_text(encoding="utf-8"), str(RAW))
    baseline = min(df["go"].unique().to_list())
    st = stats.compare(df, baseline, keys=session.STATS_KEYS, exact_units=units.ALLOC_UNITS)
    for name, frame in (("bench", df), ("bench_stats", st)):
        store.write_dataset(frame, root / name, dataset=name, params={})
    return root


@pytest.fixture
def root(parquet_root: Path, tmp_path: Path) -> Path:
    """A copy of parquet_root this test may change."""
    return Path(shutil.copytree(parquet_root, tmp_path / "parquet"))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _publish(
    root: Path, url: str, *, dry_run: bool = False, keep_stale: bool = False
) -> pub.Summary:
    return pub.publish(root, url, dry_run=dry_run, keep_stale=keep_stale, say=lambda _: None)


# --- the target URL ------------------------------------------------------------------------


def test_target_is_bucket_and_prefix_without_slashes() -> None:
    assert pub.parse_target("s3://lab-results/go-release-lab/parquet/") == pub.Target(
        "lab-results", "go-release-lab/parquet"
    )


@pytest.mark.parametrize(
    "url",
    ["lab-results/parquet", "https://lab-results/parquet", "s3://", "s3://lab-results",
     "s3://lab-results/", "s3://Lab_Results/parquet", "s3://lab-results/a//b",
     "s3://lab-results/a/../b", "s3://lab-results/p?x=1"],
)  # fmt: skip
def test_a_url_that_is_no_s3_prefix_is_refused_by_name(url: str) -> None:
    with pytest.raises(pub.BadTarget, match="'" + url.replace("?", r"\?") + "'"):
        pub.parse_target(url)


@pytest.mark.parametrize("endpoint", ["minio:9000", "ftp://minio:9000", "http://"])
def test_an_endpoint_that_is_no_http_url_is_refused(endpoint: str) -> None:
    with pytest.raises(pub.BadEndpoint, match=endpoint):
        pub.check_endpoint(endpoint)


# --- ETags: what makes a second publish upload nothing -------------------------------------


@pytest.mark.parametrize(
    "size", [0, 1000, SMALL_PART - 1, SMALL_PART, 2 * SMALL_PART + 123],
    ids=["empty", "small", "below-part", "one-part", "three-parts"],
)  # fmt: skip
def test_local_etag_is_the_etag_s3_gives_the_upload(
    size: int, s3_env: S3Server, tmp_path: Path
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(size))
    target = pub.Target(s3_env.new_bucket(), "p")
    f = pub.LocalFile("f.bin", path, size, pub.local_etag(path, SMALL_PART))
    pub.upload(pub.client(None), target, f, SMALL_PART)
    head = s3_env.client().head_object(Bucket=target.bucket, Key=target.key(f.rel))
    assert head["ETag"].strip('"') == f.etag
    assert head["ContentLength"] == size


# --- the plan (pure) -----------------------------------------------------------------------


def _local(rel: str, size: int = 1, etag: str = "e") -> pub.LocalFile:
    return pub.LocalFile(rel, Path(rel), size, etag)


def _remote(rel: str, size: int = 1, etag: str = "e") -> tuple[str, pub.RemoteObject]:
    return rel, pub.RemoteObject(rel, size, etag)


def test_plan_uploads_what_is_new_or_differs_in_size_or_etag() -> None:
    local = [_local("new"), _local("same"), _local("resized", 2), _local("edited", etag="f")]
    remote = dict([_remote("same"), _remote("resized"), _remote("edited")])
    todo = pub.plan(local, remote)
    assert [f.rel for f in todo.upload] == ["new", "resized", "edited"]
    assert [f.rel for f in todo.unchanged] == ["same"]


def test_plan_deletes_objects_that_are_no_local_file_but_never_the_manifest() -> None:
    remote = dict([_remote("kept"), _remote("gone/part-0.parquet"), _remote(pub.MANIFEST)])
    todo = pub.plan([_local("kept")], remote)
    assert todo.delete == ("gone/part-0.parquet",)


def test_plan_keeps_stale_objects_when_asked() -> None:
    todo = pub.plan([_local("kept")], dict([_remote("kept"), _remote("old")]), keep_stale=True)
    assert (todo.delete, todo.kept) == ((), ("old",))


# --- publishing ----------------------------------------------------------------------------


def test_every_file_lands_at_its_path_under_the_prefix(
    parquet_root: Path, s3_env: S3Server
) -> None:
    bucket = s3_env.new_bucket()
    _publish(parquet_root, f"s3://{bucket}/{PREFIX}")
    got = s3_env.objects(bucket)
    got.pop(f"{PREFIX}/{pub.MANIFEST}")
    assert got == {f"{PREFIX}/{rel}": data for rel, data in _files(parquet_root).items()}


def test_a_second_publish_uploads_nothing(parquet_root: Path, s3_env: S3Server) -> None:
    url = f"s3://{s3_env.new_bucket()}/{PREFIX}"
    first = _publish(parquet_root, url)
    again = _publish(parquet_root, url)
    assert first.uploaded == first.files > 0
    assert (again.uploaded, again.unchanged, again.deleted) == (0, first.files, 0)
    assert not again.manifest_written


def test_a_changed_file_is_the_only_upload(root: Path, s3_env: S3Server) -> None:
    bucket = s3_env.new_bucket()
    _publish(root, f"s3://{bucket}/{PREFIX}")
    a, b = sorted((root / "bench").rglob("*.parquet"))[:2]
    shutil.copyfile(b, a)  # other valid bytes at the same path
    again = _publish(root, f"s3://{bucket}/{PREFIX}")
    rel = a.relative_to(root).as_posix()
    assert again.uploaded == 1
    assert s3_env.objects(bucket, f"{PREFIX}/{rel}") == {f"{PREFIX}/{rel}": b.read_bytes()}


def test_an_object_that_is_no_local_file_is_deleted(root: Path, s3_env: S3Server) -> None:
    bucket = s3_env.new_bucket()
    _publish(root, f"s3://{bucket}/{PREFIX}")
    gone = next((root / "bench_stats").rglob("*.parquet"))
    gone.unlink()
    summary = _publish(root, f"s3://{bucket}/{PREFIX}")
    assert summary.deleted == 1
    assert f"{PREFIX}/{gone.relative_to(root).as_posix()}" not in s3_env.objects(bucket)


def test_keep_stale_leaves_objects_that_are_no_local_file(root: Path, s3_env: S3Server) -> None:
    bucket = s3_env.new_bucket()
    _publish(root, f"s3://{bucket}/{PREFIX}")
    gone = next((root / "bench_stats").rglob("*.parquet"))
    gone.unlink()
    summary = _publish(root, f"s3://{bucket}/{PREFIX}", keep_stale=True)
    assert (summary.deleted, summary.kept) == (0, 1)
    assert f"{PREFIX}/{gone.relative_to(root).as_posix()}" in s3_env.objects(bucket)


def test_objects_beside_the_prefix_are_left_alone(parquet_root: Path, s3_env: S3Server) -> None:
    bucket = s3_env.new_bucket()
    s3 = s3_env.client()
    beside = ["other/x.parquet", f"{PREFIX}2/bench/x.parquet", "go-release-lab/notes.txt"]
    for key in beside:
        s3.put_object(Bucket=bucket, Key=key, Body=b"not ours")
    summary = _publish(parquet_root, f"s3://{bucket}/{PREFIX}")
    assert summary.deleted == 0
    assert {k: s3_env.objects(bucket, k)[k] for k in beside} == dict.fromkeys(beside, b"not ours")


def test_dry_run_changes_nothing(root: Path, s3_env: S3Server) -> None:
    bucket = s3_env.new_bucket()
    _publish(root, f"s3://{bucket}/{PREFIX}")
    next((root / "bench").rglob("*.parquet")).unlink()
    shutil.copytree(root / "bench", root / "bench_copy")
    before = s3_env.objects(bucket)
    summary = _publish(root, f"s3://{bucket}/{PREFIX}", dry_run=True)
    assert (summary.uploaded, summary.deleted) == (len(_files(root / "bench_copy")), 1)
    assert s3_env.objects(bucket) == before


def test_dry_run_names_each_file_it_would_upload_or_delete(root: Path, s3_env: S3Server) -> None:
    url = f"s3://{s3_env.new_bucket()}/{PREFIX}"
    _publish(root, url)
    gone = next((root / "bench").rglob("*.parquet"))
    gone.unlink()
    added = root / "bench_copy" / "part-0.parquet"
    added.parent.mkdir()
    shutil.copyfile(next((root / "bench").rglob("*.parquet")), added)
    said: list[str] = []
    pub.publish(root, url, dry_run=True, say=said.append)
    assert [line.split(" (")[0] for line in said[1:]] == [
        "would upload bench_copy/part-0.parquet",
        f"would delete {gone.relative_to(root).as_posix()}",
    ]


def test_the_manifest_lists_every_file_with_the_etag_s3_holds(
    parquet_root: Path, s3_env: S3Server
) -> None:
    bucket = s3_env.new_bucket()
    _publish(parquet_root, f"s3://{bucket}/{PREFIX}")
    doc = json.loads(s3_env.objects(bucket)[f"{PREFIX}/{pub.MANIFEST}"])
    s3 = s3_env.client()
    held = {
        o["Key"].removeprefix(f"{PREFIX}/"): (o["Size"], o["ETag"].strip('"'))
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/")["Contents"]
    }
    held.pop(pub.MANIFEST)
    assert {f["path"]: (f["size"], f["etag"]) for f in doc["files"]} == held
    assert set(doc["source"]) == {"commit", "dirty"}


def test_the_cli_prints_each_upload_and_a_summary(
    parquet_root: Path, s3_env: S3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"s3://{s3_env.new_bucket()}/{PREFIX}"
    assert publish_stage.main([url, "--root", str(parquet_root)]) == 0
    out, err = capsys.readouterr()
    n = len(_files(parquet_root))
    assert f"{url}: {n} files" in out
    assert f"uploaded {n} " in out
    uploads = [line for line in err.splitlines() if " uploaded " in line]
    assert len(uploads) == n
    assert f"[{n}/{n}] uploaded " in err


# --- reading the mirror back, as the README shows ------------------------------------------


def _local_frame(root: Path, name: str) -> pl.DataFrame:
    df = store.scan(name, root).collect()
    return df.sort(df.columns, nulls_last=True)


@pytest.mark.parametrize("name", DATASETS)
def test_polars_reads_the_mirror_as_the_local_dataset(
    name: str, parquet_root: Path, s3_env: S3Server
) -> None:
    bucket = s3_env.new_bucket()
    _publish(parquet_root, f"s3://{bucket}/{PREFIX}")
    got = pl.scan_parquet(
        f"s3://{bucket}/{PREFIX}/{name}/**/*.parquet",
        hive_partitioning=True,
        hive_schema=catalog.hive_schema(name),
    ).collect()
    want = _local_frame(parquet_root, name)
    assert_frame_equal(got.select(want.columns).sort(want.columns, nulls_last=True), want)


@pytest.mark.parametrize("name", DATASETS)
def test_duckdb_reads_the_mirror_as_the_local_dataset(
    name: str, parquet_root: Path, s3_env: S3Server
) -> None:
    bucket = s3_env.new_bucket()
    _publish(parquet_root, f"s3://{bucket}/{PREFIX}")
    con = duckdb.connect()
    con.register_filesystem(s3fs.S3FileSystem(skip_instance_cache=True))
    types = ", ".join(
        f"'{k}': {'VARCHAR' if t == pl.String else 'BIGINT'}"
        for k, t in catalog.hive_schema(name).items()
    )
    got: pl.DataFrame = con.sql(
        f"SELECT * FROM read_parquet('s3://{bucket}/{PREFIX}/{name}/**/*.parquet', "
        f"hive_partitioning = true, hive_types = {{{types}}})"
    ).pl()
    want = _local_frame(parquet_root, name)
    assert_frame_equal(got.select(want.columns).sort(want.columns, nulls_last=True), want)


# --- errors: each names what is wrong and how to fix it ------------------------------------


def _cli_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert publish_stage.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert sum(line.startswith("fix: ") for line in err.splitlines()) == 1
    return err


def test_a_url_without_a_prefix_fails_with_a_fix(
    parquet_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _cli_error(["s3://lab-results", "--root", str(parquet_root)], capsys)
    assert "names a whole bucket" in err
    assert f"fix: {pub.BadTarget.fix}" in err


def test_missing_credentials_fail_with_a_fix(
    parquet_root: Path, s3_env: S3Server, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    err = _cli_error([f"s3://{s3_env.new_bucket()}/{PREFIX}", "--root", str(parquet_root)], capsys)
    assert "no S3 credentials" in err
    assert f"fix: {pub.NoCredentials.fix}" in err


def test_an_unreachable_endpoint_fails_with_a_fix(
    parquet_root: Path, s3_env: S3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    argv = ["s3://lab-results/p", "--endpoint-url", closed, "--root", str(parquet_root)]
    err = _cli_error(argv, capsys)
    assert f"cannot reach s3://lab-results/p (endpoint {closed})" in err
    assert f"fix: {pub.Unreachable.fix}" in err


def test_a_missing_bucket_fails_with_a_fix(
    parquet_root: Path, s3_env: S3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _cli_error(["s3://no-such-bucket/p", "--root", str(parquet_root)], capsys)
    assert "bucket 'no-such-bucket' does not exist" in err
    assert f"fix: {pub.NoBucket.fix}" in err


def test_missing_local_data_fails_with_a_fix(
    tmp_path: Path, s3_env: S3Server, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _cli_error(["s3://lab-results/p", "--root", str(tmp_path / "parquet")], capsys)
    assert "nothing to publish" in err
    assert f"fix: {pub.NothingToPublish.fix}" in err


def test_a_dataset_being_written_stops_the_publish(root: Path, s3_env: S3Server) -> None:
    # what store.write_dataset holds while it runs: .NAME.tmp-PID of a live process (this one)
    busy = root / "bench" / f".go=1.27.3.tmp-{os.getpid()}"
    busy.mkdir()
    (busy / "part-0.parquet").write_bytes(b"half")
    with pytest.raises(pub.WriterAtWork, match="being written"):
        _publish(root, f"s3://{s3_env.new_bucket()}/{PREFIX}")
