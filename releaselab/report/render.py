"""Pure rendering helpers: tables and sections to Markdown and to one self-contained HTML page.

No timestamps, no absolute paths, stable ordering: the same data gives the same bytes.

A section opens with its `lead` (how to read it), then its tables and figures, then its notes and
`text` (the method). A table shows its `rows` (what changed first), folds its `folded` rows (the
unchanged ones) under a count, and says in one line (`empty`) why it has no rows at all instead of
printing a header with nothing under it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Link:
    """A cell that links to a section of the same page (its anchor: `slug(title)`)."""

    text: str
    anchor: str


Cell = str | int | float | Link | None
Row = tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    folded: tuple[Row, ...] = ()  # shown on demand, under `fold_label` (the unchanged rows)
    fold_label: str = ""  # e.g. "62 unchanged rows"; defaults to "<n> more rows"
    empty: str = ""  # why no row is shown, in one line (instead of the table, or before the fold)
    wrap: bool = False  # cells may wrap (prose); by default a wide table scrolls in its box


@dataclass(frozen=True)
class Section:
    title: str
    text: str = ""  # the method details, after the content
    tables: tuple[Table, ...] = ()
    figures: tuple[tuple[str, str], ...] = ()  # (markdown image path, inline SVG text)
    notes: tuple[str, ...] = field(default_factory=tuple)
    lead: str = ""  # two or three sentences on how to read the section, first

    @property
    def anchor(self) -> str:
        return slug(self.title)


def slug(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes; so that a
    link into report.md works on GitHub as it does in index.html."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def fmt(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.text
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _md_cell(value: Cell) -> str:
    text = _md_escape(fmt(value))
    return f"[{text}](#{value.anchor})" if isinstance(value, Link) and text else text


def _md_rows(columns: Sequence[str], rows: Sequence[Row]) -> str:
    head = "| " + " | ".join(_md_escape(c) for c in columns) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def fold_label(t: Table) -> str:
    return t.fold_label or f"{len(t.folded)} more rows"


def empty_text(t: Table) -> str:
    return t.empty or "No rows."


def table_md(t: Table) -> str:
    if not t.rows and not t.folded:
        return f"*{empty_text(t)}*"
    out = [_md_rows(t.columns, t.rows)] if t.rows else ([f"*{t.empty}*"] if t.empty else [])
    if t.folded:
        # GitHub renders a Markdown table inside <details> when blank lines surround it
        out.append(
            f"<details><summary>{html.escape(fold_label(t))}</summary>\n\n"
            f"{_md_rows(t.columns, t.folded)}\n\n</details>"
        )
    return "\n\n".join(out)


# A string cell that is one number, maybe with a unit or a sign (`12.1 ms`, `271,045`, `+5.8%`,
# a ratio): right-aligned like numbers, so that a column of them lines up.
_NUMERIC = re.compile(
    r"^[-+\u00d7]?\d{1,3}(?:,\d{3})*(?:\.\d+)?(?: ?(?:ns|µs|ms|s|B|KiB|MiB|GiB|%))?$"
)


def _html_cell(value: Cell) -> str:
    text = html.escape(fmt(value)).replace("\n", "<br>")
    if isinstance(value, Link) and text:
        text = f'<a href="#{html.escape(value.anchor)}">{text}</a>'
    num = isinstance(value, int | float) and not isinstance(value, bool)
    num = num or (isinstance(value, str) and _NUMERIC.match(value) is not None)
    return f'<td class="num">{text}</td>' if num else f"<td>{text}</td>"


def prose_html(text: str) -> str:
    """Escaped text with `code` spans as <code> (the Markdown page shows the backticks)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _html_rows(t: Table, rows: Sequence[Row]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(_html_cell(v) for v in row) + "</tr>\n" for row in rows)
    cls = ' class="wrap"' if t.wrap else ""
    # the box scrolls sideways, not the page: a wide table never widens the whole report
    return (
        f'<div class="scroll"><table{cls}>\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}</tbody>\n</table></div>"
    )


