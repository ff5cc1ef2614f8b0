"""Where measured runs execute: this machine (`local`) or the benchmark hosts of a Ray cluster
(`ray`). One place for "run these jobs, each host's in its own order, one at a time per host".

A job is one run of one cell (a benchmark binary, a sched or stack lab run) on one host. Each
host gets its own schedule (every toolchain interleaved and shuffled, so every comparison is
within that host) and runs it strictly in order, never two jobs at once: on Ray every benchmark
node advertises `host:<label>` = 1 (its one benchmark slot) and the driver keeps at most one job
of a host in flight. The driver (the head node) advertises no slot, so it runs no job.

Files a job needs (test binaries, the package directory they run in) travel through Ray's object
store once each and are unpacked into a per-node cache keyed by content hash, so nodes need the
project's code and venv (to import this module) but not the driver's build outputs.

A node lost mid-run: its in-flight job fails with a Ray error and the host's worker restarts
wherever a node with the same host label (slot) comes back; the driver resubmits the job until
it runs, for at most `executor.lost_host_wait` seconds of outage and `executor.retries` outages
per job; otherwise the rest of that host's jobs are recorded as missing (`Outcome.error`).
Results come back to the driver, which alone writes datasets: nothing is half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from releaselab.core import config, hosts, log
from releaselab.core.errors import LabError

SLOT_PREFIX = "host:"  # the custom resource of a benchmark host's one slot


class RunFailed(LabError, RuntimeError):
    """A run failed on its host: the host's error text and fix (exceptions with keyword-only
    constructors, like GoCommandError, cannot cross Ray's pickling, so they travel as text)."""

    def __init__(self, text: str, fix: str = LabError.fix) -> None:
        super().__init__(text, fix)
        self.fix = fix

    def __str__(self) -> str:
        return str(self.args[0])


class ExecutorError(LabError, RuntimeError):
    fix = (
        "start the cluster first (`ray start --head --num-cpus=0`, then on every benchmark host "
        "`ray start --address=HEAD:6379 --resources='{\"host:LABEL\": 1}'`), or use executor=local"
    )


@dataclass(frozen=True)
class Job:
    """One run on one host: fn(*args, files=<node-local paths>) returns the run's result.

    fn must be a module-level function (it is pickled by reference); `files` maps a name to a
    local file or directory that fn needs on the host (shipped once, by content)."""

    host: str
    key: tuple[Any, ...]  # what the run is, for logs and the `runs` dataset
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    files: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    job: Job
    result: Any  # None when the job is missing
    started: float  # wall clock on the host (time.time()) when the run started
    ended: float
    node: str  # node id (ray) or "local"
    attempts: int  # 1 + the host outages the run was caught in
    error: str = ""  # why the run is missing ("" when it ran)

    @property
    def ok(self) -> bool:
        return not self.error


class Executor(Protocol):
    def hosts(self) -> list[str]: ...

    def fingerprints(self) -> list[dict[str, str | int]]: ...

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]: ...


# ---------------------------------------------------------------------------------------------
# What runs on a host (both executors): materialise the files, time the call.


def _pack(path: Path) -> bytes:
    """A file or directory as deterministic tar bytes (sorted, no times or owners)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        items = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for p in items:
            info = tar.gettarinfo(str(p), arcname=p.name if p == path else str(p.relative_to(path)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with p.open("rb") as f:
                tar.addfile(info, f)
    return buf.getvalue()


def _unpack(blob: bytes, digest: str, name: str, is_file: bool) -> Path:
    """Unpack into this node's cache once per content (atomic rename: concurrent-safe)."""
    root = Path(os.environ.get("GO_RELEASE_LAB_NODE_CACHE", tempfile.gettempdir()))
    dest = root / "go-release-lab-files" / digest
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{digest[:12]}-"))
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            tar.extractall(tmp, filter="tar")  # keeps the exec bit of binaries
        with contextlib.suppress(OSError):  # another job on this node unpacked it first
            tmp.rename(dest)
    return dest / name if is_file else dest


