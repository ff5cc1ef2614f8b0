"""Headless Chromium for the report: install it, and open a page in it with the network off.

    python -m devtools.browser install                    # Debian's chromium, when missing
    python -m devtools.browser check [PAGE] [--screenshot PNG]

`install` runs `apt-get update` and `apt-get install -y chromium` when `chromium` is not on PATH
(`make test` does, before pytest: CI runs as root on a fresh Debian machine). `check` opens PAGE
(default reports/index.html) twice, offline (a dead proxy, every host name unresolvable):

- a probe page holds PAGE in a 1280-pixel-wide frame and reads what the browser laid out: each
  <figure>'s chart (an <svg> with a box and marks, no NaN coordinates), the page's own width
  (wide tables and charts scroll inside their boxes, never widen the page), every `#anchor`
  link's target, the resources the page loaded (none but itself), where "What changed" starts;
- a screenshot of the first screen, decoded here (pure Python PNG) to measure its ink: the share
  of pixels that are not white.

Prints the facts, the screenshot's path and every problem; exit status 1 when there is one.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from releaselab.core import entry
from releaselab.core.errors import LabError
from releaselab.core.paths import REPORTS

PACKAGE = "chromium"  # Debian's package and its command
APT_TIMEOUT = 1800.0  # seconds for each apt-get call (a fresh machine downloads ~100 MB)
RUN_TIMEOUT = 120.0  # seconds for one headless Chromium run
WIDTH, HEIGHT = 1280, 1000  # the first screen
BUDGET_MS = 5000  # virtual time the page gets to load and lay out before it is read
MIN_INK = 0.02  # a first screen with text and a table has more than 2% non-white pixels
WHITE = 245  # a pixel with every channel at or above this is background
# No network: every connection goes to a closed port, every name fails to resolve, and the
# browser's own background traffic (updates, sync, field trials) is off.
OFFLINE = (
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
)


class BrowserError(LabError):
    fix = (
        "install Debian's chromium: `.venv/bin/python -m devtools.browser install` as root "
        "(`make test` runs it), or `apt-get install -y chromium`"
    )


def find() -> Path | None:
    path = shutil.which(PACKAGE)
    return None if path is None else Path(path)


def _apt(apt: str, args: Sequence[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run([apt, *args], env=env, check=True, capture_output=True, text=True,
                       timeout=APT_TIMEOUT)  # fmt: skip
    except subprocess.CalledProcessError as err:
        tail = (err.stderr or err.stdout or "").strip().splitlines()[-3:]
        raise BrowserError(f"`apt-get {' '.join(args)}` failed: {' / '.join(tail)}") from err
    except subprocess.TimeoutExpired as err:
        raise BrowserError(f"`apt-get {' '.join(args)}` took over {APT_TIMEOUT:.0f} s") from err


def install() -> Path:
    """The chromium command, installed with apt-get first when it is not on PATH."""
    found = find()
    if found is not None:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        raise BrowserError(f"`{PACKAGE}` is not on PATH and this machine has no apt-get")
    if os.geteuid() != 0:
        raise BrowserError(f"`{PACKAGE}` is not on PATH; installing it with apt-get needs root")
    _apt(apt, ["update"])
    _apt(apt, ["install", "-y", PACKAGE])
    found = find()
    if found is None:
        raise BrowserError(f"apt-get installed {PACKAGE} but `{PACKAGE}` is not on PATH")
    return found


def _require() -> Path:
    found = find()
    if found is None:
        raise BrowserError(f"`{PACKAGE}` is not on PATH")
    return found


def _run(extra: Sequence[str], url: str, profile: Path) -> str:
    argv = [str(_require()), "--headless", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
            f"--virtual-time-budget={BUDGET_MS}", *OFFLINE, *extra, url]  # fmt: skip
    if os.geteuid() == 0:  # Chromium refuses to start as root with its sandbox on
        argv.insert(1, "--no-sandbox")
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                             check=False)  # fmt: skip
    except subprocess.TimeoutExpired as err:
        raise BrowserError(f"chromium did not finish {url} in {RUN_TIMEOUT:.0f} s") from err
    if res.returncode != 0:
        tail = " / ".join(res.stderr.strip().splitlines()[-3:])
        raise BrowserError(f"chromium exited with {res.returncode} on {url}: {tail}")
    return res.stdout


# --- the probe: what the browser laid out ---------------------------------------------------

_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="page" src="{url}" style="width:{width}px;height:{height}px;border:0"></iframe>
<pre id="result">{{"loaded": false}}</pre>
<script>
const frame = document.getElementById("page");
frame.addEventListener("load", () => {{
  let out;
  try {{
    const d = frame.contentDocument, w = frame.contentWindow;
    const charts = [...d.querySelectorAll("figure")].map(f => {{
      const svg = f.querySelector("svg");
      if (!svg) return {{svg: false}};
      const box = svg.getBoundingClientRect();
      return {{svg: true, width: box.width, height: box.height,
               marks: svg.querySelectorAll("path,rect,line,circle,polygon").length,
               nan: svg.outerHTML.includes("NaN")}};
    }});
    const boxes = [...d.querySelectorAll("div.scroll, figure")];
    const wide = boxes.filter(b => b.scrollWidth > b.clientWidth + 1);
    const links = [...d.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute("href"));
    const first = d.querySelector("h2");
    out = {{
      loaded: true,
      title: d.title,
      charts,
      page_width: d.documentElement.scrollWidth,
      view_width: d.documentElement.clientWidth,
      wide_boxes: wide.length,
      wide_boxes_scroll: wide.filter(b => ["auto", "scroll"].includes(
        w.getComputedStyle(b).overflowX)).length,
      links: links.length,
      broken_links: links.filter(h => !d.getElementById(decodeURIComponent(h.slice(1)))),
      resources: w.performance.getEntriesByType("resource").map(e => e.name),
      first_heading: first ? first.id : "",
      first_heading_top: first ? first.getBoundingClientRect().top : -1,
      text_length: d.body.innerText.length,
    }};
  }} catch (e) {{ out = {{loaded: false, error: String(e)}}; }}
  document.getElementById("result").textContent = JSON.stringify(out);
}});
</script></body></html>
"""
_RESULT = re.compile(r'<pre id="result">(.*?)</pre>', re.DOTALL)


