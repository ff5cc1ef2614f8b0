"""Go benchmark text (`go test -bench` output) -> typed records, streaming, line by line.

Follows golang.org/x/perf/benchfmt (reader.go): a line starting with "Benchmark" is a result,
"Unit <unit> key=value..." is unit metadata, "key: value" (key starts with a lower-case letter
and has no spaces or upper-case letters) is configuration that later results carry (an empty
value deletes the key), and everything else is kept as an `Other` record with its raw text.
A malformed result line is a `SyntaxErrorRecord`, never an exception: the caller decides.

Units (benchunit's tidy rules, which units are exact, which direction is better) live in
`releaselab.bench.units`; statistics in `releaselab.bench.stats`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import NamedTuple

from releaselab.bench.units import (
    DEFAULT_EXACT_UNITS,
    better_direction,
    is_exact_unit,
    tidy_unit,
)

__all__ = [
    "DEFAULT_EXACT_UNITS",
    "Config",
    "Other",
    "Record",
    "Result",
    "SyntaxErrorRecord",
    "UnitMetadata",
    "better_direction",
    "is_exact_unit",
    "parse",
    "split_gomaxprocs",
    "tidy_unit",
    "to_long_rows",
    "unit_metadata",
]

_EMPTY_CONFIG: Mapping[str, str] = MappingProxyType({})
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1  # an iteration count is a Go int


class Result(NamedTuple):
    """One benchmark result line (NamedTuple: the hot path builds a million of these)."""

    name: str  # without "Benchmark" and without the -N GOMAXPROCS suffix
    full_name: str  # without "Benchmark", as written (suffix kept)
    procs: int  # GOMAXPROCS: the -N suffix, else the `gomaxprocs:` config, else 1
    iterations: int
    values: tuple[tuple[float, str], ...]  # (value, unit) as written, every unit
    config: Mapping[str, str]  # configuration in force at this line (shared, read-only)
    lineno: int


class Config(NamedTuple):
    """A `key: value` line; value "" deletes the key."""

    key: str
    value: str
    lineno: int


class UnitMetadata(NamedTuple):
    """One key=value of a `Unit <unit> key=value ...` line (e.g. assume=exact, better=higher)."""

    unit: str
    key: str
    value: str
    lineno: int


class SyntaxErrorRecord(NamedTuple):
    """A line that looks like a benchmark result (or unit line) but does not parse."""

    lineno: int
    message: str
    text: str


class Other(NamedTuple):
    """Any other line (PASS, ok, test output, `go test -v` name-only lines), kept raw."""

    text: str
    lineno: int


Record = Result | Config | UnitMetadata | SyntaxErrorRecord | Other


def _lines(text_or_lines: str | Iterable[str]) -> Iterator[str]:
    """Split like bufio.ScanLines: on "\\n" only, dropping one trailing "\\r"."""
    if isinstance(text_or_lines, str):
        parts = text_or_lines.split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        if "\r" not in text_or_lines:
            return iter(parts)  # the common case needs no per-line work
        source: Iterable[str] = parts
    else:
        source = text_or_lines
    return _strip_eol(source)


def _strip_eol(source: Iterable[str]) -> Iterator[str]:
    """Drop the "\\n" and one "\\r" that file iteration leaves on each line."""
    for line in source:
        if line.endswith("\n"):
            line = line[:-1]  # noqa: PLW2901 - normalising the loop value is the point
        if line.endswith("\r"):
            line = line[:-1]  # noqa: PLW2901
        yield line


def _atoi(s: str) -> int | None:
    """A non-negative decimal as Go's strconv.Atoi reads it (ASCII digits, fits int64), or None."""
    if not (s.isascii() and s.isdigit()) or len(s) > 19:
        return None
    n = int(s)
    return n if n < 1 << 63 else None


def split_gomaxprocs(full_name: str) -> tuple[str, int | None]:
    """Split a trailing "-N" (N digits) off a benchmark name, as benchfmt's splitGomaxprocs."""
    dash = full_name.rfind("-")
    if dash < 0 or dash == len(full_name) - 1:
        return full_name, None
    procs = _atoi(full_name[dash + 1 :])
    if procs is None:
        return full_name, None
    return full_name[:dash], procs


def _config_kv(line: str) -> tuple[str, str] | None:
    """Parse `key: value` by benchfmt's parseKeyValueLine rules, or None if not config."""
    if not line or not line[0].islower():
        return None
    colon = line.find(":", 1)
    if colon < 0:
        return None
    key = line[:colon]
    if any(c.isspace() or c.isupper() for c in key):
        return None
    rest = line[colon + 1 :]
    if not rest:
        return key, ""  # "key:" alone deletes the key
    value = rest.lstrip(" \t")
    if len(value) == len(rest):
        return None  # "key:value" needs a space or tab after the colon
    return key, value


def _explain_bad_result(fields: list[str]) -> str:
    """benchfmt's message for a malformed result line (fields[0] is the name)."""
    if len(fields) < 2:
        return "missing iteration count"
    try:
        in_range = _INT64_MIN <= int(fields[1]) <= _INT64_MAX
    except ValueError:
        return "parsing iteration count: invalid syntax"
    if len(fields) < 3 or not in_range:
        return "missing measurements" if in_range else "parsing iteration count: value out of range"
    for i in range(2, len(fields), 2):
        try:
            float(fields[i])
        except ValueError:
            return "parsing measurement: invalid syntax"
        if i + 1 >= len(fields):
            return "missing units"
    return "invalid result line"