@dataclass(frozen=True)
class _Shipped:
    digest: str
    name: str
    is_file: bool


def _call(
    fn: Callable[..., Any], args: tuple[Any, ...], files: Mapping[str, Path]
) -> tuple[Any, float, float]:
    t0 = time.time()
    result = fn(*args, files=files)
    return result, t0, time.time()


def _remote_call(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    shipped: Mapping[str, _Shipped],
    blobs: Mapping[str, Any],
) -> tuple[Any, float, float, str]:
    import ray  # noqa: PLC0415 - on the node

    files = {
        name: _unpack(ray.get(blobs[s.digest]), s.digest, s.name, s.is_file)
        for name, s in shipped.items()
    }
    try:
        result, t0, t1 = _call(fn, args, files)
    except Exception as err:
        fix = err.fix if isinstance(err, LabError) else LabError.fix
        raise RunFailed(f"{type(err).__name__}: {err}", fix) from None
    return result, t0, t1, ray.get_runtime_context().get_node_id()


# ---------------------------------------------------------------------------------------------
# local: this machine, in order.


class LocalExecutor:
    def __init__(self, host: str) -> None:
        self.host = hosts.label(host)

    def hosts(self) -> list[str]:
        return [self.host]

    def fingerprints(self) -> list[dict[str, str | int]]:
        return [hosts.fingerprint(self.host)]

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        for job in jobs:
            result, t0, t1 = _call(job.fn, job.args, job.files)
            yield Outcome(job, result, t0, t1, "local", 1)


# ---------------------------------------------------------------------------------------------
# ray: the cluster's benchmark hosts.


class _HostWorker:
    """The one process of a benchmark host that runs its jobs: a Ray actor holding the host's
    slot for the whole session (a call costs ~1 ms where a task is leased anew, ~100 ms)."""

    def call(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        shipped: Mapping[str, _Shipped],
        blobs: Mapping[str, Any],
    ) -> tuple[Any, float, float, str]:
        return _remote_call(fn, args, shipped, blobs)

    def fingerprint(self, label: str) -> dict[str, str | int]:
        return hosts.fingerprint(label)


class RayExecutor:
    def __init__(self, cfg: config.ExecutorConfig) -> None:
        try:
            import ray  # noqa: PLC0415 - only the ray executor needs it
        except ImportError as err:  # pragma: no cover - ray is a pinned dependency
            raise ExecutorError(f"executor=ray needs the `ray` package ({err})") from None
        self.ray = ray
        self.cfg = cfg
        address = cfg.address or os.environ.get("RAY_ADDRESS") or "auto"
        if not ray.is_initialized():
            try:
                ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
            except (ConnectionError, RuntimeError) as err:
                raise ExecutorError(f"cannot reach the Ray cluster at {address!r}: {err}") from None
        # restarted (on a node with the host's slot) whenever its node is lost
        self._worker = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)(_HostWorker)
        if not self.hosts():
            raise ExecutorError(
                f"the Ray cluster at {address!r} has no benchmark host: no node advertises a "
                f"`{SLOT_PREFIX}<label>` resource"
            )

    def _alive_slots(self) -> dict[str, str]:
        """host label -> node id of every alive node with a benchmark slot."""
        out = {}
        for node in self.ray.nodes():  # type: ignore[no-untyped-call]
            if not node.get("Alive"):
                continue
            for res in node.get("Resources", {}):
                if res.startswith(SLOT_PREFIX):
                    out[res[len(SLOT_PREFIX) :]] = node["NodeID"]
        return out

    def hosts(self) -> list[str]:
        return sorted(self._alive_slots())

    @contextlib.contextmanager
    def workers(self, labels: Sequence[str]) -> Iterator[dict[str, Any]]:
        """One worker actor per host, killed afterwards (it holds the host's slot)."""
        made: dict[str, Any] = {h: self._worker.options(**_slot(h)).remote() for h in labels}
        try:
            yield made
        finally:
            for actor in made.values():
                self.ray.kill(actor)

    def fingerprints(self) -> list[dict[str, str | int]]:
        labels = self.hosts()
        with self.workers(labels) as w:
            return list(self.ray.get([w[h].fingerprint.remote(h) for h in labels], timeout=300))

    def _ship(self, jobs: Sequence[Job]) -> tuple[dict[Path, _Shipped], dict[str, Any]]:
        shipped: dict[Path, _Shipped] = {}
        blobs: dict[str, Any] = {}
        for path in sorted({p for j in jobs for p in j.files.values()}):
            blob = _pack(path)
            digest = hashlib.sha256(blob).hexdigest()
            shipped[path] = _Shipped(digest, path.name, path.is_file())
            if digest not in blobs:
                blobs[digest] = self.ray.put(blob)
        return shipped, blobs

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        unknown = sorted({j.host for j in jobs} - set(self.hosts()))
        if unknown:
            raise ExecutorError(f"jobs for hosts the cluster does not have: {', '.join(unknown)}")
        with self.workers(sorted({j.host for j in jobs})) as workers:
            yield from _Session(self, workers, jobs, *self._ship(jobs)).run()