def table_html(t: Table) -> str:
    if not t.rows and not t.folded:
        return f'<p class="empty">{prose_html(empty_text(t))}</p>'
    out = [_html_rows(t, t.rows)] if t.rows else []
    if not t.rows and t.empty:
        out.append(f'<p class="empty">{prose_html(t.empty)}</p>')
    if t.folded:
        out.append(
            f'<details class="fold"><summary>{html.escape(fold_label(t))}</summary>\n'
            f"{_html_rows(t, t.folded)}\n</details>"
        )
    return "\n".join(out)


def _check_anchors(sections: Sequence[Section]) -> None:
    seen: dict[str, str] = {}
    for s in sections:
        if s.anchor in seen:
            raise ValueError(f"sections {seen[s.anchor]!r} and {s.title!r} share an anchor")
        seen[s.anchor] = s.title


def contents_md(sections: Sequence[Section]) -> str:
    return "\n".join(f"{i}. [{_md_escape(s.title)}](#{s.anchor})" for i, s in
                     enumerate(sections, 1))  # fmt: skip


def markdown(
    title: str, sections: Sequence[Section], *, subtitle: str = "", contents_after: int = 0
) -> str:
    """The report as Markdown; with contents_after > 0, a table of contents of the sections
    after the first contents_after ones is placed after them."""
    _check_anchors(sections)
    out = [f"# {title}", ""] + ([subtitle, ""] if subtitle else [])
    for i, s in enumerate(sections):
        if contents_after and i == contents_after:
            out += ["## Contents", "", contents_md(sections[contents_after:]), ""]
        out += [f"## {s.title}", ""]
        if s.lead:
            out += [s.lead, ""]
        for t in s.tables:
            out += [table_md(t), ""]
        for path, _svg in s.figures:
            out += [f"![{s.title}]({path})", ""]
        out += [f"> {n}" for n in s.notes] + ([""] if s.notes else [])
        if s.text:
            out += [f"*Method.* {s.text}" if s.lead else s.text, ""]
    return "\n".join(out).rstrip() + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:76rem;padding:0 1rem;"
    "color:#222;line-height:1.45}"
    "h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}"
    ".scroll{overflow-x:auto;max-width:100%;margin:.8rem 0}"
    "table{border-collapse:collapse;font-size:.85rem}"
    "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;"
    "white-space:nowrap}"
    "table.wrap td{white-space:normal;min-width:9rem}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f3f3f3}"
    "figure{margin:1rem 0;overflow-x:auto;max-width:100%}"
    "blockquote{color:#555;margin:.5rem 0 .5rem 1rem}"
    "p.lead{font-size:1.02rem}p.empty{color:#555;font-style:italic}"
    "details{margin:.5rem 0}summary{cursor:pointer;color:#245}"
    "details.method{color:#444;font-size:.92rem}"
    "code{font-size:.9em;background:#f4f4f4;padding:0 .2em}"
    "nav.toc ol{columns:2;column-gap:2rem}"
    "a{color:#0b5cad}"
)


def _section_html(s: Section) -> list[str]:
    parts = [f'<h2 id="{html.escape(s.anchor)}">{html.escape(s.title)}</h2>']
    if s.lead:
        parts.append(f'<p class="lead">{prose_html(s.lead)}</p>')
    parts += [table_html(t) for t in s.tables]
    parts += [f"<figure>{svg}</figure>" for _path, svg in s.figures]
    parts += [f"<blockquote>{prose_html(n)}</blockquote>" for n in s.notes]
    if s.text and s.lead:
        parts.append(
            f'<details class="method"><summary>Method</summary><p>{prose_html(s.text)}</p>'
            "</details>"
        )
    elif s.text:
        parts.append(f"<p>{prose_html(s.text)}</p>")
    return parts


def page(
    title: str, sections: Sequence[Section], *, subtitle: str = "", contents_after: int = 0
) -> str:
    """One HTML file with everything inline (CSS, SVG figures): it opens offline. Contents as
    in `markdown`."""
    _check_anchors(sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f"<p>{prose_html(subtitle)}</p>")
    for i, s in enumerate(sections):
        if contents_after and i == contents_after:
            items = "".join(
                f'<li><a href="#{html.escape(x.anchor)}">{html.escape(x.title)}</a></li>'
                for x in sections[contents_after:]
            )
            parts.append(f'<nav class="toc"><h2 id="contents">Contents</h2><ol>{items}</ol></nav>')
        parts += _section_html(s)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
