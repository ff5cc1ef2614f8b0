"""releaselab.bench.benchfmt on real `go test -bench` output (tests/data/bench, see capture.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest

from releaselab.bench import benchfmt
from releaselab.bench.benchfmt import Config, Other, Result, SyntaxErrorRecord, UnitMetadata

DATA = Path(__file__).parent / "data" / "bench"


def _results(text: str) -> list[Result]:
    return [r for r in benchfmt.parse(text) if isinstance(r, Result)]


@pytest.fixture(scope="module")
def lab_records() -> list[benchfmt.Record]:
    return list(benchfmt.parse((DATA / "lab.txt").read_text()))


@pytest.fixture(scope="module")
def plain_records() -> list[benchfmt.Record]:
    return list(benchfmt.parse((DATA / "plain.txt").read_text()))


def test_every_benchmark_line_of_real_output_is_a_result(
    lab_records: list[benchfmt.Record],
) -> None:
    lines = (DATA / "lab.txt").read_text().splitlines()
    n_bench = sum(1 for line in lines if line.startswith("Benchmark"))
    assert sum(isinstance(r, Result) for r in lab_records) == n_bench
    assert not [r for r in lab_records if isinstance(r, SyntaxErrorRecord)]


def test_gomaxprocs_1_has_no_suffix_and_takes_procs_from_config(
    lab_records: list[benchfmt.Record],
) -> None:
    first = next(r for r in lab_records if isinstance(r, Result))
    assert (first.full_name, first.name, first.procs) == ("Sum", "Sum", 1)
    assert first.config["gomaxprocs"] == "1"


def test_suffix_sets_procs_and_is_stripped_from_name(
    lab_records: list[benchfmt.Record],
) -> None:
    two = [r for r in lab_records if isinstance(r, Result) and r.config["gomaxprocs"] == "2"]
    assert two
    assert all(r.procs == 2 and r.full_name == f"{r.name}-2" for r in two)


def test_without_config_or_suffix_procs_is_1() -> None:
    (res,) = _results("BenchmarkX \t 10\t 5.0 ns/op\n")
    assert res.procs == 1


def test_numeric_suffix_that_contradicts_gomaxprocs_config_stays_in_name() -> None:
    # go test omits -1, so this is the sub-benchmark "size-1024" at GOMAXPROCS=1.
    (res,) = _results("gomaxprocs: 1\nBenchmarkCopy/size-1024 \t 10\t 5.0 ns/op\n")
    assert (res.name, res.procs) == ("Copy/size-1024", 1)


def test_config_lines_are_carried_by_later_results(lab_records: list[benchfmt.Record]) -> None:
    results = [r for r in lab_records if isinstance(r, Result)]
    assert {r.config["go"] for r in results} == {"1.25.5", "1.27.3"}
    assert {r.config["round"] for r in results} == {str(i) for i in range(1, 11)}
    assert all(r.config["pkg"] == "example.com/benchcap" for r in results)


def test_empty_config_value_deletes_the_key() -> None:
    res = _results("note: a\nBenchmarkA 1 1 ns/op\nnote:\nBenchmarkB 1 1 ns/op\n")
    assert res[0].config == {"note": "a"}
    assert res[1].config == {}


@pytest.mark.parametrize(
    ("line", "is_config"),
    [
        ("goos: linux", True),
        ("cpu: AMD EPYC 7B13 64-Core Processor", True),
        ("go-version: 1.27.3", True),
        ("Goos: linux", False),  # key must start lower-case
        ("my key: x", False),  # no spaces in the key
        ("camelCase: x", False),  # no upper case in the key
        ("key:value", False),  # a space or tab must follow the colon
        ("key:\tvalue", True),
        ("ok  \texample.com/benchcap\t0.1s", False),
        ("PASS", False),
    ],
)
def test_config_line_rules_follow_benchfmt(line: str, is_config: bool) -> None:
    (rec,) = benchfmt.parse(line)
    assert isinstance(rec, Config) is is_config


def test_all_values_and_custom_units_are_kept_in_order(
    lab_records: list[benchfmt.Record],
) -> None:
    metric = next(r for r in lab_records if isinstance(r, Result) and r.name == "Metric")
    assert [u for _, u in metric.values] == ["ns/op", "elems/op", "ns/elem", "B/op", "allocs/op"]
    assert metric.values[1] == (64.0, "elems/op")


def test_plain_go_test_output_keeps_pass_ok_and_verbose_names_as_other(
    plain_records: list[benchfmt.Record],
) -> None:
    others = [r.text for r in plain_records if isinstance(r, Other)]
    assert "PASS" in others
    assert "BenchmarkSum" in others  # `go test -v` announces each benchmark by name
    assert any(t.startswith("ok") for t in others)


def test_plain_output_with_cpu_list_yields_both_procs(
    plain_records: list[benchfmt.Record],
) -> None:
    procs = {(r.name, r.procs) for r in plain_records if isinstance(r, Result)}
    assert ("Copy", 1) in procs
    assert ("Copy", 2) in procs


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("BenchmarkX-2 ", "missing iteration count"),
        ("BenchmarkX-2 abc 1 ns/op", "parsing iteration count: invalid syntax"),
        ("BenchmarkX-2 10", "missing measurements"),
        ("BenchmarkX-2 10 1.5", "missing units"),
        ("BenchmarkX-2 10 fast ns/op", "parsing measurement: invalid syntax"),
        ("BenchmarkX-2 10 1 ns/op 2", "missing units"),
        # Go's strconv.Atoi: an iteration count is a Go int (the frame's Int64).
        ("BenchmarkX-2 9223372036854775808 1 ns/op", "parsing iteration count: value out of range"),
        ("BenchmarkX-2 99999999999999999999", "parsing iteration count: value out of range"),
    ],
)
def test_malformed_result_line_is_a_syntax_error_record(line: str, message: str) -> None:
    (rec,) = benchfmt.parse(line)
    assert rec == SyntaxErrorRecord(1, message, line)


def test_parsing_continues_after_a_syntax_error() -> None:
    recs = list(benchfmt.parse("BenchmarkA 10\nBenchmarkB 10 1 ns/op\n"))
    assert isinstance(recs[0], SyntaxErrorRecord)
    assert isinstance(recs[1], Result)
    assert recs[1].lineno == 2


def test_unit_lines_become_metadata(lab_records: list[benchfmt.Record]) -> None:
    units = [r for r in lab_records if isinstance(r, UnitMetadata)]
    assert units == [
        UnitMetadata("B/op", "assume", "exact", 1),
        UnitMetadata("allocs/op", "assume", "exact", 2),
    ]
    meta = benchfmt.unit_metadata(lab_records)
    assert benchfmt.is_exact_unit("allocs/op", meta)


def test_file_lines_and_text_parse_the_same() -> None:
    path = DATA / "plain.txt"
    with path.open() as fh:
        from_file = list(benchfmt.parse(fh))
    assert from_file == list(benchfmt.parse(path.read_text()))


def test_crlf_line_endings_are_dropped() -> None:
    (res,) = _results("BenchmarkA-2 10 1 ns/op\r\n")
    assert res.values == ((1.0, "ns/op"),)


def test_long_rows_have_one_row_per_value_with_config_columns(
    lab_records: list[benchfmt.Record],
) -> None:
    rows = list(benchfmt.to_long_rows(lab_records))
    results = [r for r in lab_records if isinstance(r, Result)]
    assert len(rows) == sum(len(r.values) for r in results)
    first = rows[0]
    assert {k: first[k] for k in ("go", "gomaxprocs", "round", "name", "unit", "value")} == {
        "go": "1.25.5",
        "gomaxprocs": "1",
        "round": "1",
        "name": "Sum",
        "unit": "ns/op",
        "value": results[0].values[0][0],
    }


@pytest.mark.parametrize(
    ("unit", "tidied", "factor"),
    [
        ("ns/op", "sec/op", 1e-9),
        ("MB/s", "B/s", 1e6),
        ("B/op", "B/op", 1.0),
        ("ns/elem", "sec/elem", 1e-9),
        ("elems/op", "elems/op", 1.0),
        ("B/ns", "B/ns", 1.0),  # only numerators are tidied
    ],
)
def test_tidy_unit_matches_benchunit(unit: str, tidied: str, factor: float) -> None:
    assert benchfmt.tidy_unit(unit) == (tidied, factor)


@pytest.mark.parametrize(
    ("unit", "exact"),
    [("B/op", True), ("allocs/op", True), ("ns/op", False), ("elems/op", False)],
)
def test_allocation_units_are_exact_by_default(unit: str, exact: bool) -> None:
    assert benchfmt.is_exact_unit(unit) is exact


def test_unit_metadata_overrides_the_default_assumption() -> None:
    meta = benchfmt.unit_metadata(benchfmt.parse("Unit B/op assume=nothing\n"))
    assert not benchfmt.is_exact_unit("B/op", meta)


@pytest.mark.parametrize(
    ("unit", "direction"),
    [("ns/op", -1), ("B/op", -1), ("allocs/op", -1), ("MB/s", 1), ("elems/op", 0)],
)
def test_better_direction(unit: str, direction: int) -> None:
    assert benchfmt.better_direction(unit) == direction