class _Session:
    """One run() on the cluster: each host's queue, at most one job of a host in flight.

    A loss (the host's node or worker died, or its worker is restarting) starts the host's
    outage clock; the job is resubmitted every RETRY_PAUSE seconds (a call to a restarting
    worker fails at once) until it runs, `retries` losses of that job were seen, or the host
    was out for `lost_host_wait` seconds; then the host's remaining jobs are missing."""

    RETRY_PAUSE = 1.0

    def __init__(
        self,
        ex: RayExecutor,
        workers: Mapping[str, Any],
        jobs: Sequence[Job],
        shipped: Mapping[Path, _Shipped],
        blobs: Mapping[str, Any],
    ) -> None:
        self.ex, self.ray, self.workers = ex, ex.ray, workers
        self.shipped, self.blobs = shipped, blobs
        self.queues: dict[str, list[Job]] = {}
        for job in jobs:
            self.queues.setdefault(job.host, []).append(job)
        self.losses: dict[int, int] = {}  # job -> outages it was caught in
        self.inflight: dict[Any, Job] = {}
        self.out_since: dict[str, float] = {}  # host -> when its outage began
        self.retry_at: dict[str, float] = {}  # host -> when to resubmit its job

    def submit(self, host: str) -> None:
        if self.queues[host]:
            job = self.queues[host][0]
            files = {n: self.shipped[p] for n, p in job.files.items()}
            need = {s.digest: self.blobs[s.digest] for s in files.values()}
            self.inflight[self.workers[host].call.remote(job.fn, job.args, files, need)] = job

    def give_up(self, host: str, why: str) -> Iterator[Outcome]:
        log.info(f"host {host}: {why}; its remaining runs are recorded as missing")
        now = time.time()
        for lost in self.queues[host]:
            yield Outcome(lost, None, now, now, "", self.losses.get(id(lost), 0) + 1,
                          error=f"host {host} lost: {why}")  # fmt: skip
        self.queues[host] = []
        self.out_since.pop(host, None)

    def failed(self, job: Job, err: Exception) -> Iterator[Outcome]:
        if not _lost(self.ray, err):
            cause = getattr(err, "cause", None)
            if isinstance(cause, RunFailed):  # the run itself failed on its host
                raise RunFailed(f"on host {job.host}, {job.key}: {cause}", cause.fix) from None
            raise ExecutorError(f"host {job.host}, {job.key}: {err}") from None
        host, now = job.host, time.monotonic()
        if host not in self.out_since:  # a new outage: the job was caught in it
            self.out_since[host] = now
            self.losses[id(job)] = self.losses.get(id(job), 0) + 1
            why = f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
            log.info(f"host {host}: lost during {job.key} ({why})")
        out_for = now - self.out_since[host]
        if self.losses[id(job)] > self.ex.cfg.retries:
            yield from self.give_up(host, f"{job.key} was lost {self.losses[id(job)]} times")
        elif out_for >= self.ex.cfg.lost_host_wait:
            yield from self.give_up(host, f"out for {out_for:.0f}s")
        else:
            self.retry_at[host] = now + self.RETRY_PAUSE

    def resubmit_due(self) -> None:
        now = time.monotonic()
        for host, at in list(self.retry_at.items()):
            if at <= now:
                del self.retry_at[host]
                self.submit(host)

    def run(self) -> Iterator[Outcome]:
        for host in self.queues:
            self.submit(host)
        while self.inflight or self.retry_at:
            self.resubmit_due()
            if not self.inflight:
                time.sleep(self.RETRY_PAUSE / 4)
                continue
            done, _ = self.ray.wait(list(self.inflight), num_returns=1, timeout=self.RETRY_PAUSE)
            if not done:
                continue
            job = self.inflight.pop(done[0])
            try:
                result, t0, t1, node = self.ray.get(done[0])
            except self.ray.exceptions.RayError as err:
                yield from self.failed(job, err)
                continue
            self.out_since.pop(job.host, None)
            self.queues[job.host].pop(0)
            self.submit(job.host)  # the host's next run starts before this one is consumed
            yield Outcome(job, result, t0, t1, node, self.losses.get(id(job), 0) + 1)


