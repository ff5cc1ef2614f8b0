"""The whole standard library compiled live, both channels of one compile compared: every
escape, leak and inlining diagnostic of -json is a text row of a compatible kind, every text
verdict is in the JSON, and almost nothing is left as `other`.

`go build -gcflags='-m=2 -json=0,DIR' std` through the build stage's own capture (a fresh -json
directory, so nothing is replayed from the build cache): about 40 s per toolchain on 2 idle cores,
plus about 25 s to parse its 1.4-2.1 M lines of text and the JSON; the three took 5.5 min on a
shared, loaded machine.
"""

from __future__ import annotations

import polars as pl
import pytest

from releaselab.core import toolchains
from releaselab.escape import capture
from releaselab.escape import collect as escape
from releaselab.escape import data as escape_data

pytestmark = pytest.mark.slow

OTHER_PCT_MAX = 0.5


@pytest.fixture(scope="module", params=["1.21.13", "1.24.11", "1.27.3"])
def std(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(text rows, JSON rows) of one live compile of `std`."""
    version = str(request.param)
    tc = toolchains.install(version)
    out = tmp_path_factory.mktemp(f"std-{version}")
    capture.capture_escape(tc, "std", cwd=out, patterns=["std"], out=out, timeout=900)
    return escape.parse_unit(out / "escape" / "std", go=version)


def test_every_json_diagnostic_is_a_text_row_of_a_compatible_kind(
    std: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    text, js = std
    found = escape_data.json_found(text, js)
    assert found.height > 50_000
    missing = found.filter(~pl.col("in_text"))
    assert missing.select("package", "file", "line", "col", "kind", "message").rows() == []


def test_every_text_verdict_is_in_the_json(std: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    text, js = std
    checked = escape_data.cross_check(text, js).filter(pl.col("in_json").is_not_null())
    assert checked.height > 50_000
    lacking = checked.filter(~pl.col("in_json"))
    assert lacking.select("package", "file", "line", "col", "kind", "message").rows() == []


def test_rows_of_no_known_form_are_at_most_half_a_percent(
    std: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    text, js = std
    (row,) = escape_data.agreement(text, js).iter_rows(named=True)
    assert row["other_pct"] <= OTHER_PCT_MAX, row
    assert (row["missing"], row["not_in_json"]) == (0, 0)


def test_the_agreement_table_counts_what_the_report_shows(
    std: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    text, js = std
    both = escape_data.agreement(text, js)
    shown = escape_data.text_agreement(escape_data.cross_check(text, js))
    assert both.select(shown.columns).rows() == shown.rows()
