"""The escape data path on real compiles: channels agree, functions named, diff, ledger."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from releaselab.core import paths, toolchains
from releaselab.core.gocmd import Toolchain
from releaselab.core.paths import PREDICTIONS as PREDICTIONS_FILE
from releaselab.escape import capture
from releaselab.escape import collect as escape
from releaselab.escape import data as escape_data
from releaselab.escape.gcflags_m import parse_m
from releaselab.escape.kinds import EscapeDiagnostic, Kind

PREDICTIONS = json.loads(PREDICTIONS_FILE.read_text())["predictions"]


@pytest.fixture(scope="module", params=["1.21.13", "1.27.3"])
def clinic(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, pl.DataFrame, pl.DataFrame]:
    """escape-clinic compiled for real by the build stage's own capture: (version, text, json)."""
    version = str(request.param)
    tc = toolchains.install(version)
    out = tmp_path_factory.mktemp(f"clinic-{version}")
    capture.capture_escape(
        tc,
        "escape-clinic",
        cwd=paths.WORKSPACE / "escape-clinic",
        patterns=["./..."],
        out=out,
        timeout=600,
    )
    text, js = escape.parse_unit(out / "escape" / "escape-clinic", go=version)
    return version, text, js


def test_frame_has_the_contract_columns(clinic: tuple[str, pl.DataFrame, pl.DataFrame]) -> None:
    _, text, _ = clinic
    assert text.schema == pl.Schema(escape_data.SCHEMA)
    assert text.height > 50


def test_every_text_diagnostic_the_json_can_express_is_in_the_json(
    clinic: tuple[str, pl.DataFrame, pl.DataFrame],
) -> None:
    _, text, js = clinic
    checked = escape_data.cross_check(text, js).filter(pl.col("in_json").is_not_null())
    assert checked.height > 50
    assert checked.filter(~pl.col("in_json")).select("file", "line", "kind").rows() == []


def test_every_json_diagnostic_of_the_package_is_in_the_text(
    clinic: tuple[str, pl.DataFrame, pl.DataFrame],
) -> None:
    _, text, js = clinic
    assert escape_data.json_only(text, js).select("file", "line", "kind").rows() == []


def test_functions_are_named_for_rows_inside_them(
    clinic: tuple[str, pl.DataFrame, pl.DataFrame],
) -> None:
    _, text, _ = clinic
    named = escape_data.attribute_functions(text)
    moved = named.filter(pl.col("kind") == "moved_to_heap", pl.col("file").str.ends_with("/a.go"))
    assert moved.select("line", "subject", "function").rows() == [(7, "x", "A")]


def test_the_compiler_decides_what_each_prediction_says(
    clinic: tuple[str, pl.DataFrame, pl.DataFrame],
) -> None:
    version, text, _ = clinic
    led = escape_data.ledger(text, PREDICTIONS, {version: version}, allocs=None)
    wrong = led.filter(pl.col("verdict") == "prediction_wrong")
    assert wrong.select("case", "variant", "subject", "predicted", "compiler").rows() == []


def test_release_diff_finds_the_variable_make_that_stopped_escaping() -> None:
    frames = []
    for version in ("1.21.13", "1.27.3"):
        text = (Path(__file__).parent / "data/escape" / version / "small-m2.txt").read_text()
        frames.append(escape_data.diagnostics_frame(parse_m(text), go=version, lab="small"))
    diff = escape_data.release_diff(pl.concat(frames), ["1.21.13", "1.27.3"])
    changed = diff.filter(pl.col("subject") == "make([]int, n)")
    assert changed.select("change", "kind_before", "kind_after").rows() == [
        ("changes_kind", "escapes", "does_not_escape")
    ]


def test_release_diff_of_one_toolchain_is_empty() -> None:
    assert escape_data.release_diff(pl.DataFrame(schema=escape_data.SCHEMA), ["1.27.3"]).is_empty()


@pytest.mark.parametrize(
    ("version", "subject", "allocs"),
    [("1.24.11", "x", 1), ("1.25.5", "1000", 0), ("1.27.3", "1000", 0)],
)
def test_since_go_overrides_apply_from_their_release(
    version: str, subject: str, allocs: int
) -> None:
    (flocal,) = [p for p in PREDICTIONS if p["case"] == "Flocal" and p["variant"] == "before"]
    p = escape_data.prediction_for(flocal, version)
    assert (p["subject"], p["allocs_per_call"]) == (subject, allocs)


@pytest.mark.parametrize(
    ("predicted", "compiler", "predicted_allocs", "allocs", "expected"),
    [
        ("moved_to_heap", "moved_to_heap", 1, 1.0, "agree"),
        ("escapes", "escapes", 0, 0.0, "escapes_not_allocated"),
        ("escapes", "does_not_escape", 1, 1.0, "prediction_wrong"),
        ("does_not_escape", "does_not_escape", 0, 1.0, "prediction_wrong"),
        ("escapes", "escapes", 1, None, "agree"),
    ],
)
def test_verdicts(
    predicted: str, compiler: str, predicted_allocs: int, allocs: float | None, expected: str
) -> None:
    assert escape_data.verdict(predicted, compiler, predicted_allocs, allocs) == expected