def _slot(host: str) -> dict[str, Any]:
    """Ray options that put a task on host's node and take its one benchmark slot."""
    return {"resources": {f"{SLOT_PREFIX}{host}": 1}}


def _lost(ray: Any, err: Exception) -> bool:
    """A task error caused by the node or its worker dying, not by the run."""
    ex = ray.exceptions
    return isinstance(
        err,
        ex.WorkerCrashedError
        | ex.NodeDiedError
        | ex.ObjectLostError
        | ex.ActorDiedError
        | ex.ActorUnavailableError,
    )


def make(cfg: config.Config) -> Executor:
    """The configured executor."""
    if cfg.executor.kind == "ray":
        return RayExecutor(cfg.executor)
    return LocalExecutor(cfg.host)


# ---------------------------------------------------------------------------------------------
# The run_log dataset: every scheduled run of a stage, where and when it ran, or why not.


def run_key(run: Any, cell: str = "") -> tuple[str, int, int, int, str]:
    """A Job.key of a lab run: (go, gomaxprocs, round, order, cell)."""
    return (run.go, run.gomaxprocs, run.round, run.order, cell)


def run_log_dir(stage: str, parquet_root: Path) -> Path:
    """data/parquet/run_log/stage=<stage>: the part of run_log one stage owns (a DVC out)."""
    return parquet_root / "run_log" / f"stage={stage}"


def run_log_rows(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    rows = []
    for o in outcomes:
        go, procs, rnd, order, cell = o.job.key
        rows.append({
            "host": o.job.host, "go": go, "gomaxprocs": procs, "round": rnd, "order": order,
            "cell": cell, "node": o.node, "started": o.started, "ended": o.ended,
            "attempts": o.attempts, "missing": not o.ok, "reason": o.error,
        })  # fmt: skip
    return rows


def write_run_log(stage: str, outcomes: Sequence[Outcome], out_dir: Path) -> None:
    """Write the stage's run_log part into out_dir (its staged run_log/stage=<stage>)."""
    from releaselab.core import catalog, store  # noqa: PLC0415 - store imports config

    schema = {k: v for k, v in catalog.schema("run_log").items() if k != "stage"}
    df = store.frame(run_log_rows(outcomes), schema).with_columns(stage=pl.lit(stage))
    store.write_dataset(df, out_dir, dataset="run_log", params={}, partitions=("host",),
                        fixed={"stage": stage})  # fmt: skip
