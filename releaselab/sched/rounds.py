"""The interleaved schedule of a lab session (sched and stack; bench's own is
releaselab.bench.session.schedule): every round runs every cell once, in an order shuffled
from the seed, so drift of the machine hits every toolchain alike. No config, no I/O."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Run", "schedule"]


@dataclass(frozen=True)
class Run:
    """One run of one cell: toolchain label, GOMAXPROCS, round (1..runs), order in the session."""

    go: str
    gomaxprocs: int
    round: int
    order: int


def schedule(cells: Sequence[tuple[str, int]], rounds: int, seed: int) -> list[Run]:
    """Every run of the session: each round is a fresh shuffle of all (label, GOMAXPROCS) cells.

    >>> [(r.go, r.round, r.order) for r in schedule([("a", 1), ("b", 1)], 2, 1)]
    [('b', 1, 1), ('a', 1, 2), ('b', 2, 3), ('a', 2, 4)]
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    runs: list[Run] = []
    for r in range(1, rounds + 1):
        perm = list(cells)
        rng.shuffle(perm)
        runs += [Run(go, n, r, len(runs) + i) for i, (go, n) in enumerate(perm, 1)]
    return runs
