"""Numbers in human units (releaselab.report.human): 12.1 ms, not 1.207e+04 µs."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releaselab.report import human

NS = {"ns": 1.0, "µs": 1e3, "ms": 1e6, "s": 1e9}
BYTES = {"B": 1.0, "KiB": 1024.0, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


@pytest.mark.parametrize(
    ("ns", "text"),
    [(1.207e7, "12.1 ms"), (134.39999999999998, "134 ns"), (999.7, "1.00 µs"), (0.6283, "0.628 ns"),
     (5.659e6, "5.66 ms"), (3.2e9, "3.20 s"), (0, "0 ns"), (None, ""), (math.nan, "")],
)  # fmt: skip
def test_durations_print_in_the_unit_that_fits(ns: float | None, text: str) -> None:
    assert human.duration(ns) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [(8, "8 B"), (824, "824 B"), (1023.6, "1024 B"), (1024, "1.00 KiB"), (2688, "2.62 KiB"),
     (16.28 * 1024**2, "16.3 MiB"), (None, "")],
)  # fmt: skip
def test_sizes_print_in_binary_units(n: float | None, text: str) -> None:
    assert human.size(n) == text


def test_a_range_shares_its_unit_when_both_ends_have_it() -> None:
    assert human.duration_range(2.26e6, 1.98e7) == "2.26-19.8 ms"
    assert human.duration_range(1220, 114_000) == "1.22-114 µs"
    assert human.duration_range(640, 6070) == "640 ns-6.07 µs"
    assert human.duration_range(64, 64.04) == "64.0 ns"


def test_counts_ratios_and_changes() -> None:
    assert (human.count(271042), human.count(758.5)) == ("271,042", "758.5")
    x = human.TIMES
    assert (human.ratio(1.2093), human.ratio(0.96634)) == (f"{x}1.21", f"{x}0.966")
    assert [human.percent(x) for x in (5.78, -37.5, -0.114, 0)] == ["+5.78%", "-37.5%",
                                                                    "-0.11%", "0%"]  # fmt: skip


def _read_back(text: str, units: dict[str, float]) -> float:
    m = re.fullmatch(r"(-?[\d.]+) (\S+)", text)
    assert m is not None, text
    assert "e" not in m.group(1)
    return float(m.group(1)) * units[m.group(2)]


@given(st.floats(min_value=0.01, max_value=1e13))
def test_a_duration_reads_back_to_three_significant_digits(ns: float) -> None:
    text = human.duration(ns)
    assert math.isclose(_read_back(text, NS), ns, rel_tol=5e-3)
    number, unit = text.split()
    assert float(number) < 1000 or unit == "s"  # never "1000 ns": the next unit up


@given(st.floats(min_value=0, max_value=1e15))
def test_a_size_reads_back_to_three_significant_digits(n: float) -> None:
    assert math.isclose(_read_back(human.size(n), BYTES), n, rel_tol=5e-3, abs_tol=0.5)
