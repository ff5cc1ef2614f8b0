"""Numbers in the units people read: 12.1 ms (not 1.207e+04 µs), 2.62 KiB, +5.8%, ratios.

Pure: a number in, a string out; None and NaN give "" (nothing to show). Three significant
digits, trailing zeros kept so that a column of values lines up.
"""

from __future__ import annotations

import math

DIGITS = 3
TIMES = "\u00d7"  # the multiplication sign before a ratio
_DURATIONS = ((1.0, "ns"), (1e3, "µs"), (1e6, "ms"), (1e9, "s"))
_SIZES = ((1, "B"), (1024, "KiB"), (1024**2, "MiB"), (1024**3, "GiB"), (1024**4, "TiB"))


def _missing(x: float | None) -> bool:
    return x is None or math.isnan(x)


def sig(x: float, digits: int = DIGITS) -> str:
    """x with `digits` significant digits, never in exponent form."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    places = digits - 1 - math.floor(math.log10(abs(x)))
    rounded = round(x, places)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) != math.floor(math.log10(abs(x))):
        places -= 1  # 999.7 rounds to 1000: one digit fewer after the point
    return f"{rounded:.{max(0, places)}f}"


def _scaled(x: float, scales: tuple[tuple[float, str], ...], base: float) -> tuple[float, str]:
    """x in the largest unit it is at least one of; up one more when rounding reaches `base`
    (999.7 ns prints as 1.00 µs, not 1000 ns)."""
    i = max([0] + [k for k, (f, _) in enumerate(scales) if abs(x) >= f])
    if i + 1 < len(scales) and abs(float(sig(x / scales[i][0]))) >= base:
        i += 1
    return x / scales[i][0], scales[i][1]


def duration(ns: float | None) -> str:
    """A duration given in nanoseconds: `850 ns`, `1.21 µs`, `12.1 ms`, `3.20 s`."""
    if ns is None or _missing(ns):
        return ""
    if ns == 0:
        return "0 ns"
    value, unit = _scaled(ns, _DURATIONS, 1000)
    return f"{sig(value)} {unit}"


def duration_range(lo_ns: float | None, hi_ns: float | None) -> str:
    """`2.26-19.8 ms`: both ends in the unit of the larger one when they share it; one value
    when both ends print the same."""
    if lo_ns is None or hi_ns is None or _missing(lo_ns) or _missing(hi_ns):
        return ""
    lo, hi = duration(lo_ns), duration(hi_ns)
    if lo == hi:  # every run the same: one value
        return lo
    lo_num, lo_unit = lo.split(" ")
    hi_num, hi_unit = hi.split(" ")
    return f"{lo_num}-{hi_num} {hi_unit}" if lo_unit == hi_unit else f"{lo}-{hi}"


def size(n_bytes: float | None) -> str:
    """A size in bytes: `824 B`, `2.62 KiB`, `16.3 MiB` (binary units, as the runtime counts)."""
    if n_bytes is None or _missing(n_bytes):
        return ""
    if abs(n_bytes) < 1024:  # whole bytes up to 1023: three digits would round 1023 to 1020
        whole = float(n_bytes).is_integer() or abs(n_bytes) >= 100
        return f"{n_bytes:.0f} B" if whole else f"{sig(n_bytes)} B"
    value, unit = _scaled(n_bytes, _SIZES, 1024)
    return f"{sig(value)} {unit}"


def count(x: float | None) -> str:
    """A count: `271,042`; a median of counts may end in .5: `758.5`."""
    if x is None or _missing(x):
        return ""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.1f}"


def ratio(x: float | None) -> str:
    """A ratio to the baseline, after a times sign: 1.21, 0.966."""
    if x is None or _missing(x):
        return ""
    return f"{TIMES}{sig(x)}"


def percent(delta: float | None) -> str:
    """A signed change in percent: `+5.78%`, `-37.5%`, `+0.09%`, `0%`."""
    if delta is None or _missing(delta):
        return ""
    if delta == 0:
        return "0%"
    size = abs(delta)
    text = f"{size:.2f}" if size < 1 else sig(size)
    return f"{'+' if delta > 0 else '-'}{text}%"