def _values(f: list[str], nf: int) -> tuple[tuple[float, str], ...]:
    """(value, unit) pairs of a split result line; unrolled for the usual 1-4 units."""
    if nf == 8:  # ns/op B/op allocs/op: the -benchmem line, by far the most common
        return ((float(f[2]), f[3]), (float(f[4]), f[5]), (float(f[6]), f[7]))
    if nf == 4:
        return ((float(f[2]), f[3]),)
    if nf == 6:
        return ((float(f[2]), f[3]), (float(f[4]), f[5]))
    if nf == 10:
        return ((float(f[2]), f[3]), (float(f[4]), f[5]), (float(f[6]), f[7]), (float(f[8]), f[9]))
    return tuple([(float(f[i]), f[i + 1]) for i in range(2, nf, 2)])


def _check_go_numbers(fields: list[str]) -> None:
    """Raise ValueError where Python's int/float read what Go's do not ("1_0", non-ASCII digits)."""
    for f in (fields[1], *fields[2::2]):
        if "_" in f or not f.isascii():
            raise ValueError(f)


def parse(text_or_lines: str | Iterable[str]) -> Iterator[Record]:  # noqa: PLR0912, PLR0915
    """Yield one record per meaningful line of Go benchmark text, in input order.

    One flat loop on purpose: calls per line are the cost that matters at a million lines.
    """
    config: dict[str, str] = {}
    frozen: Mapping[str, str] | None = _EMPTY_CONFIG  # None: config changed, snapshot lazily
    gomaxprocs_cfg: int | None = None
    # Names repeat on almost every line: cache their split.
    name_cache: dict[str, tuple[str, int | None]] = {}
    new_result = tuple.__new__  # Result(...) goes through a Python-level __new__; this is C
    for lineno, line in enumerate(_lines(text_or_lines), 1):
        if line.startswith("Benchmark"):
            fields = line.split()
            nf = len(fields)
            if nf == 1 and fields[0] == line:
                # `go test -v` prints the bare name when a benchmark starts.
                yield Other(line, lineno)
                continue
            if nf >= 4 and not nf & 1:
                try:
                    iterations = int(fields[1])
                    if not _INT64_MIN <= iterations <= _INT64_MAX:
                        raise ValueError(fields[1])  # Go's strconv.Atoi: value out of range
                    values = _values(fields, nf)
                    if "_" in line or not line.isascii():
                        _check_go_numbers(fields)
                except ValueError:
                    pass
                else:
                    full_name = fields[0][9:]
                    split = name_cache.get(full_name)
                    if split is None:
                        split = name_cache[full_name] = split_gomaxprocs(full_name)
                    name, suffix = split
                    if suffix is None:
                        procs = 1 if gomaxprocs_cfg is None else gomaxprocs_cfg
                    elif gomaxprocs_cfg is not None and suffix != gomaxprocs_cfg:
                        # go test omits -N at GOMAXPROCS=1, so "Size-1024" under
                        # `gomaxprocs: 1` is a name, not GOMAXPROCS=1024.
                        name, procs = full_name, gomaxprocs_cfg
                    else:
                        procs = suffix
                    if frozen is None:
                        # Results share one read-only snapshot until the config changes.
                        frozen = MappingProxyType(dict(config))
                    yield new_result(
                        Result, (name, full_name, procs, iterations, values, frozen, lineno)
                    )
                    continue
            yield SyntaxErrorRecord(lineno, _explain_bad_result(fields), line)
            continue
        if line.startswith("Unit") and line[4:5].isspace():
            yield from _unit_records(line, lineno)
            continue
        kv = _config_kv(line)
        if kv is None:
            yield Other(line, lineno)
            continue
        key, value = kv
        if value:
            config[key] = value
        else:
            config.pop(key, None)
        frozen = None
        if key == "gomaxprocs":
            gomaxprocs_cfg = _atoi(value)
        yield Config(key, value, lineno)


def _unit_records(line: str, lineno: int) -> Iterator[UnitMetadata | SyntaxErrorRecord]:
    """`Unit <unit> key=value ...` -> one UnitMetadata per pair (benchfmt's parseUnitLine)."""
    fields = line.split()
    if len(fields) < 2:
        yield SyntaxErrorRecord(lineno, "missing unit", line)
        return
    unit = fields[1]
    for pair in fields[2:]:
        eq = pair.find("=")
        if eq <= 0:
            yield SyntaxErrorRecord(lineno, "expected key=value", line)
            continue
        yield UnitMetadata(unit, pair[:eq], pair[eq + 1 :], lineno)


def to_long_rows(records: Iterable[Record]) -> Iterator[dict[str, str | int | float]]:
    """Results -> long-format rows, one per (result, unit): the `bench` dataset's shape.

    Every configuration key in force becomes a column (strings, as written); `gomaxprocs` is
    the resolved GOMAXPROCS of the result, so it is present even without a config line.
    """
    for rec in records:
        if not isinstance(rec, Result):
            continue
        base: dict[str, str | int | float] = dict(rec.config)
        base["gomaxprocs"] = str(rec.procs)
        base["name"] = rec.name
        base["full_name"] = rec.full_name
        base["iterations"] = rec.iterations
        base["lineno"] = rec.lineno
        for value, unit in rec.values:
            row = dict(base)
            row["unit"] = unit
            row["value"] = value
            yield row


def unit_metadata(records: Iterable[Record]) -> dict[tuple[str, str], str]:
    """Collect `Unit` lines into {(tidied unit, key): value}; the first value for a key wins."""
    out: dict[tuple[str, str], str] = {}
    for rec in records:
        if isinstance(rec, UnitMetadata):
            out.setdefault((tidy_unit(rec.unit)[0], rec.key), rec.value)
    return out
