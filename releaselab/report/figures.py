"""Altair charts to files: SVG (inlined into index.html) and PNG, byte-stable, no network.

Charts get data already aggregated in Polars: Chart.save() would inline every row and skip
Altair's row guard, so callers hand over summaries, never raw samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import vl_convert as vlc

MAX_ROWS = 20_000  # a chart with more rows than this was not aggregated first
# Vega expression: an axis of microseconds labelled in human units (500 ns, 20 µs, 12 ms, 1 s)
MICROSECONDS_LABEL = (
    "datum.value >= 1e6 ? format(datum.value / 1e6, '~g') + ' s' : "
    "datum.value >= 1e3 ? format(datum.value / 1e3, '~g') + ' ms' : "
    "datum.value >= 1 ? format(datum.value, '~g') + ' µs' : "
    "format(datum.value * 1e3, '~g') + ' ns'"
)


def spec_json(chart: alt.TopLevelMixin) -> str:
    """The Vega-Lite spec with sorted keys, so equal charts give equal text."""
    # render() enforces MAX_ROWS; Altair's own 5,000-row guard would refuse a summary of
    # go=all x 4 GOMAXPROCS (7 x 4 x 6 workloads x 102 ECDF levels = 17,136 rows)
    with alt.data_transformers.disable_max_rows():
        return json.dumps(json.loads(chart.to_json()), sort_keys=True)


def render(chart: alt.TopLevelMixin, figures_dir: Path, name: str) -> tuple[str, str]:
    """Write <name>.svg and <name>.png; return (markdown path, SVG text) for render.Section."""
    spec = spec_json(chart)
    rows = sum(len(v) for v in json.loads(spec).get("datasets", {}).values())
    if rows > MAX_ROWS:
        raise ValueError(f"chart {name} has {rows} rows; aggregate in Polars before charting")
    figures_dir.mkdir(parents=True, exist_ok=True)
    svg = vlc.vegalite_to_svg(spec)
    (figures_dir / f"{name}.svg").write_text(svg, encoding="utf-8")
    # rasterise the SVG rather than run Vega a second time: same bytes, half the time
    (figures_dir / f"{name}.png").write_bytes(vlc.svg_to_png(svg, scale=2))
    return f"{_from_reports(figures_dir)}/{name}.svg", svg


def _from_reports(figures_dir: Path) -> str:
    """figures_dir as report.md links it: from the last `figures` part on (a host's figures
    live in figures/host=H/)."""
    parts = figures_dir.parts
    if "figures" not in parts:  # a directory of a test's: linked as the report's figures/
        return "figures"
    return "/".join(parts[len(parts) - 1 - parts[::-1].index("figures") :])
