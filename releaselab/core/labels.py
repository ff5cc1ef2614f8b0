"""Toolchain labels: the one display order and the one definition of an A/A pair."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_VERSION = re.compile(r"^1\.(\d+)(?:\.(\d+))?")


def version_key(label: str) -> tuple[int, int, int, str]:
    """Sort key: release labels by version (1.9 < 1.10), other labels after them by name."""
    m = _VERSION.match(label)
    if m is None:
        return (1, 0, 0, label)
    return (0, int(m.group(1)), int(m.group(2) or 0), label)


def display_order(labels: Iterable[str], baseline: str | None = None) -> list[str]:
    """Every label once: the baseline first (when given and present), then by version."""
    rest = sorted(set(labels) - {baseline}, key=version_key)
    return [baseline, *rest] if baseline is not None and baseline in set(labels) else rest


def aa_pairs(identities: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(first label, other label) for labels that name the same Go: an A/A comparison.

    identities: (label, what the label runs: a version or a GOROOT), in configuration order.
    """
    first: dict[str, str] = {}
    pairs = []
    for label, ident in identities:
        if ident in first:
            pairs.append((first[ident], label))
        else:
            first[ident] = label
    return pairs