def test_every_prediction_names_a_benchmark_that_the_lab_has(go_newest: Toolchain) -> None:
    src = (paths.WORKSPACE / "escape-clinic" / "cases" / "bench_test.go").read_text()
    for p in PREDICTIONS:
        top = p["benchmark"].split("/")[0]
        assert f"func {top}(b *testing.B)" in src, p


# --- the text/JSON comparison (releaselab.escape.data), one rule per test ---------------------


def _frame(rows: list[tuple[str, int, int | None, str, str | None]], channel: str) -> pl.DataFrame:
    """Rows of package p: (file, line, col, kind, detail)."""
    diags = [
        EscapeDiagnostic(i, "p", f, ln, c, Kind(k), "x", "m", detail=d, channel=channel)
        for i, (f, ln, c, k, d) in enumerate(rows, 1)
    ]
    return escape_data.diagnostics_frame(diags, go="1.27.3", lab="u")


def _agree(text: pl.DataFrame, js: pl.DataFrame) -> tuple[int, ...]:
    (row,) = escape_data.agreement(text, js).iter_rows(named=True)
    keys = ("json_diagnostics", "found", "missing", "text_verdicts", "not_in_json", "other")
    return tuple(row[k] for k in keys)


def test_channels_agree_when_kinds_differ_within_a_family() -> None:
    text = _frame([("p/a.go", 3, 4, "moved_to_heap", None), ("p/a.go", 5, 6, "leaking_param",
                   None)], "text")  # fmt: skip
    js = _frame([("p/a.go", 3, 4, "escapes", None), ("p/a.go", 5, 6, "leaking_param_to_result",
                 "~r0 level=0")], "json")  # fmt: skip
    assert _agree(text, js) == (2, 2, 0, 2, 0, 0)


def test_a_text_verdict_the_json_lacks_is_counted() -> None:
    text = _frame([("p/a.go", 3, 4, "escapes", None)], "text")
    js = _frame([("p/a.go", 9, 4, "can_inline", "cost 2")], "json")
    assert _agree(text, js) == (1, 0, 1, 1, 1, 0)


def test_a_file_whose_json_another_file_of_its_name_took_is_not_asked_for() -> None:
    # -json writes one type.json per base name: reflect/type.go's was sync/atomic/type.go's.
    text = _frame([("p/type.go", 3, 4, "escapes", None), ("q/type.go", 1, 2, "escapes", None)],
                  "text")  # fmt: skip
    js = _frame([("q/type.go", 1, 2, "escapes", None)], "json")
    checked = escape_data.cross_check(text, js)
    assert checked["in_json"].to_list() == [None, None]


def test_a_bodyless_functions_assumed_leak_is_not_asked_for() -> None:
    text = _frame([("p/a.go", 7, 6, "cannot_inline", "no function body"),
                   ("p/a.go", 7, 12, "leaking_param", None)], "text")  # fmt: skip
    js = _frame([("p/a.go", 7, 6, "cannot_inline", "no function body")], "json")
    assert escape_data.cross_check(text, js)["in_json"].to_list() == [True, None]


def test_go_1_21_recursive_cannot_inline_is_not_asked_for() -> None:
    text = _frame([("p/a.go", 7, 6, "cannot_inline", "recursive")], "text")
    js = _frame([("p/b.go", 1, 6, "can_inline", "cost 3")], "json")
    assert escape_data.cross_check(text, js)["in_json"].to_list() == [None]


def test_a_cgo_source_file_is_not_asked_for() -> None:
    text = _frame([("p/c.go", 7, 6, "can_inline", "cost 3")], "text")
    js = _frame([("c.cgo1.go", 40, 6, "can_inline", "cost 3")], "json")
    assert escape_data.cross_check(text, js)["in_json"].to_list() == [None]


def test_a_column_past_255_matches_the_jsons_255() -> None:
    text = _frame([("p/a.go", 103, None, "escapes", None)], "text")
    js = _frame([("p/a.go", 103, 255, "escapes", None)], "json")
    assert _agree(text, js) == (1, 1, 0, 1, 0, 0)


def test_rows_of_no_known_form_are_counted_as_a_share() -> None:
    text = _frame([("p/a.go", 3, 4, "other", None), ("p/a.go", 3, 5, "does_not_escape", None)],
                  "text")  # fmt: skip
    (row,) = escape_data.text_agreement(escape_data.cross_check(text, text)).iter_rows(named=True)
    assert (row["rows"], row["other"], row["other_pct"]) == (2, 1, 50.0)


def test_a_main_packages_json_rows_match_its_text_rows() -> None:
    text = escape_data.diagnostics_frame(
        parse_m("# example.com/tool\n./main.go:3:6: can inline f with cost 2 as: func() { }\n"),
        go="1.27.3", lab="tool",
    )  # fmt: skip
    js = text.with_columns(package=pl.lit("main"))
    assert escape_data.align_main_package(text, js)["package"].to_list() == [text["package"][0]]
