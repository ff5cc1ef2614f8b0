"""Go benchmark text -> the long `bench` frame, vectorised over the whole text (Polars kernels).

The same answer as the streaming line parser followed by its long rows (`benchfmt.parse` ->
`benchfmt.to_long_rows`, built into a frame by `reference`), which stays the reference and the
fallback: every line is classified with whole-column string kernels, and a line that is not
plainly one of the common shapes is handed to `benchfmt.parse` as it is. Handed over are lines
with characters other than printable ASCII and tab (Unicode whitespace, digits and letters are
where Python's and Go's rules get subtle), `Unit` lines, and `Benchmark` lines that are not
"name iterations (value unit)..." with numbers the fast casts read (so every malformed result,
with benchfmt's own message). The rest is done on columns:

- a result line is split on runs of spaces and tabs, as `str.split()` on an ASCII line;
- a configuration line is benchfmt's `key: value` (key: lower-case first, no upper case, space
  or tab, then a colon and a space or tab, or nothing: an empty value deletes the key);
- configuration in force at each result: the last line of each key before it (asof join over
  the configuration lines, once per stretch of results between configuration lines);
- GOMAXPROCS: the name's `-N` suffix, else the `gomaxprocs:` configuration, else 1, and a
  suffix that contradicts the configuration stays in the name (go test prints no `-1`).

Pure: text or bytes in, a `BenchText` (frame, `Unit` metadata, syntax errors) out. It never
raises on malformed input; the caller decides (releaselab.bench.session.parse names file and
line). The frame has one row per (result, unit): every configuration key in force as a String
column (sorted by name), then RESULT_COLUMNS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import polars as pl

from releaselab.bench import benchfmt
from releaselab.bench.benchfmt import Record, Result, SyntaxErrorRecord, UnitMetadata

__all__ = ["RESULT_COLUMNS", "BenchText", "parse", "reference", "reference_frame"]

# What to_long_rows adds to the configuration keys of each row (a key of the same name is
# overwritten by these, so it never becomes a configuration column).
RESULT_SCHEMA: Mapping[str, pl.DataType] = {
    "gomaxprocs": pl.String(),  # the resolved GOMAXPROCS, as to_long_rows writes it
    "name": pl.String(),
    "full_name": pl.String(),
    "iterations": pl.Int64(),
    "lineno": pl.Int64(),
    "unit": pl.String(),
    "value": pl.Float64(),
}
RESULT_COLUMNS = tuple(RESULT_SCHEMA)

# Internal column names carry upper case or a space: a configuration key has neither, so
# they can never collide with a key's column.
_LINE, _TEXT, _FULL, _ITERS, _NVALS, _SEG = "Line", "Text", "Full", "Iters", "N vals", "Seg"
_UNIT, _VALUE = "Unit", "Value"

# benchfmt's configuration line, on lines of printable ASCII and tab only (so `islower`,
# `isupper` and `isspace` are [a-z], [A-Z] and [ \t]).
_CONFIG_RE = r"^([a-z][^:A-Z \t]*):(?:[ \t]+(.*))?$"
# Bytes a "plain" line may hold (besides the newline and one trailing carriage return).
_PLAIN_BYTES = bytes([9]) + bytes(range(32, 127))


class BenchText(NamedTuple):
    """What the frame path needs of the records: long rows, `Unit` metadata, syntax errors."""

    frame: pl.DataFrame
    units: tuple[UnitMetadata, ...]
    errors: tuple[SyntaxErrorRecord, ...]

    def unit_metadata(self) -> dict[tuple[str, str], str]:
        """{(tidied unit, key): value} as benchfmt.unit_metadata (the first value wins)."""
        return benchfmt.unit_metadata(self.units)


class _Pieces(NamedTuple):
    """Results (one row each: line, full name, iterations, value count) and their values
    (one row each, in line then written order), from one way of parsing."""

    results: pl.DataFrame
    values: pl.DataFrame


_RESULTS_SCHEMA = {_LINE: pl.Int64, _FULL: pl.String, _ITERS: pl.Int64, _NVALS: pl.Int64}
_VALUES_SCHEMA = {_LINE: pl.Int64, _UNIT: pl.String, _VALUE: pl.Float64}


def parse(text: str | bytes) -> BenchText:
    """Go benchmark text (bytes are UTF-8) -> BenchText; the same as `reference(text)`."""
    data = bytes(text) if isinstance(text, bytes | bytearray | memoryview) else None
    if data is not None:
        text = data.decode("utf-8")
    assert isinstance(text, str)
    raw = _Lines(text, data)
    lines = pl.DataFrame({_TEXT: raw.series}).with_row_index(_LINE, offset=1)
    lines = lines.with_columns(pl.col(_LINE).cast(pl.Int64))
    crlf = "\r" in text
    if crlf:
        lines = lines.with_columns(pl.col(_TEXT).str.strip_suffix("\r"))
    if crlf or not (_all_plain_bytes(data) if data is not None else _all_plain(text)):
        plain = ~pl.col(_TEXT).str.contains(r"[^\t\x20-\x7e]")
    else:
        plain = pl.lit(value=True)
    kinds = lines.with_columns(
        bench=pl.col(_TEXT).str.starts_with("Benchmark"),
        unit=pl.col(_TEXT).str.starts_with("Unit"),
        plain=plain,
    )
    fast_bench = kinds.filter(pl.col("bench") & pl.col("plain")).select(_LINE, _TEXT)
    candidates = kinds.filter(pl.col("plain") & ~pl.col("bench") & ~pl.col("unit"))
    slow_lines = kinds.filter(~pl.col("plain") | pl.col("unit"))[_LINE]

    fast, failed = _fast_results(fast_bench)
    config = _fast_config(candidates)
    slow_at = pl.concat([slow_lines, failed]).sort().to_numpy()
    slow = _slow_records(raw.at(slow_at), slow_at)
    config = pl.concat([config, slow.config]).sort(_LINE) if slow.config.height else config
    pieces = [*fast, *(() if slow.pieces is None else (slow.pieces,))]
    frame = _long_frame(pieces, config)
    return BenchText(frame, slow.units, slow.errors)


_NEVER = b"\x1f"  # a byte benchmark text does not hold (else the lines are split another way)


class _Lines:
    """The text's lines, split as bufio.ScanLines does (a final newline ends the last line, it
    starts none; a carriage return stays on): a String column, and the raw lines by number."""

    def __init__(self, text: str, data: bytes | None = None) -> None:
        self._raw: list[str] | None = None
        if data is not None and b"\r" not in data and _NEVER not in data:
            # The file's bytes through Polars' CSV reader with a separator that does not occur:
            # one line per row, split in parallel (no quoting; a blank line is a null). It
            # drops the \r of \r\n, so only for text without one.
            self.series = pl.read_csv(
                data, has_header=False, separator=_NEVER.decode(), quote_char=None,
                schema={_TEXT: pl.String}, raise_if_empty=False,
            )[_TEXT].fill_null("")  # fmt: skip
            return
        try:
            lines = pl.Series([text], dtype=pl.String).str.split("\n").explode()
        except UnicodeEncodeError:
            # A lone surrogate (no UTF-8 file decodes to one) Polars cannot hold: that line
            # becomes a NUL, which is not plain, and the line parser reads the raw line.
            self._raw = text.split("\n")
            if self._raw[-1] == "":
                self._raw.pop()
            lines = pl.Series([_encodable(line) for line in self._raw], dtype=pl.String)
        else:
            if text == "" or text.endswith("\n"):
                lines = lines.head(lines.len() - 1)
        self.series = lines

    def at(self, numbers: np.ndarray) -> list[str]:
        """The raw lines at these 1-based numbers."""
        if self._raw is not None:
            return [self._raw[i - 1] for i in numbers.tolist()]
        out: list[str] = self.series.gather(numbers - 1).to_list()
        return out


def _encodable(line: str) -> str:
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return "\0"
    return line


def _all_plain_bytes(data: bytes) -> bool:
    """Whether every byte is printable ASCII, tab or newline (one C pass: translate)."""
    return not data.translate(None, _PLAIN_BYTES + b"\n")


def _all_plain(text: str) -> bool:
    """Whether every byte is printable ASCII, tab or newline (one C pass: translate)."""
    if not text.isascii():
        return False
    return not text.encode("ascii").translate(None, _PLAIN_BYTES + b"\n")


def _fast_results(bench: pl.DataFrame) -> tuple[list[_Pieces], pl.Series]:
    """Result lines of plain text -> one piece, and the lines left over for the line parser:
    not "name iterations (value unit)...", or with a number the casts do not read.

    Fields as str.split() finds them on an ASCII line: split on every space and tab (all lines'
    fields in one column) and drop the empty ones, so runs of blanks cost nothing extra."""
    none = pl.Series(_LINE, [], dtype=pl.Int64)
    if bench.height == 0:
        return [], none
    parts = bench[_TEXT].str.replace_all("\t", " ", literal=True).str.split(" ")
    fields = parts.explode()
    count = parts.list.len().to_numpy().astype(np.int64)
    blank = fields.str.len_bytes() == 0
    if blank.any():  # go test pads with spaces; generated text may not
        fields = fields.filter(~blank)
        count -= parts.list.count_matches("").to_numpy().astype(np.int64)
    first = np.cumsum(count) - count  # each line's first field
    # nf fields: name, iterations, then value/unit pairs (nf even, >= 4).
    at = np.flatnonzero((count >= 4) & (count % 2 == 0))
    pairs = (count[at] - 2) // 2
    value_at = _value_fields(first[at], pairs)
    values = fields.gather(value_at).cast(pl.Float64, strict=False)
    iters = fields.gather(first[at] + 1).cast(pl.Int64, strict=False)
    # A number the casts do not read: the whole line goes to the line parser (its message).
    if values.has_nulls() or iters.has_nulls():
        of_value = np.repeat(np.arange(at.size), pairs)
        failed = np.bincount(of_value, weights=values.is_null().to_numpy(), minlength=at.size)
        bad = iters.is_null().to_numpy() | (failed > 0)
        keep = ~bad[of_value]
        value_at, values = value_at[keep], values.filter(keep)
        iters = iters.filter(~bad)
        at, pairs = at[~bad], pairs[~bad]
    line = bench[_LINE].to_numpy()
    results = pl.DataFrame(
        {
            _LINE: line[at],
            _FULL: fields.gather(first[at]).str.slice(9),
            _ITERS: iters,
            _NVALS: pairs,
        },
        schema=_RESULTS_SCHEMA,
    )
    long = pl.DataFrame(
        {_LINE: np.repeat(line[at], pairs), _UNIT: fields.gather(value_at + 1), _VALUE: values},
        schema=_VALUES_SCHEMA,
    )
    left = np.setdiff1d(np.arange(bench.height), at, assume_unique=True)
    return [_Pieces(results, long)], pl.Series(_LINE, line[left], dtype=pl.Int64)


def _value_fields(first: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Positions of the values (fields 2, 4, ... of each line) among all fields, line by line."""
    if pairs.size and (pairs == pairs[0]).all():  # the usual case: one shape for every line
        same: np.ndarray = (first[:, None] + 2 + 2 * np.arange(pairs[0])).ravel()
        return same
    starts = np.cumsum(pairs) - pairs
    nth = np.arange(pairs.sum()) - np.repeat(starts, pairs)
    out: np.ndarray = np.repeat(first + 2, pairs) + 2 * nth
    return out


