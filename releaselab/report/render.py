"""Pure rendering helpers: tables and sections to Markdown and to one self-contained HTML page.

No timestamps, no absolute paths, stable ordering: the same data gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Section:
    title: str
    text: str = ""
    tables: tuple[Table, ...] = ()
    figures: tuple[tuple[str, str], ...] = ()  # (markdown image path, inline SVG text)
    notes: tuple[str, ...] = field(default_factory=tuple)


def fmt(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_md(t: Table) -> str:
    head = "| " + " | ".join(_md_escape(c) for c in t.columns) + " |"
    rule = "| " + " | ".join("---" for _ in t.columns) + " |"
    body = ["| " + " | ".join(_md_escape(fmt(v)) for v in row) + " |" for row in t.rows]
    return "\n".join([head, rule, *body])


def table_html(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>\n"
        for row in t.rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def markdown(title: str, sections: Sequence[Section]) -> str:
    out = [f"# {title}", ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        if s.text:
            out += [s.text, ""]
        for t in s.tables:
            out += [table_md(t), ""]
        for path, _svg in s.figures:
            out += [f"![{s.title}]({path})", ""]
        out += [f"> {n}" for n in s.notes] + ([""] if s.notes else [])
    return "\n".join(out).rstrip() + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}"
    "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
    "th{background:#f3f3f3}figure{margin:1rem 0}blockquote{color:#555}"
)


def page(title: str, sections: Sequence[Section]) -> str:
    """One HTML file with everything inline (CSS, SVG figures): it opens offline."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        if s.text:
            parts.append(f"<p>{html.escape(s.text)}</p>")
        parts += [table_html(t) for t in s.tables]
        parts += [f"<figure>{svg}</figure>" for _path, svg in s.figures]
        parts += [f"<blockquote>{html.escape(n)}</blockquote>" for n in s.notes]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