def probe(page: Path) -> dict[str, Any]:
    """What the browser laid out of `page` (see the module doc): one headless run that dumps a
    probe page's DOM after the virtual-time budget."""
    with tempfile.TemporaryDirectory(prefix="report-probe-") as tmp:
        probe_page = Path(tmp) / "probe.html"
        probe_page.write_text(
            _PROBE.format(url=html.escape(page.resolve().as_uri()), width=WIDTH, height=HEIGHT),
            encoding="utf-8",
        )
        # file: pages are each their own origin: the probe may read its frame only with this
        out = _run(["--allow-file-access-from-files", "--dump-dom"], probe_page.as_uri(),
                   Path(tmp) / "profile")  # fmt: skip
    m = _RESULT.search(out)
    if m is None:
        raise BrowserError(f"the probe of {page} printed no result (is it an HTML page?)")
    result: dict[str, Any] = json.loads(html.unescape(m.group(1)))
    return result


def screenshot(page: Path, out: Path) -> Path:
    """A PNG of the first WIDTH x HEIGHT pixels of `page`, rendered offline."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-shot-") as tmp:
        _run([f"--screenshot={out.resolve()}"], page.resolve().as_uri(), Path(tmp) / "profile")
    if not out.is_file():
        raise BrowserError(f"chromium wrote no screenshot of {page} to {out}")
    return out


# --- PNG, decoded here: the check should not trust the browser that drew it -----------------

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel (8-bit, no palette)


def _paeth_row(line: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray(len(line))
    for i, x in enumerate(line):
        a = out[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        out[i] = (x + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return bytes(out)


def _average_row(line: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray(len(line))
    for i, x in enumerate(line):
        a = out[i - bpp] if i >= bpp else 0
        out[i] = (x + ((a + prev[i]) >> 1)) & 0xFF
    return bytes(out)


def png_pixels(data: bytes) -> npt.NDArray[np.uint8]:
    """The pixels of an 8-bit, non-interlaced, non-palette PNG: (height, width, channels)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace)")
    bpp = _CHANNELS[colour]
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        kind_byte = raw[start]
        line = np.frombuffer(raw, np.uint8, stride, start + 1)
        if kind_byte == 0:  # None
            row = line
        elif kind_byte == 1:  # Sub: a running sum along the row, per channel (uint8 wraps)
            row = line.reshape(-1, bpp).cumsum(axis=0, dtype=np.uint8).reshape(-1)
        elif kind_byte == 2:  # Up
            row = line + prev
        elif kind_byte == 3:  # Average
            row = np.frombuffer(_average_row(line.tobytes(), prev.tobytes(), bpp), np.uint8)
        elif kind_byte == 4:  # Paeth
            row = np.frombuffer(_paeth_row(line.tobytes(), prev.tobytes(), bpp), np.uint8)
        else:
            raise ValueError(f"row {y}: unknown PNG filter {kind_byte}")
        out[y] = row
        prev = out[y]
    return out.reshape(height, width, bpp)