def _fast_config(candidates: pl.DataFrame) -> pl.DataFrame:
    """Configuration lines among plain, non-result lines: (line, key, value; "" deletes)."""
    kv = candidates.select(
        _LINE, pl.col(_TEXT).str.extract_groups(_CONFIG_RE).struct.rename_fields(["key", "value"])
    ).unnest(_TEXT)
    return kv.filter(pl.col("key").is_not_null()).with_columns(pl.col("value").fill_null(""))


class _Slow(NamedTuple):
    pieces: _Pieces | None
    config: pl.DataFrame
    units: tuple[UnitMetadata, ...]
    errors: tuple[SyntaxErrorRecord, ...]


def _slow_records(raw: Sequence[str], at: np.ndarray) -> _Slow:
    """These raw lines (one "\r" still on: benchfmt drops it as it does for the whole text),
    numbered `at` (1-based, ascending), through the line parser."""
    if not at.size:
        return _Slow(None, _empty_config(), (), ())
    line_of = at.tolist()
    recs = benchfmt.parse(raw)
    results: list[tuple[int, str, int, int]] = []
    values: list[tuple[int, str, float]] = []
    config: list[tuple[int, str, str]] = []
    units: list[UnitMetadata] = []
    errors: list[SyntaxErrorRecord] = []
    for rec in recs:
        line = line_of[rec.lineno - 1]
        if isinstance(rec, Result):
            results.append((line, rec.full_name, rec.iterations, len(rec.values)))
            values.extend((line, u, v) for v, u in rec.values)
        elif isinstance(rec, benchfmt.Config):
            config.append((line, rec.key, rec.value))
        elif isinstance(rec, UnitMetadata):
            units.append(rec._replace(lineno=line))
        elif isinstance(rec, SyntaxErrorRecord):
            errors.append(rec._replace(lineno=line))
    pieces = None
    if results:
        pieces = _Pieces(
            pl.DataFrame(results, schema=_RESULTS_SCHEMA, orient="row"),
            pl.DataFrame(values, schema=_VALUES_SCHEMA, orient="row"),
        )
    cfg = pl.DataFrame(config, schema=_CONFIG_SCHEMA, orient="row")
    return _Slow(pieces, cfg, tuple(units), tuple(errors))


