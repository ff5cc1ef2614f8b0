"""releaselab.bench.benchtext (the vectorised parser) against the line parser it must equal.

`benchtext.reference` is benchfmt.parse -> to_long_rows -> frame, the path the stage used before:
every generated text and every captured file must give the same frame, the same `Unit` records
and the same syntax errors (line numbers of the whole text) both ways.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from releaselab.bench import benchfmt, benchtext, session
from releaselab.core.errors import LabOutputError

DATA = Path(__file__).parent / "data" / "bench"
CAPTURED = sorted(DATA.rglob("*.txt"))
EXAMPLES = 600  # the property test's example count (reported by the issue that added it)


def assert_same(text: str) -> benchtext.BenchText:
    got = benchtext.parse(text)
    want = benchtext.reference(text)
    assert_frame_equal(got.frame, want.frame)
    assert got.units == want.units
    assert got.errors == want.errors
    assert got.unit_metadata() == benchfmt.unit_metadata(want.units)
    return got


# --- generated benchmark text ---------------------------------------------------------------

SEP = st.sampled_from(["\t", " ", "  ", " \t ", "\t\t", "   \t", "\x0b", "\xa0", "\u2003"])
NAME = st.one_of(
    st.sampled_from([
        "Sum", "Sum-2", "Sum-1", "Copy/size-1024", "Copy/size-1024-4", "A/b=c-8", "X-", "-",
        "", "-3", "Ünï/cødé-2", "a_b-16", "N-99999999999999999999", "N-0", "N-007", "T-\u0663",
        "Sub/x-2-2", "Tab\x0b-2", "Sum-9223372036854775807", "Sum-9223372036854775808",
    ]),
    st.text(st.characters(codec="ascii", exclude_characters="\n\r\t "), max_size=8),
)  # fmt: skip
INT = st.one_of(
    st.integers(0, 10**12).map(str),
    st.sampled_from(["+5", "-3", "007", "1_000", "abc", "99999999999999999999", "\u0663", "",
                     "0x10", "9223372036854775807", "9223372036854775808", "-9223372036854775808"]),
)  # fmt: skip
FLOAT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(0, 1e9).map(lambda f: f"{f:.2f}"),
    st.integers(0, 10**6).map(str),
    st.from_regex(r"[+-]?[0-9]{1,25}(\.[0-9]{0,25})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from([
        "1.5", ".5", "5.", "+3.25E-2", "1e3", "1e999", "-0", "inf", "-Inf", "NaN", "infinity",
        "1_0", "0x10", "abc", "\u0661", "1e", ".", "-", "+.e1",
        "0.1000000000000000055511151231257827",
        "2.2250738585072011e-308", "9007199254740993", "4.9e-324", "1e-400",
    ]),
)  # fmt: skip
UNIT = st.sampled_from(
    ["ns/op", "B/op", "allocs/op", "MB/s", "elems/op", "ns/elem", "custom-metric/op", "x", "1.5"]
)
KEY = st.one_of(
    st.sampled_from(["go", "gomaxprocs", "round", "order", "pkg", "cpu", "note", "name", "unit",
                     "value", "lineno", "iterations", "full_name", "go-version", "a.b/c"]),
    st.text(st.characters(codec="ascii", exclude_characters="\n\r"), min_size=1, max_size=5),
    st.sampled_from(["Goos", "my key", "camelCase", "é", "ß", "k\x0b"]),
)  # fmt: skip
VALUE = st.one_of(
    st.sampled_from(["", "1", "2", "4", "1.27.3", "abc", "007", "99999999999999999999", " x ",
                     "a\tb", "é", "AMD EPYC 7B13 64-Core Processor"]),
    st.text(st.characters(exclude_characters="\n"), max_size=6),
)  # fmt: skip


@st.composite
def result_line(draw: st.DrawFn) -> str:
    n_pairs = draw(st.sampled_from([0, 1, 1, 2, 3, 3, 4, 5]))
    parts = ["Benchmark" + draw(NAME), draw(INT)]
    for _ in range(n_pairs):
        parts += [draw(FLOAT), draw(UNIT)]
    if draw(st.integers(0, 9)) == 0:
        parts = parts[: draw(st.integers(1, len(parts)))]  # missing fields
    line = parts[0]
    for p in parts[1:]:
        line += draw(SEP) + p
    return line + draw(st.sampled_from(["", "", "", " ", "\t", "\u2028"]))


@st.composite
def go_test_line(draw: st.DrawFn) -> str:
    """A result as go test prints it: padded name, %8d, then tab-separated "%10.2f unit"."""
    n = draw(st.integers(1, 5))
    metrics = "".join(f"\t{draw(FLOAT):>12} {draw(UNIT)}" for _ in range(n))
    return f"Benchmark{draw(NAME):<20}\t{draw(INT):>8}{metrics}"


@st.composite
def config_line(draw: st.DrawFn) -> str:
    colon = draw(st.sampled_from([": ", ":", ":\t", ":  ", ": \t", "::", " : ", ":x"]))
    return draw(KEY) + colon + draw(VALUE)


UNIT_LINE = st.one_of(
    st.sampled_from([
        "Unit ns/op assume=exact", "Unit B/op assume=nothing better=higher", "Unit", "Unit x",
        "Unit\tallocs/op =bad x= assume=exact", "Unitx: y", "Unit: y", "Unit custom-metric/op a=b",
    ]),
    st.builds("Unit {} {}={}".format, UNIT, KEY, VALUE),
)  # fmt: skip
OTHER_LINE = st.one_of(
    st.sampled_from(["PASS", "ok  \texample.com/p\t0.1s", "", "BenchmarkSum", "Benchmark",
                     "FAIL", "--- BENCH: BenchmarkX", "    x_test.go:12: log", "\ufeffgo: 1"]),
    st.text(st.characters(exclude_characters="\n"), max_size=20),
)  # fmt: skip
LINE = st.one_of(
    result_line(), result_line(), go_test_line(), config_line(), config_line(), UNIT_LINE,
    OTHER_LINE,
)  # fmt: skip


@st.composite
def bench_text(draw: st.DrawFn) -> str:
    lines = draw(st.lists(LINE, max_size=40))
    eol = draw(st.sampled_from(["\n", "\n", "\r\n", "mixed"]))
    if eol == "mixed":
        ends = [draw(st.sampled_from(["\n", "\r\n", "\r\r\n"])) for _ in lines]
    else:
        ends = [eol] * len(lines)
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    no_final_newline = draw(st.booleans())
    if lines and no_final_newline:
        text = text[: -len(ends[-1])]  # no newline at the end
    # Text read from a UTF-8 file holds no lone surrogates (Polars could not hold them either).
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(bench_text())
@example("")
@example("\n\n")
@example("gomaxprocs: 1\nBenchmarkCopy/size-1024 \t 10\t 5.0 ns/op\n")
@example("BenchmarkX-99999999999999999999 99999999999999999999 1 ns/op\n")
@example("note: a\nBenchmarkA 1 1 ns/op\nnote:\nBenchmarkB 1 1 ns/op\n")
@example("name: n\nunit: u\nvalue: v\nlineno: l\nBenchmarkA-2 1 1 ns/op 2 B/op\n")
@example("gomaxprocs: 4\nBenchmarkA-2 1 1 ns/op\ngomaxprocs: x\nBenchmarkA-2 1 1 ns/op\n")
@example("BenchmarkA 1 1 ns/op\r\r\nBenchmarkB\t2\t3 x\r")
def test_both_parsers_give_the_same_frame_units_and_errors(text: str) -> None:
    assert_same(text)


@settings(max_examples=50, deadline=None, database=None)
@given(bench_text())
def test_bytes_parse_as_the_text(text: str) -> None:
    assert_frame_equal(benchtext.parse(text.encode()).frame, benchtext.parse(text).frame)


# --- the captured files (tests/data/bench) --------------------------------------------------


@pytest.mark.parametrize("path", CAPTURED, ids=lambda p: str(p.relative_to(DATA)))
def test_captured_files_parse_the_same_both_ways(path: Path) -> None:
    got = assert_same(path.read_text())
    n_results = sum(1 for ln in path.read_text().splitlines() if ln.startswith("Benchmark"))
    assert got.frame.select("lineno").n_unique() <= n_results
    assert got.frame.height > 0


def test_lab_capture_keeps_every_config_key_unit_and_custom_metric() -> None:
    got = assert_same((DATA / "lab.txt").read_text())
    df = got.frame
    assert set(df.columns) >= {
        "go",
        "round",
        "pkg",
        "goos",
        "goarch",
        "cpu",
        *benchtext.RESULT_COLUMNS,
    }
    metric = df.filter(pl.col("name") == "Metric").head(5)
    assert metric["unit"].to_list() == ["ns/op", "elems/op", "ns/elem", "B/op", "allocs/op"]
    assert set(df["gomaxprocs"].unique()) == {"1", "2"}
    assert df.filter(pl.col("gomaxprocs") == "2")["full_name"].str.ends_with("-2").all()
    assert got.unit_metadata() == {("B/op", "assume"): "exact", ("allocs/op", "assume"): "exact"}


def test_replicated_capture_parses_the_same_on_the_fast_path() -> None:
    text = (DATA / "pipeline" / "bench.txt").read_text() * 20
    assert not assert_same(text).errors


# --- session.parse on top of it -------------------------------------------------------------


def test_session_frame_is_the_line_parsers_rows() -> None:
    path = DATA / "pipeline" / "bench.txt"
    df = session.parse(path.read_text(), str(path))
    rows = list(benchfmt.to_long_rows(benchfmt.parse(path.read_text())))
    want = pl.DataFrame(
        [{"go": r["go"], "gomaxprocs": int(r["gomaxprocs"]),
          "target": r.get("target", "labs"), "lab": r.get("lab", ""),
          "package": r.get("pkg", ""), "name": r["name"], "round": int(r["round"]),
          "order": int(r["order"]), "iterations": r["iterations"], "unit": r["unit"],
          "value": r["value"], "host": r.get("host", "")} for r in rows],
        schema=session.BENCH_SCHEMA,
    )  # fmt: skip
    assert_frame_equal(df, want)


def test_session_reports_the_first_malformed_line_of_the_file() -> None:
    text = "go: 1\nround: 1\norder: 1\nBenchmarkA 1 1 ns/op\nBenchmarkB 1 é ns/op\nBenchmarkC 1\n"
    with pytest.raises(
        LabOutputError, match=r"^bench\.txt:5: parsing measurement: .*\(2 malformed"
    ):
        session.parse(text, "bench.txt")


def test_session_names_a_result_without_round_configuration() -> None:
    text = "go: 1\norder: 1\nBenchmarkA 1 1 ns/op\n"
    with pytest.raises(LabOutputError, match=r"^bench\.txt:3: a result without `round:`"):
        session.parse(text, "bench.txt")


def test_session_reads_round_as_int_does() -> None:
    text = "go: 1\nround: +1\norder: 1_0\nBenchmarkA 1 1 ns/op\n"
    df = session.parse(text, "bench.txt")
    assert (df["round"][0], df["order"][0]) == (1, 10)
    with pytest.raises(LabOutputError, match=r"^bench\.txt:4: `order: x` is not an integer"):
        session.parse("go: 1\nround: 1\norder: x\nBenchmarkA 1 1 ns/op\n", "bench.txt")
