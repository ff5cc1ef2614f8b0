"""Write beside, then rename: what a dead writer leaves is swept, a live writer's is not."""

from __future__ import annotations

import os
import time
from pathlib import Path

from releaselab.core import staging


def test_a_zombie_writer_counts_as_dead_and_its_leftover_is_swept(tmp_path: Path) -> None:
    pid = os.fork()
    if pid == 0:  # the child exits at once and stays a zombie until we reap it
        os._exit(0)
    try:
        debris = tmp_path / f".cell.tmp-{pid}"
        debris.mkdir()
        deadline = time.monotonic() + 10
        while staging._alive(pid) and time.monotonic() < deadline:  # until the child exits
            time.sleep(0.01)
        staging.recover(tmp_path / "cell")
        assert not debris.exists()
    finally:
        os.waitpid(pid, 0)


def test_a_running_writers_leftover_is_left_alone(tmp_path: Path) -> None:
    mine = tmp_path / f".cell.tmp-{os.getpid()}"
    mine.mkdir()
    staging.recover(tmp_path / "cell")
    assert mine.is_dir()


def test_a_staged_dir_replaces_the_old_one_only_when_complete(tmp_path: Path) -> None:
    final = tmp_path / "cell"
    final.mkdir()
    (final / "old").write_text("1")
    try:
        with staging.staged_dir(final) as tmp:
            (tmp / "new").write_text("2")
            raise RuntimeError("stage failed")
    except RuntimeError:
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cell"]
    assert [p.name for p in final.iterdir()] == ["old"]
    with staging.staged_dir(final) as tmp:
        (tmp / "new").write_text("2")
    assert [p.name for p in final.iterdir()] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cell"]