_CONFIG_SCHEMA = {_LINE: pl.Int64, "key": pl.String, "value": pl.String}


def _empty_config() -> pl.DataFrame:
    return pl.DataFrame(schema=_CONFIG_SCHEMA)


def _long_frame(pieces: Sequence[_Pieces], config: pl.DataFrame) -> pl.DataFrame:
    """Results + configuration lines -> to_long_rows' frame (config columns sorted, then
    RESULT_COLUMNS)."""
    if not pieces:
        return pl.DataFrame(schema=dict(RESULT_SCHEMA))
    results = pl.concat([p.results for p in pieces])
    values = pl.concat([p.values for p in pieces])
    if len(pieces) > 1:
        # Into line order; each result's values move as one block (their start in `values`).
        n_vals = results[_NVALS].to_numpy()
        starts = np.cumsum(n_vals) - n_vals
        order = results[_LINE].arg_sort().to_numpy()
        results = results[order]
        n_vals = n_vals[order]
        out_starts = np.cumsum(n_vals) - n_vals
        values = values[np.repeat(starts[order] - out_starts, n_vals) + np.arange(n_vals.sum())]
    # Stretch of results after the same configuration lines: how many precede the result.
    cfg_lines = config[_LINE].to_numpy()
    seg = np.searchsorted(cfg_lines, results[_LINE].to_numpy())
    results = results.with_columns(pl.Series(_SEG, seg, dtype=pl.Int64))
    in_force = _config_in_force(config, np.unique(seg))
    keys = sorted(c for c in in_force.columns if c != _SEG and c not in RESULT_SCHEMA)
    if "gomaxprocs" in in_force.columns:
        gmp_cfg = (
            pl.when(pl.col("gomaxprocs").str.contains(r"^[0-9]{1,19}$"))
            .then(pl.col("gomaxprocs").cast(pl.Int64, strict=False))
            .alias("Gmp cfg")
        )
        in_force = in_force.with_columns(gmp_cfg)
    else:
        in_force = in_force.with_columns(pl.lit(None, dtype=pl.Int64).alias("Gmp cfg"))
    results = results.join(in_force.select(_SEG, "Gmp cfg", *keys), on=_SEG, how="left")
    # The name's -N suffix: once per distinct name (a few thousand, not a result per line).
    names = results.select(pl.col(_FULL).unique()).with_columns(_split_gomaxprocs())
    results = results.join(names, on=_FULL, how="left").with_columns(_procs_and_name())
    # Keys no result carries are no column, as in rows built from dicts.
    keys = [k for k in keys if results[k].null_count() < results.height]
    per_value = np.repeat(np.arange(results.height), results[_NVALS].to_numpy())
    out = results.select(
        *keys,
        pl.col("Procs").cast(pl.String).alias("gomaxprocs"),
        pl.col("Name").alias("name"),
        pl.col(_FULL).alias("full_name"),
        pl.col(_ITERS).alias("iterations"),
        pl.col(_LINE).alias("lineno"),
    )[per_value]
    return out.with_columns(values[_UNIT].alias("unit"), values[_VALUE].alias("value"))


