"""The report page end to end, from real captured outputs (tests/helpers/report_data.py): written
by releaselab.report.document and opened offline in headless Chromium (devtools.browser).

Chromium is Debian's `chromium`; `make test` installs it before pytest (`python -m
devtools.browser install`). Without it these tests fail, never skip.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import vl_convert as vlc

from devtools import browser
from releaselab.core import config
from releaselab.report import document
from tests.helpers import report_data

MISSING = "chromium is not on PATH: `make test` installs it (`python -m devtools.browser install`)"


def _build(root: Path, overrides: list[str], only: tuple[str, ...] = ()) -> Path:
    parquet_root, build_root = report_data.make(root, only)
    document.build(config.compose(overrides), parquet_root, build_root, root / "reports")
    return root / "reports"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """reports/ of the captured data: 1.21.13 .. 1.27.3 against the baseline 1.25.5."""
    return _build(tmp_path_factory.mktemp("report"), ["go=recent"])


@pytest.fixture(scope="module")
def opened(reports: Path, tmp_path_factory: pytest.TempPathFactory) -> browser.PageCheck:
    assert browser.find() is not None, MISSING
    shot = tmp_path_factory.mktemp("screenshot") / "index.png"
    result = browser.check(reports / "index.html", shot)
    print(f"screenshot of the report's first screen: {result.screenshot}")
    return result


def _tree(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_chromium_is_installed_by_the_test_setup() -> None:
    assert browser.find() is not None, MISSING


def test_every_chart_draws_in_chromium(reports: Path, opened: browser.PageCheck) -> None:
    figures = (reports / "index.html").read_text(encoding="utf-8").count("<figure>")
    assert figures >= 4  # bench ratio, escape allocations, waits and requests ECDFs, stack
    assert len(opened.facts["charts"]) == figures
    assert [p for p in opened.problems() if "figure" in p] == []


def test_the_page_loads_nothing_with_the_network_off(opened: browser.PageCheck) -> None:
    assert opened.facts["loaded"]
    assert opened.facts["resources"] == []


def test_wide_tables_and_charts_scroll_in_their_box_not_the_page(
    opened: browser.PageCheck,
) -> None:
    f = opened.facts
    assert f["wide_boxes"] > 0  # the report has tables and charts wider than 1280 px
    assert f["wide_boxes_scroll"] == f["wide_boxes"]
    assert f["page_width"] <= f["view_width"]


def test_every_link_reaches_its_section(opened: browser.PageCheck) -> None:
    assert opened.facts["links"] > 10  # the contents and the summary's cells
    assert opened.facts["broken_links"] == []


def test_the_first_screen_shows_what_changed_and_is_not_blank(opened: browser.PageCheck) -> None:
    assert opened.facts["first_heading"] == "what-changed"
    assert 0 < opened.facts["first_heading_top"] < browser.HEIGHT / 3
    assert opened.screenshot.is_file()
    assert opened.ink >= browser.MIN_INK
    assert opened.problems() == []


def test_report_is_byte_identical_when_rebuilt_from_the_same_data(
    reports: Path, tmp_path: Path
) -> None:
    again = _build(tmp_path, ["go=recent"])
    assert _tree(again) == _tree(reports)


def test_one_toolchain_report_says_why_instead_of_empty_tables(tmp_path: Path) -> None:
    reports = _build(tmp_path, ["go=one"], only=("1.27.3",))
    page = (reports / "index.html").read_text(encoding="utf-8")
    md = (reports / "report.md").read_text(encoding="utf-8")
    assert re.search(r"<tbody>\s*</tbody>", page) is None
    assert re.search(r"\| --- \|\n\n", md) is None  # a Markdown header with no row under it
    assert "Only go 1.27.3 ran: nothing to compare it with" in md
    assert "Only go 1.27.3 ran: no other toolchain to compare with it." in md


def test_the_checker_names_what_is_broken(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><body><a href="#nowhere">x</a>'
        '<div style="width:3000px">a table that widens the page</div>'
        "<figure><p>no chart here</p></figure></body></html>",
        encoding="utf-8",
    )
    problems = browser.check(page, tmp_path / "broken.png").problems()
    assert "link #nowhere has no target on the page" in problems
    assert "figure 1 has no <svg> chart" in problems
    assert any(p.startswith("the page is 3") for p in problems)
    assert any(p.startswith("the screenshot is blank") for p in problems)


def test_png_decoder_reads_chromiums_screenshot_pixel_for_pixel(tmp_path: Path) -> None:
    page = tmp_path / "pattern.html"
    page.write_text(
        '<!DOCTYPE html><html><body style="margin:0;background:#fff">'
        '<div style="width:640px;height:500px;background:rgb(200,30,40)"></div>'
        '<div style="width:1280px;height:100px;background:linear-gradient(to right,#000,#fff)">'
        "</div></body></html>",
        encoding="utf-8",
    )
    pixels = browser.png_pixels(browser.screenshot(page, tmp_path / "pattern.png").read_bytes())
    assert pixels.shape[:2] == (browser.HEIGHT, browser.WIDTH)
    assert tuple(pixels[10, 10, :3]) == (200, 30, 40)
    assert tuple(pixels[400, 1000, :3]) == (255, 255, 255)
    ramp = pixels[550, :, 0].astype(float)  # black to white, dithered by a step or two
    expected = np.linspace(0, 255, browser.WIDTH)
    assert np.abs(ramp - expected).max() <= 3
    assert abs(browser.ink(pixels) - 0.35) < 0.02  # red block 25%, gradient ~10%


def test_png_decoder_reads_vl_converts_png() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">'
           '<rect width="100" height="40" fill="#fff"/><rect width="50" height="40" '
           'fill="#1f77b4"/></svg>')  # fmt: skip
    pixels = browser.png_pixels(vlc.svg_to_png(svg, scale=1))
    assert pixels.shape[:2] == (40, 100)
    assert tuple(pixels[20, 10, :3]) == (0x1F, 0x77, 0xB4)
    assert browser.ink(pixels) == 0.5