def ink(pixels: npt.NDArray[np.uint8]) -> float:
    """The share of pixels that are not (near) white: 0 for a blank page."""
    colour = pixels[..., :3] if pixels.shape[2] >= 3 else pixels[..., :1]
    return float((colour < WHITE).any(axis=2).mean())


# --- the check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageCheck:
    page: Path
    screenshot: Path
    ink: float
    facts: dict[str, Any] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What is wrong with the page as a browser shows it; empty when nothing is."""
        f, out = self.facts, []
        if not f.get("loaded"):
            return [f"the page did not load in the probe: {f.get('error', 'no result')}"]
        for i, c in enumerate(f["charts"], 1):
            if not c["svg"]:
                out.append(f"figure {i} has no <svg> chart")
            elif c["width"] <= 0 or c["height"] <= 0 or c["marks"] == 0:
                out.append(f"figure {i}'s chart is empty ({c['width']}x{c['height']} px, "
                           f"{c['marks']} marks)")  # fmt: skip
            elif c["nan"]:
                out.append(f"figure {i}'s chart has NaN coordinates")
        if f["page_width"] > f["view_width"]:
            out.append(f"the page is {f['page_width']} px wide in a {f['view_width']} px view: "
                       "something wide does not scroll inside its box")  # fmt: skip
        if f["wide_boxes_scroll"] != f["wide_boxes"]:
            out.append("a wide table or chart box does not scroll (overflow-x)")
        out += [f"link {h} has no target on the page" for h in f["broken_links"]]
        out += [f"the page loaded {r}" for r in f["resources"]]
        if self.ink < MIN_INK:
            out.append(f"the screenshot is blank ({self.ink:.1%} ink) : {self.screenshot}")
        return out


def check(page: Path, shot: Path) -> PageCheck:
    """Open `page` in headless Chromium, offline; the screenshot goes to `shot`."""
    if not page.is_file():
        raise BrowserError(f"{page} does not exist (run the report stage: `dvc repro report`)")
    facts = probe(page)
    screenshot(page, shot)
    return PageCheck(page, shot, ink(png_pixels(shot.read_bytes())), facts)


def body(args: argparse.Namespace) -> int:
    if args.cmd == "install":
        print(install())
        return 0
    page = Path(args.page)
    result = check(page, Path(args.screenshot) if args.screenshot else page.with_suffix(".png"))
    f = result.facts
    print(f"{page}: {len(f.get('charts', []))} charts, {f.get('links', 0)} links, "
          f"{f.get('wide_boxes', 0)} boxes scrolling sideways, ink {result.ink:.1%}")  # fmt: skip
    print(f"screenshot: {result.screenshot}")
    problems = result.problems()
    for p in problems:
        print(f"problem: {p}")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = entry.parser("devtools.browser", __doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("install")
    p_check = sub.add_parser("check")
    p_check.add_argument("page", nargs="?", default=str(REPORTS / "index.html"))
    p_check.add_argument("--screenshot", help="PNG path (default: beside the page, .png)")
    return entry.run_tool(body, argv, args=parser)


if __name__ == "__main__":
    raise SystemExit(main())
