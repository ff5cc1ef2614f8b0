"""Benchmark units in one place: benchunit's tidying, which units are exact (allocation
counts: benchmath's AssumeExact) and which direction is better. Imports nothing of the parser
or the statistics, which both take what they need from here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

# Allocation counts are deterministic for a given binary; benchstat treats a unit as exact only
# when the input says `Unit <unit> assume=exact`, this project does so by default for these.
ALLOC_UNITS = ("B/op", "allocs/op")  # what -benchmem reports; the allocation gate and ledger
DEFAULT_EXACT_UNITS: frozenset[str] = frozenset(ALLOC_UNITS)

_tidy_cache: dict[str, tuple[str, float]] = {}


def _unit_tokens(unit: str) -> Iterator[tuple[str, int, bool]]:
    """benchunit's parser: (token, offset, in_denominator); '/' starts, '*' ends a denominator."""
    denom = False
    i, n = 0, len(unit)
    while i < n:
        c = unit[i]
        if c == "*":
            denom = False
            i += 1
        elif c == "/":
            denom = True
            i += 1
        elif c == "-" or c.isspace():
            i += 1
        else:
            j = i
            while j < n and not (unit[j] in "*/-" or unit[j].isspace()):
                j += 1
            yield unit[i:j], i, denom
            i = j


def tidy_unit(unit: str) -> tuple[str, float]:
    """benchunit.Tidy: ns -> sec (x1e-9) and MB -> B (x1e6) in numerators; returns (unit, factor).

    benchstat displays tidied units (ns/op as sec/op); the dataset keeps the raw unit.
    """
    cached = _tidy_cache.get(unit)
    if cached is not None:
        return cached
    if unit == "ns/op":
        out = ("sec/op", 1e-9)
    elif unit == "MB/s":
        out = ("B/s", 1e6)
    elif "ns" not in unit and "MB" not in unit:
        out = (unit, 1.0)
    else:
        factor = 1.0
        edits: list[tuple[int, int, str]] = []
        for tok, pos, denom in _unit_tokens(unit):
            if denom:
                continue
            if tok == "ns":
                edits.append((pos, 2, "sec"))
                factor /= 1e9
            elif tok == "MB":
                edits.append((pos, 2, "B"))
                factor *= 1e6
        tidied = unit
        for pos, length, repl in reversed(edits):
            tidied = tidied[:pos] + repl + tidied[pos + length :]
        out = (tidied, factor)
    _tidy_cache[unit] = out
    return out


def is_exact_unit(
    unit: str,
    metadata: Mapping[tuple[str, str], str] | None = None,
    default_exact: frozenset[str] = DEFAULT_EXACT_UNITS,
) -> bool:
    """Whether a unit is measured exactly (benchmath's AssumeExact) rather than sampled.

    `metadata` maps (tidied unit, key) -> value from `Unit` lines; `assume=` there wins.
    """
    if metadata is not None:
        assume = metadata.get((tidy_unit(unit)[0], "assume"))
        if assume is not None:
            return assume == "exact"
    return unit in default_exact


def better_direction(unit: str, metadata: Mapping[tuple[str, str], str] | None = None) -> int:
    """+1 if higher is better, -1 if lower is better, 0 if unknown (benchfmt's GetBetter)."""
    if metadata is not None:
        better = metadata.get((tidy_unit(unit)[0], "better"))
        if better is not None:
            return {"higher": 1, "lower": -1}.get(better, 0)
    if unit in ("ns/op", "sec/op", "B/op", "allocs/op"):
        return -1
    if unit in ("MB/s", "B/s"):
        return 1
    return 0