def _split_gomaxprocs() -> list[pl.Expr]:
    """benchfmt.split_gomaxprocs of column Full: Suffix (Int64, null: none) and Base."""
    digits = pl.col(_FULL).str.extract(r"-([0-9]{1,19})$")
    suffix = digits.cast(pl.Int64, strict=False)  # _atoi: more than int64 holds is no suffix
    cut = pl.col(_FULL).str.len_chars() - digits.str.len_chars() - 1
    base = pl.when(suffix.is_not_null()).then(pl.col(_FULL).str.slice(0, cut))
    return [suffix.alias("Suffix"), base.otherwise(pl.col(_FULL)).alias("Base")]


def _procs_and_name() -> list[pl.Expr]:
    """benchfmt's GOMAXPROCS and name of each result (columns Full, Suffix, Base, Gmp cfg)."""
    suffix, cfg = pl.col("Suffix"), pl.col("Gmp cfg")
    contradicts = suffix.is_not_null() & cfg.is_not_null() & (suffix != cfg)
    procs = (
        pl.when(suffix.is_null())
        .then(cfg.fill_null(1))
        .when(contradicts)
        .then(cfg)
        .otherwise(suffix)
    )
    name = pl.when(contradicts).then(pl.col(_FULL)).otherwise(pl.col("Base"))
    return [procs.alias("Procs"), name.alias("Name")]


