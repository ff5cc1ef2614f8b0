"""The report's rendering (releaselab.report.render): what changed first, the unchanged folded,
an empty comparison in one line, links to sections, contents, wide tables in scrolling boxes."""

from __future__ import annotations

import re

import pytest

from releaselab.report import human, render
from releaselab.report.render import Link, Section, Table

COLS = ("benchmark", "go 1.25.5", "go 1.27.3")
X = human.TIMES


def _page(*sections: Section, contents_after: int = 0) -> tuple[str, str]:
    return (
        render.markdown("t", sections, contents_after=contents_after),
        render.page("t", sections, contents_after=contents_after),
    )


def test_a_table_without_rows_says_why_in_one_line_instead_of_a_header() -> None:
    why = "Only go 1.27.3 ran: no other toolchain to compare with it."
    md, page = _page(Section("Scheduling", tables=(Table(COLS, (), empty=why),)))
    assert f"*{why}*" in md
    assert f'<p class="empty">{why}</p>' in page
    assert "| benchmark |" not in md
    assert "<table" not in page


def test_unchanged_rows_fold_under_a_count_after_the_changed_ones() -> None:
    table = Table(COLS, (("Prealloc", "8", "5 · -37.50% (n=6)"),),
                  folded=(("A", "1", "1 · 0.00% (n=6)"), ("B", "1", "1 · 0.00% (n=6)")),
                  fold_label="2 rows with the same value in every toolchain")  # fmt: skip
    md, page = _page(Section("Benchmarks", tables=(table,)))
    changed, fold = page.index("Prealloc"), page.index("<details")
    assert changed < fold < page.index(">A<")
    assert "<summary>2 rows with the same value in every toolchain</summary>" in page
    # the folded rows keep their header; GitHub renders a Markdown table inside <details>
    assert md.count("| benchmark |") == 2
    assert "<details><summary>2 rows with the same value in every toolchain</summary>\n\n|" in md


def test_a_table_of_folded_rows_only_says_so_before_the_fold() -> None:
    table = Table(COLS, (), folded=(("A", "1", "1"),), fold_label="1 row",
                  empty="escape-clinic, B/op: no benchmark changed.")  # fmt: skip
    _, page = _page(Section("Benchmarks", tables=(table,)))
    assert page.index("no benchmark changed") < page.index("<details")


def test_link_cells_point_at_the_section_they_name() -> None:
    target = Section("Scheduling latency across toolchains", tables=(Table(COLS, (("x", 1, 2),)),))
    link = Link(f"requests {X}1.06", target.anchor)
    summary = Section("What changed", tables=(Table(("toolchain", "p99"), (("go 1.27.3", link),)),))
    md, page = _page(summary, target)
    assert f'<a href="#scheduling-latency-across-toolchains">requests {X}1.06</a>' in page
    assert '<h2 id="scheduling-latency-across-toolchains">' in page
    assert f"[requests {X}1.06](#scheduling-latency-across-toolchains)" in md


@pytest.mark.parametrize(
    ("title", "anchor"),
    [
        ("runtime/metrics /sched/latencies against the trace",
         "runtimemetrics-schedlatencies-against-the-trace"),
        ("Stack growth: peak and final StackInuse per phase, GOMAXPROCS=1",
         "stack-growth-peak-and-final-stackinuse-per-phase-gomaxprocs1"),
        ("Escape diagnostics: text and JSON agree", "escape-diagnostics-text-and-json-agree"),
    ],
)  # fmt: skip
def test_anchors_are_githubs_so_report_md_links_work_there(title: str, anchor: str) -> None:
    assert render.slug(title) == anchor


def test_contents_list_every_section_after_the_summary() -> None:
    secs = [Section("What changed"), Section("Benchmarks"), Section("Stack growth: overhead")]
    md, page = _page(*secs, contents_after=1)
    assert md.index("## What changed") < md.index("## Contents") < md.index("## Benchmarks")
    assert "1. [Benchmarks](#benchmarks)\n2. [Stack growth: overhead](#stack-growth-overhead)" in md
    nav = re.search(r'<nav class="toc">.*?</nav>', page)
    assert nav is not None
    assert nav.group(0).count("<li>") == 2


def test_two_sections_with_one_anchor_are_refused() -> None:
    with pytest.raises(ValueError, match="share an anchor"):
        render.markdown("t", [Section("runtime/metrics"), Section("Runtimemetrics!")])


def test_every_table_sits_in_a_box_that_scrolls_sideways() -> None:
    wide = Table(tuple(f"column {i}" for i in range(40)), (tuple(range(40)),))
    _, page = _page(Section("Wide", tables=(wide,)))
    assert '<div class="scroll"><table>' in page
    assert ".scroll{overflow-x:auto" in page


def test_the_lead_comes_first_and_the_method_after_the_content() -> None:
    sec = Section("Benchmarks", lead="How to read it.", text="The method in detail.",
                  tables=(Table(COLS, (("A", 1, 2),)),))  # fmt: skip
    md, page = _page(sec)
    assert md.index("How to read it.") < md.index("| A |") < md.index("*Method.* The method")
    assert (
        page.index('<p class="lead">')
        < page.index("<table")
        < page.index('<details class="method"><summary>Method</summary>')
    )


def test_numbers_with_units_are_right_aligned_and_labels_are_not() -> None:
    table = Table(("go", "p99", "count", "ratio", "sha256"),
                  (("1.27.3", "12.1 ms", "271,045", f"{X}1.06", "5655374757306129"),))  # fmt: skip
    _, page = _page(Section("S", tables=(table,)))
    assert "<td>1.27.3</td>" in page
    assert "<td>5655374757306129</td>" in page  # a hash prefix of digits is not a number
    assert '<td class="num">12.1 ms</td><td class="num">271,045</td>' in page
    assert f'<td class="num">{X}1.06</td>' in page
