"""Write beside, then rename into place: the one way any output directory or file is replaced.

A writer builds `.NAME.tmp-PID` next to NAME and swaps it in only when complete, so a killed
or failed run never leaves a half-written output; the next run's recover() cleans up after
writers that died (and leaves those still running alone).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from releaselab.core.errors import LabError

_DEBRIS = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$")


class StagingError(LabError, RuntimeError):
    fix = "stop the process that writes there (`fuser -v DIR` names it), delete DIR, rerun"


def tmp_path(final: Path, kind: str = "tmp") -> Path:
    """`.NAME.tmp-PID` beside `final` (kind "old": where the previous version waits)."""
    return final.parent / f".{final.name}.{kind}-{os.getpid()}"


def _alive(pid: int) -> bool:
    """Whether the writer `pid` still runs. A killed writer whose parent died too can stay a
    zombie until init reaps it (some container inits are slow to): that is not running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True  # no /proc: trust kill()
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def recover(path: Path) -> None:
    """Undo what a killed writer left beside `path` and inside it: a directory it had moved
    aside (`.NAME.old-PID`) goes back if NAME is missing; its other leftovers are deleted.
    Leftovers of writers still running are not touched."""
    inside = sorted(path.rglob(".*.*-*")) if path.is_dir() else []
    for debris in [*sorted(path.parent.glob(f".{path.name}.*-*")), *inside]:
        m = _DEBRIS.match(debris.name)
        if m is None or not debris.exists() or _alive(int(m["pid"])):
            continue
        target = debris.parent / m["name"]
        if m["kind"] == "old" and not target.exists():
            debris.rename(target)
        else:
            _sweep(debris)


def _sweep(debris: Path, attempts: int = 5) -> None:
    """Delete a dead writer's leftover. rmtree can lose a race with a process that still
    creates files inside (an orphaned child of the dead writer), so retry, then say so."""
    for _ in range(attempts):
        if debris.is_dir():
            shutil.rmtree(debris, ignore_errors=True)
        else:
            debris.unlink(missing_ok=True)
        if not debris.exists():
            return
        time.sleep(0.05)
    raise StagingError(
        f"cannot delete {debris}, a killed run's leftover: something still writes into it"
    )


def replace_dir(tmp: Path, final: Path) -> None:
    """Put the complete directory `tmp` at `final`, atomically where the kernel can swap."""
    old = tmp_path(final, "old")
    try:
        if final.exists() and exchange(tmp, final):
            old = tmp  # final was never missing; tmp now holds the previous version
        else:  # no atomic swap here: a kill between the renames is undone by recover()
            if final.exists():
                final.rename(old)
            tmp.rename(final)
    except BaseException:
        if old.exists() and not final.exists():
            old.rename(final)  # put the previous version back
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """A fresh empty directory beside `final`; it replaces `final` when the block completes,
    and is deleted (leaving `final` as it was) when the block raises."""
    recover(final)
    tmp = tmp_path(final)
    shutil.rmtree(tmp, ignore_errors=True)
    made = [p for p in tmp.parents if not p.exists()]  # parents this block creates
    tmp.mkdir(parents=True)
    done = False
    try:
        yield tmp
        replace_dir(tmp, final)
        done = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not done:  # a failed block leaves no trace, not even a new empty parent
            for parent in made:
                with contextlib.suppress(OSError):
                    parent.rmdir()


@contextmanager
def staged_file(final: Path) -> Iterator[Path]:
    """A path beside `final` to write; renamed onto `final` when the block completes."""
    recover(final)
    tmp = tmp_path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield tmp
        tmp.rename(final)
    finally:
        tmp.unlink(missing_ok=True)