def _config_in_force(config: pl.DataFrame, segs: np.ndarray) -> pl.DataFrame:
    """One row per stretch (Seg = how many configuration lines precede it), one String column
    per key: the value of the key's last line before the stretch (null: unset or deleted)."""
    seg_col = pl.Series(_SEG, segs, dtype=pl.Int64)
    if config.height == 0:
        return pl.DataFrame([seg_col])
    keys = config["key"].unique(maintain_order=True).to_list()
    # State after each configuration line: every key's last value so far ("" deleted it).
    state = config.select(
        pl.when(pl.col("key") == k).then(pl.col("value")).forward_fill().alias(k) for k in keys
    ).select(pl.when(pl.col(k) != "").then(pl.col(k)).alias(k) for k in keys)
    # Stretch s sees the state after line s - 1; stretch 0 (before any line) sees nothing.
    rows = state.gather(np.maximum(segs - 1, 0))
    rows = rows.select(pl.when(seg_col > 0).then(pl.col(k)).alias(k) for k in keys)
    return rows.with_columns(seg_col)


# --- the reference: the line parser's answer in the same shape ------------------------------


def reference_frame(records: Iterable[Record]) -> pl.DataFrame:
    """to_long_rows(records) as a frame shaped like `parse(...).frame`."""
    rows = list(benchfmt.to_long_rows(records))
    keys = sorted({k for r in rows for k in r} - set(RESULT_SCHEMA))
    schema = {**dict.fromkeys(keys, pl.String()), **RESULT_SCHEMA}
    return pl.DataFrame(rows, schema=schema)


def reference(text: str | bytes) -> BenchText:
    """The line parser's BenchText (benchfmt.parse -> to_long_rows): what `parse` must equal."""
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8")
    records = list(benchfmt.parse(text))
    return BenchText(
        reference_frame(records),
        tuple(r for r in records if isinstance(r, UnitMetadata)),
        tuple(r for r in records if isinstance(r, SyntaxErrorRecord)),
    )
