"""What sharing results costs: `stages.publish` (first run, no-op rerun, one file changed) and an
S3 DVC remote (`dvc add`, `dvc push`, a no-op push, `dvc pull` into an empty cache), each timed
as the command a user runs, against moto's S3 server (`moto_server`, its own process) on
localhost.

    python bench/share_cost.py [--root data/parquet] [--raw data/raw | --no-raw] [--json FILE]
    python bench/share_cost.py --synthetic 20000 --no-raw     # many small files (a fleet's shape)

Localhost has no network latency and moto keeps objects in memory: the times are what the
tools themselves cost (hashing, requests, DVC's bookkeeping), a floor under a real S3 or MinIO.
The request counts (files, objects) are what a remote's latency multiplies. Also measured: the
local ETag (MD5) throughput that every publish pays over all of data/parquet (one thread and
publish's pool), the interpreter start and imports every command pays (`--help`), and DVC's
object count and remote layout. `--synthetic N` measures N files of 16 KiB in a hive layout
instead of --root: how the per-file costs grow. Targets, on the default run's data (238 files,
85 MiB): a no-op publish under 2 s, a no-op `dvc push` of data/parquet and data/raw under 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from releaselab.share import publish as pub  # noqa: E402
from tests.helpers import s3  # noqa: E402

VENV_BIN = Path(sys.executable).parent
TIMEOUT = 1800
TARGETS = {"publish_noop_s": 2.0, "noop_push_s": 10.0}
SYNTH_SIZE = 16 * 2**10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_process() -> Iterator[s3.S3Server]:
    """moto's S3 in a process of its own: its request handling does not share our GIL."""
    port = _free_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = s3.S3Server(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.client().list_buckets()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def timed(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    t0 = time.monotonic()
    res = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT, check=False)  # fmt: skip
    seconds = time.monotonic() - t0
    if res.returncode != 0:
        raise SystemExit(f"{list(argv)} failed:\n{res.stdout}\n{res.stderr}")
    return seconds, res.stdout + res.stderr


def tree(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def synthetic(root: Path, n: int) -> Path:
    """n files of SYNTH_SIZE random bytes at go=G/gomaxprocs=P/round=R/part-0.parquet paths."""
    for i in range(n):
        go, rest = divmod(i, 80)
        procs, rnd = divmod(rest, 10)
        path = root / "synth" / f"go=1.{go}" / f"gomaxprocs={procs + 1}" / f"round={rnd + 1}"
        path.mkdir(parents=True, exist_ok=True)
        (path / "part-0.parquet").write_bytes(os.urandom(SYNTH_SIZE))
    return root


def etag_rate(root: Path, jobs: int) -> float:
    """MiB/s of local_files (every file's ETag) with `jobs` threads."""
    t0 = time.monotonic()
    files = pub.local_files(root, jobs=jobs)
    return sum(f.size for f in files) / 2**20 / (time.monotonic() - t0)


def measure_publish(root: Path, server: s3.S3Server, work: Path) -> dict[str, Any]:
    copy = Path(shutil.copytree(root, work / "parquet"))
    env = server.environ()
    url = f"s3://{server.new_bucket('publish')}/go-release-lab/parquet"
    argv = [sys.executable, "-m", "stages.publish", url, "--root", str(copy)]
    n, size = tree(copy)
    start_s, _ = timed([sys.executable, "-m", "stages.publish", "--help"], REPO, env)
    etag_1, etag_8 = etag_rate(copy, 1), etag_rate(copy, 8)
    first, _ = timed(argv, REPO, env)
    noop, _ = timed(argv, REPO, env)
    a, b = sorted(copy.rglob("*.parquet"))[:2]
    shutil.copyfile(b, a)
    one, out = timed(argv, REPO, env)
    assert "uploaded 1 " in out, out
    return {
        "files": n, "mib": round(size / 2**20, 1), "start_s": round(start_s, 2),
        "etag_mib_per_s_1_thread": round(etag_1), "etag_mib_per_s_8_threads": round(etag_8),
        "first_s": round(first, 2), "noop_s": round(noop, 2), "one_changed_s": round(one, 2),
        "first_files_per_s": round(n / first),
    }  # fmt: skip


def measure_dvc(root: Path, raw: Path | None, server: s3.S3Server, work: Path) -> dict[str, Any]:
    repo = work / "repo"
    repo.mkdir()
    env = {k: v for k, v in server.environ().items() if k != "AWS_ENDPOINT_URL"}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    dvc = [sys.executable, "-m", "dvc"]
    timed(["git", "init", "-q"], repo, env)
    timed([*dvc, "init", "-q"], repo, env)
    timed([*dvc, "config", "core.analytics", "false"], repo, env)
    targets = ["data/parquet"]
    shutil.copytree(root, repo / "data" / "parquet")
    if raw is not None:
        shutil.copytree(raw, repo / "data" / "raw")
        targets.append("data/raw")
    bucket = server.new_bucket("dvc")
    timed([*dvc, "remote", "add", "-d", "results", f"s3://{bucket}/go-release-lab/dvc"], repo, env)
    timed([*dvc, "remote", "modify", "results", "endpointurl", server.url], repo, env)
    add_s, _ = timed([*dvc, "add", *targets], repo, env)
    push_s, _ = timed([*dvc, "push"], repo, env)
    noop_s, _ = timed([*dvc, "push"], repo, env)
    objects = server.keys(bucket, "go-release-lab/dvc/")
    for t in targets:
        shutil.rmtree(repo / t)
    shutil.rmtree(repo / ".dvc" / "cache")
    pull_s, _ = timed([*dvc, "pull"], repo, env)
    n, size = tree(repo / "data")
    return {
        "files": n, "mib": round(size / 2**20, 1), "remote_objects": len(objects),
        "remote_dirs": sorted({k.split("/")[2] for k in objects}),
        "add_s": round(add_s, 2), "push_s": round(push_s, 2), "noop_push_s": round(noop_s, 2),
        "pull_s": round(pull_s, 2),
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=REPO / "data" / "parquet")
    ap.add_argument("--raw", type=Path, default=REPO / "data" / "raw")
    ap.add_argument("--no-raw", action="store_true", help="DVC part: data/parquet only")
    ap.add_argument("--synthetic", type=int, metavar="N", help="N small files instead of --root")
    ap.add_argument("--json", type=Path)
    ns = ap.parse_args(argv)
    # a plain kill would skip the `finally` that stops moto_server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp, moto_process() as server:
        root = synthetic(Path(tmp) / "synthetic", ns.synthetic) if ns.synthetic else ns.root
        if not any(root.rglob("*.parquet")):
            raise SystemExit(f"{root} holds no Parquet file: run `dvc pull` or `dvc repro` first")
        result: dict[str, Any] = {
            "publish": measure_publish(root, server, Path(tmp)),
            "dvc": measure_dvc(root, None if ns.no_raw else ns.raw, server, Path(tmp)),
        }
    result["targets"] = TARGETS
    if not ns.synthetic:
        result["ok"] = {
            "publish_noop_s": result["publish"]["noop_s"] <= TARGETS["publish_noop_s"],
            "noop_push_s": result["dvc"]["noop_push_s"] <= TARGETS["noop_push_s"],
        }
    text = json.dumps(result, indent=2)
    print(text)
    if ns.json:
        ns.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
