"""benchstat's statistics (golang.org/x/perf/benchmath + benchtab), vectorised over Polars frames.

Reproduced rules (read from benchmath/anone.go, aexact.go, sample.go, go-moremath's stats):
- AssumeNothing: center = median (R8 quantile); 95% CI from the order statistics that the
  binomial distribution picks (moremath QuantileCI: exact binomial for n <= 30, normal
  approximation above); too few samples -> no interval and "need >= 6 samples ..." warning.
  Comparison: two-sided Mann-Whitney U. Exact distribution when n1, n2 <= 50 without ties or
  n1, n2 <= 25 with ties (the exact distribution *given the ties*, Klotz), else the normal
  approximation with tie and continuity correction. All values equal -> p = 1 and
  "all samples are equal". p > alpha is "~" (so p == alpha counts as a difference).
  The exact p reads the tail the observation is in and is clamped to 1, and too few samples
  are never a difference (DIFFERENCES_FROM_BENCHSTAT).
- AssumeExact: center = mode, interval = [min, max], a warning unless all values are equal;
  comparison p = 0 (a different value is a difference).
- geomean row: geomean of each column's centers and of the per-benchmark ratios to the
  baseline (0/0 counts as 1), warnings when values are not > 0 or benchmark sets differ.
Beyond benchstat: every column is compared with one baseline at once and Holm-Bonferroni
adjusts the p-values over that family; `aa_false_positive_rate` checks the test on A/A pairs.
Where benchstat is wrong we are not: DIFFERENCES_FROM_BENCHSTAT lists every intended difference
(the one place; docs/FINDINGS.md explains them, tests/test_stats_differential.py applies exactly
these to real benchstat's output and compares everything else).

Frames are long format: one row per measured value with columns `go`, `gomaxprocs`, `name`,
`unit`, `value` (more are ignored). Units are used as given (tidy them first for benchstat's
display units); which units are exact is the caller's choice (default B/op, allocs/op).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from functools import cache, lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from releaselab.bench.benchfmt import DEFAULT_EXACT_UNITS

__all__ = [
    "DIFFERENCES_FROM_BENCHSTAT",
    "STATS_COLUMNS",
    "AAResult",
    "aa_false_positive_rate",
    "compare",
    "format_ci",
    "format_delta",
    "format_p",
    "geomean",
    "holm",
    "mann_whitney_p",
    "median_ci_orders",
    "summarize",
    "too_few_samples",
]

CONFIDENCE = 0.95
ALPHA = 0.05
# benchmath's limits for the exact U distribution (moremath MannWhitney{,Ties}ExactLimit).
EXACT_LIMIT = 50
TIES_EXACT_LIMIT = 25
_QUANTILE_CI_APPROX_THRESHOLD = 30  # moremath quantileCIApproxThreshold
# Above this many values a tie pattern's exact count is met in the middle (_tied_rank_sum_count);
# below it one whole CDF per pattern is cheap and shared by more comparisons.
_MEET_IN_THE_MIDDLE_N = 30


class Difference(NamedTuple):
    """One intended difference from benchstat: what it does, what we do, and why."""

    key: str
    benchstat: str
    ours: str


DIFFERENCES_FROM_BENCHSTAT: tuple[Difference, ...] = (
    Difference(
        "p_clamped_to_1",
        "doubles the one-sided exact p-value without a bound: with ties it can print p=1.905",
        "p = min(2 * one-sided p, 1); a p-value is a probability",
    ),
    Difference(
        "tied_exact_tail",
        "exact test with ties: doubles P(U1 <= min(U1, U2)), the lower tail of U1's distribution "
        "read at U2 when U2 is the smaller; that distribution is symmetric only without ties (or "
        "with a mirror-image tie pattern), so the p-value is wrong and depends on which sample is "
        "the baseline. With two distinct values Go's integer division (truncation toward zero) "
        "also adds the mass of a value below the support (1 vs 20 tied samples: p=1.905)",
        "doubles the tail the observation is in: P(U1 <= U1) if U1 <= U2, else P(U1 >= U1) "
        "(= P(U2 <= U2), U2's own distribution): what benchstat prints with the sample of the "
        "smaller U as the baseline; identical to benchstat without ties",
    ),
    Difference(
        "too_few_samples_never_significant",
        "a comparison is a difference whenever p <= alpha and only warns 'need >= N samples to "
        "detect a difference' when p > alpha and both samples are below N (4 at alpha 0.05)",
        "a Mann-Whitney comparison with fewer than N samples on either side is never a "
        "difference: `~` and significant = false (warnings are benchstat's)",
    ),
)
"""Every intended difference from benchstat (golang.org/x/perf/cmd/benchstat). Anything else that
differs is a bug here (see tests/test_stats_differential.py and docs/FINDINGS.md)."""

STATS_COLUMNS = (
    "go",
    "gomaxprocs",
    "name",
    "unit",
    "center",
    "ci_low",
    "ci_high",
    "n",
    "delta",
    "p_value",
    "significant",
    "p_adjusted",
    "baseline",
    "n_baseline",
    "assumption",
    "warnings",
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def go_float(x: float) -> str:
    """Format a float as Go's %v does: shortest digits, exponent form below 1e-4 or from 1e21."""
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("+Inf" if x > 0 else "-Inf")
    if x == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exp10 = len(digit_tuple) + int(exponent) - 1  # position of the leading digit
    neg = "-" if sign else ""
    if exp10 < -4 or exp10 >= 21:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{neg}{body}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if exp10 < 0:
        return f"{neg}0.{'0' * (-exp10 - 1)}{digits}"
    if len(digits) <= exp10 + 1:
        return f"{neg}{digits}{'0' * (exp10 + 1 - len(digits))}"
    return f"{neg}{digits[: exp10 + 1]}.{digits[exp10 + 1 :]}"


# --- order statistics -------------------------------------------------------------------------


def _norm_inv_cdf(p: float, mu: float, sigma: float) -> float:
    """moremath NormalDist.InvCDF (Acklam's algorithm), kept bit-for-bit for CI orders."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)  # fmt: skip
    plow = 0.02425
    phigh = 1 - plow
    if p < 0 or p > 1:
        return math.nan
    if p == 0:
        return -math.inf
    if p == 1:
        return math.inf
    if p < plow:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    elif p <= phigh:
        q = p - 0.5
        r = q * q
        x = (
            (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
            * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        )
    else:
        q = math.sqrt(-2 * math.log(1 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    # One step of Halley's refinement, as moremath does.
    e = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    u = e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    x = x - u / (1 + x * u / 2)
    return x * sigma + mu


# moremath's walk takes the left order when the two candidates are equally likely, but above
# n = 20 its binomial coefficients are exp(lgamma) (mathx.Choose), whose last bits break some of
# those exact ties the other way. Go's orders where that changes them (found by running
# stats.QuantileCI for n = 1..60 at 0.95; tests/test_stats.py checks them against benchstat).
_MOREMATH_FLOAT_TIES: dict[tuple[int, float], tuple[int, int]] = {(24, 0.95): (8, 18)}


@cache
def median_ci_orders(n: int, confidence: float = CONFIDENCE) -> tuple[int, int, float]:
    """1-based order statistics (lo, hi) bounding the median's CI, and the actual confidence.

    lo < 1 or hi > n means that side of the interval is unbounded (moremath QuantileCI).
    """
    q = 0.5
    if confidence >= 1:
        return 0, n + 1, 1.0

    def pmf(k: int) -> float:
        if k < 0 or k > n:
            return 0.0
        return math.comb(n, k) * q**k * (1 - q) ** (n - k)

    if (n, confidence) in _MOREMATH_FLOAT_TIES:
        lo, hi = _MOREMATH_FLOAT_TIES[(n, confidence)]
        conf = math.fsum(pmf(k) for k in range(lo, hi))
    elif n <= _QUANTILE_CI_APPROX_THRESHOLD:
        x = math.ceil((n + 1) * q) - 1
        accum = pmf(x)
        lo, hi = x, x + 1
        lp, rp = pmf(lo - 1), pmf(hi)
        while accum < confidence and (lp > 0 or rp > 0):
            if lp >= rp:  # left-bias, as moremath
                accum += lp
                lo -= 1
                lp = pmf(lo - 1)
            else:
                accum += rp
                hi += 1
                rp = pmf(hi)
        conf = accum
    else:
        mu = n * q
        sigma = math.sqrt(n * q * (1 - q))
        l1 = _norm_inv_cdf((1 - confidence) / 2, mu, sigma)
        r1 = 2 * mu - l1
        lo = math.floor(math.floor(l1 - 0.5) + 0.5) + 1
        hi = math.floor(math.ceil(r1 - 0.5) + 0.5) + 1

        def cdf(a: int, b: int) -> float:
            return 0.5 * math.erfc(-(b - 0.5 - mu) / (sigma * math.sqrt(2))) - 0.5 * math.erfc(
                -(a - 0.5 - mu) / (sigma * math.sqrt(2))
            )

        conf = cdf(lo, hi)
        biased = cdf(lo, hi - 1)
        if confidence <= biased < conf:
            conf, hi = biased, hi - 1
        if lo <= 0 and hi >= n + 1:
            conf = 1.0
    return max(lo, 0), min(hi, n + 1), conf


@cache
def _ci_min_samples(confidence: float) -> str:
    """benchmath's medianSamples: the smallest n with a finite interval, as "op n"."""
    for n in range(2, 51):
        lo, hi, _ = median_ci_orders(n, confidence)
        if lo > 0 and hi <= n:
            return f">= {n}"
    return "> 50"


# --- Mann-Whitney U ---------------------------------------------------------------------------

# benchmath's uTestMinP[n]: the smallest two-sided p for two samples of size n.
_UTEST_MIN_P = (1.0, 1.0, 1 / 3, 0.1, 0.02857142857142857, 0.007936507936507936,
                0.0021645021645021645, 0.0005827505827505828, 0.0001554001554001554,
                4.113533525298231e-05)  # fmt: skip


def _utest_min_samples(alpha: float) -> tuple[str, int]:
    for n in range(1, len(_UTEST_MIN_P)):
        if _UTEST_MIN_P[n] <= alpha:
            return ">=", n
    return ">", len(_UTEST_MIN_P)


def too_few_samples(n1: int, n2: int, alpha: float = ALPHA) -> bool:
    """Either sample is below benchmath's "need >= N samples to detect a difference" (N = 4 at
    alpha 0.05): such a Mann-Whitney comparison is never a difference (DIFFERENCES_FROM_BENCHSTAT).
    """
    return min(n1, n2) < _utest_least_samples(alpha)


def _utest_least_samples(alpha: float) -> int:
    """The fewest samples per side that can reach alpha (too_few_samples)."""
    op, need = _utest_min_samples(alpha)
    return need if op == ">=" else need + 1


@lru_cache(maxsize=65536)
def _rank_sum_cdf(n1: int, ties: tuple[int, ...]) -> F64:
    """P(2*R1 <= s) under random labelling given the tie run lengths, for s up to the median.

    R1 is sample 1's sum of mid-ranks; this is the exact conditional distribution (Klotz) that
    moremath's UDist computes, by a dynamic programme over (how many of sample 1, 2*rank sum).
    No ties is the special case ties = (1,) * N. Only s <= n1*(n1+1) + n1*n2 (U <= n1*n2/2) is
    computed: the test reads the CDF at the smaller U only.
    """
    total = sum(ties)
    cap = n1 * (n1 + 1) + n1 * (total - n1)
    counts = np.zeros((n1 + 1, cap + 1))
    counts[0, 0] = 1.0
    start = 0
    for t in ties:
        w = 2 * start + t + 1  # 2 * mid-rank of this run (ranks start+1 .. start+t)
        after = start + t
        k_hi = min(after, n1)
        k_lo = max(1, n1 - (total - after))  # rows below this can no longer reach n1
        if t == 1:
            if w <= cap and k_lo <= k_hi:
                # NumPy reads overlapping operands as if copied: each element is used once.
                counts[k_lo : k_hi + 1, w:] += counts[k_lo - 1 : k_hi, : cap + 1 - w]
        else:
            prev = counts.copy()
            for a in range(1, min(t, n1) + 1):
                shift = a * w
                lo = max(k_lo, a)
                if shift > cap or lo > k_hi:
                    break
                counts[lo : k_hi + 1, shift:] += (
                    math.comb(t, a) * prev[lo - a : k_hi + 1 - a, : cap + 1 - shift]
                )
        start = after
    cum: F64 = np.cumsum(counts[n1]) / math.comb(total, n1)
    return cum


@lru_cache(maxsize=512)
def _subset_rank_sums(ties: tuple[int, ...], kmax: int, *, at_least: bool) -> I64:
    """counts[k, s]: the k-subsets of a ranking with these tie runs whose 2*mid-rank sum is s
    (at_least: is >= s, with a zero column appended).

    Ranks start at 1; k <= kmax. The counts are exact integers (at most C(50, 25) here).
    Only the reachable corner is touched: before a run, row k is zero past k*(2*start - k + 1).
    Cached (read-only): the same half of a tie pattern recurs across many comparisons.
    """
    total = sum(ties)
    kmax = min(kmax, total)
    ncols = total * (total + 1) + 1
    # Every count is at most 2**total: int32 (half the memory traffic) holds up to 30 values.
    counts = np.zeros((kmax + 1, ncols), dtype=np.int32 if total <= 30 else np.int64)
    counts[0, 0] = 1
    start = 0
    for t in ties:
        w = 2 * start + t + 1  # 2 * mid-rank of this run (ranks start+1 .. start+t)
        k_prev = min(start, kmax)  # highest row reachable before this run
        c_prev = k_prev * (2 * start - k_prev + 1)  # highest column reachable before it
        # t == 1: NumPy reads overlapping operands as if copied, so a view is enough.
        src = counts[: k_prev + 1, : c_prev + 1]
        if t > 1:
            src = src.copy()
        for a in range(1, min(t, kmax) + 1):
            shift = a * w
            k_hi = min(k_prev + a, kmax)
            c_hi = min(c_prev + shift, ncols - 1)
            src_part = src[: k_hi + 1 - a, : c_hi + 1 - shift]
            dest = counts[a : k_hi + 1, shift : c_hi + 1]
            if t == 1:
                dest += src_part
            else:
                dest += math.comb(t, a) * src_part
        start += t
    if at_least:
        ge = np.zeros((counts.shape[0], ncols + 1), dtype=np.int64)
        ge[:, :-1] = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]
        counts = ge
    counts.flags.writeable = False
    out: I64 = counts
    return out


@lru_cache(maxsize=65536)
def _tied_rank_sum_count(n1: int, ties: tuple[int, ...], cap: int) -> int:
    """How many labellings give sample 1 (n1 values) a 2*mid-rank sum <= cap, given tie runs.

    The same count as cumsum(_rank_sum_cdf)[cap] * C(N, n1), met in the middle: the runs are
    split near N/2; the lower part is counted upwards, the upper part mirrored (rank r -> N+1-r,
    so it is the same problem on the reversed runs), and the two are joined with suffix sums.
    That is about a quarter of the work of one DP over all N, and the integers are exact.
    """
    total = sum(ties)
    bounds = list(itertools.accumulate(ties))
    split = min(range(len(ties)), key=lambda g: abs(2 * bounds[g] - total)) + 1
    lower = _subset_rank_sums(ties[:split], n1, at_least=False)
    # upper_ge[j, x] = ways to take j of the upper part with mirrored 2*rank sum >= x.
    upper_ge = _subset_rank_sums(ties[split:][::-1], n1, at_least=True)
    ks = np.arange(max(0, n1 - (upper_ge.shape[0] - 1)), min(n1, lower.shape[0] - 1) + 1)
    js = n1 - ks
    # With j from the upper part, its true 2*rank sum is j*2*(N+1) - mirrored; the total stays
    # <= cap iff mirrored >= s + j*2*(N+1) - cap.
    need = np.arange(lower.shape[1])[None, :] + (js * 2 * (total + 1) - cap)[:, None]
    width = upper_ge.shape[1]
    np.clip(need, 0, width - 1, out=need)
    need += (js * width)[:, None]
    return int((lower[ks] * np.take(upper_ge, need)).sum())


class _UTest(NamedTuple):
    p: F64
    error: npt.NDArray[np.bool_]  # all values equal: benchmath reports p = 1 and a warning


# How many pooled values one block of _rank_blocks holds (bounds its temporary arrays).
_RANK_BLOCK = 1 << 20


class _Ranks(NamedTuple):
    """Per comparison, from its pooled sample sorted: 2*U1, how many runs of equal values, the
    tie correction sum(t^3 - t) (pooled size > 25: else no normal approximation reads it, 0),
    and (pooled size <= 64) which sorted positions start a run."""

    two_u1: I64
    n_runs: I64
    tie_corr: F64
    run_starts: npt.NDArray[np.uint64]  # bit j: position j + 1 starts a run (position 0 always)


def _rank_blocks(values: F64, start1: I64, n1: I64, start2: I64, n2: I64) -> _Ranks:
    """Mid-ranks of every comparison's pooled sample, one (comparisons x pooled size) matrix per
    pooled size: a row sort each instead of one sort of everything (rows are a few dozen)."""
    n_cmp = n1.size
    big_n = n1 + n2
    out = _Ranks(
        np.zeros(n_cmp, np.int64), np.zeros(n_cmp, np.int64), np.zeros(n_cmp),
        np.zeros(n_cmp, np.uint64),
    )  # fmt: skip
    sizes, size_of = _sizes(big_n)
    by_size = np.argsort(size_of, kind="stable")
    bounds = np.searchsorted(size_of[by_size], np.arange(sizes.size + 1)).tolist()
    for g, size in enumerate(sizes.tolist()):
        rows_all = by_size[bounds[g] : bounds[g + 1]]
        step = max(1, _RANK_BLOCK // max(size, 1))
        for lo in range(0, rows_all.size, step):
            _rank_block(values, rows_all[lo : lo + step], size, (start1, n1, start2), out)
    return out


def _rank_block(
    values: F64, rows: I64, size: int, where: tuple[I64, I64, I64], out: _Ranks
) -> None:
    """Fill `out` at these comparisons, whose pooled samples all hold `size` values."""
    start1, n1, start2 = where
    j = np.arange(size)
    k1 = n1[rows][:, None]
    idx = np.where(j < k1, start1[rows][:, None] + j, start2[rows][:, None] + (j - k1))
    pooled = values[idx]
    order = np.argsort(pooled, axis=1, kind="stable")
    ranked = np.take_along_axis(pooled, order, axis=1)
    new_run = np.ones(ranked.shape, dtype=bool)
    new_run[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    last = np.ones(ranked.shape, dtype=bool)  # the last position of its run
    last[:, :-1] = new_run[:, 1:]
    # Each position's run is [run_start, run_end): 2 * mid-rank = run_start + run_end + 1.
    run_start = np.maximum.accumulate(np.where(new_run, j, 0), axis=1)
    run_end = np.minimum.accumulate(np.where(last, j + 1, size)[:, ::-1], axis=1)[:, ::-1]
    two_r1 = np.where(order < k1, run_start + run_end + 1, 0).sum(axis=1)
    out.two_u1[rows] = two_r1 - n1[rows] * (n1[rows] + 1)
    out.n_runs[rows] = new_run.sum(axis=1)
    if size > TIES_EXACT_LIMIT:  # read by the normal approximation only: a side above 25
        run_len = (run_end - run_start).astype(np.float64)
        out.tie_corr[rows] = np.where(new_run, run_len**3 - run_len, 0.0).sum(axis=1)
    if 1 < size <= 64:
        bits = np.left_shift(np.uint64(1), np.arange(size - 1, dtype=np.uint64))
        out.run_starts[rows] = (new_run[:, 1:].astype(np.uint64) * bits).sum(axis=1)


def _run_lengths(run_starts: int, size: int) -> tuple[int, ...]:
    """The tie pattern (run lengths, in sorted order) of a _Ranks.run_starts bit mask."""
    at = [0]
    while run_starts:  # one step per set bit (bit j: a run starts at position j + 1)
        lowest = run_starts & -run_starts
        at.append(lowest.bit_length())
        run_starts ^= lowest
    at.append(size)
    return tuple(b - a for a, b in itertools.pairwise(at))


def _u_tests(values: F64, start1: I64, n1: I64, start2: I64, n2: I64) -> _UTest:
    """Two-sided Mann-Whitney U p-values for many comparisons at once (benchmath's rules).

    Comparison i is sample 1 = values[start1[i] : start1[i] + n1[i]] (the baseline) against
    sample 2 = values[start2[i] : start2[i] + n2[i]].
    """
    n_cmp = n1.size
    ranks = _rank_blocks(values, start1, n1, start2, n2)
    two_u1 = ranks.two_u1
    two_u2 = 2 * n1 * n2 - two_u1
    two_usmall = np.minimum(two_u1, two_u2)
    big_n = n1 + n2
    has_ties = ranks.n_runs < big_n
    error = ranks.n_runs == 1

    exact = np.where(
        has_ties,
        (n1 <= TIES_EXACT_LIMIT) & (n2 <= TIES_EXACT_LIMIT),
        (n1 <= EXACT_LIMIT) & (n2 <= EXACT_LIMIT),
    )
    p = np.ones(n_cmp)

    # Normal approximation with tie and continuity correction (vectorised).
    approx = ~exact & ~error
    if approx.any():
        nn1, nn2 = n1[approx].astype(np.float64), n2[approx].astype(np.float64)
        n_all = nn1 + nn2
        sigma = np.sqrt(
            nn1 * nn2 * ((n_all + 1) - ranks.tie_corr[approx] / (n_all * (n_all - 1))) / 12
        )
        numer = two_u1[approx] / 2 - nn1 * nn2 / 2
        numer = numer - np.sign(numer) * 0.5
        z = numer / sigma
        from scipy import special  # noqa: PLC0415 - 0.2 s to import; only large samples get here

        cdf = special.erfc(-z / math.sqrt(2)) / 2
        p_approx = 2 * np.minimum(cdf, 1 - cdf)
        bad = sigma == 0
        p_approx[bad] = 1.0
        error[np.flatnonzero(approx)[bad]] = True
        p[approx] = p_approx

    # Exact distribution, read once per distinct (n1, tie pattern, tail): a comparison's p is
    # 2 * P(2*R1 <= threshold) (_exact_p). The tail the observation is in: P(U1 <= U1) when
    # U1 < U2, else P(U1 >= U1), which is the lower tail of sample 1's U under mirrored ranks
    # (r -> N+1-r: the tie runs reversed), read at U2 (DIFFERENCES_FROM_BENCHSTAT
    # "tied_exact_tail"; without ties both are the same).
    todo = np.flatnonzero(exact & ~error & (two_u1 != two_u2))
    if todo.size:
        # One integer per (tie pattern, N, n1, tail): a pattern is tied only up to N = 50
        # (TIES_EXACT_LIMIT), so its run starts take <= 49 bits; exact N <= 100, n1 <= 50.
        pattern = np.where(has_ties, ranks.run_starts, np.uint64(0)).astype(np.int64)
        upper = (two_u1 > two_u2) & has_ties  # without ties the mirror is the same pattern
        group_of = ((pattern * 128 + big_n) * 64 + n1) * 2 + upper
        threshold = two_usmall + n1 * (n1 + 1)  # as 2*R1
        p[todo] = _exact_tails(group_of[todo], threshold[todo])
    # Doubling a one-sided p can pass 1 (DIFFERENCES_FROM_BENCHSTAT "p_clamped_to_1").
    return _UTest(np.minimum(p, 1.0), error)


def _exact_tails(group_of: I64, threshold: I64) -> F64:
    """_exact_p of many comparisons: group_of packs (tie pattern bits, N, n1, upper tail)."""
    p = np.empty(group_of.size)
    groups, which = np.unique(group_of, return_inverse=True)
    which = which.ravel()
    up, k1s = (groups & 1).astype(bool), (groups >> 1) & 63
    sizes, bits = (groups >> 7) & 127, groups >> 14
    # Few subsets: count them all, every pattern of one (n1, N) at once.
    pairs = {(k, n) for k, n in zip(k1s.tolist(), sizes.tolist(), strict=True)}
    few = {kn for kn in pairs if math.comb(kn[1], kn[0]) <= _ENUMERATED_SUBSETS}
    counted = np.zeros(groups.size, dtype=bool)
    for k1, size in sorted(few):
        sel = np.flatnonzero((k1s == k1) & (sizes == size))
        counted[sel] = True
        local = np.full(groups.size, -1)
        local[sel] = np.arange(sel.size)
        mine = local[which] >= 0
        p[mine] = _enumerated_ps(k1, size, bits[sel], up[sel], local[which[mine]], threshold[mine])
    # The rest: one tie pattern at a time (cached DPs).
    by_group = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[by_group], np.arange(groups.size + 1))
    for g in np.flatnonzero(~counted).tolist():
        at = by_group[bounds[g] : bounds[g + 1]]
        k1, size, g_bits = int(k1s[g]), int(sizes[g]), int(bits[g])
        ties = _run_lengths(g_bits, size) if g_bits else (1,) * size
        p[at] = _exact_ps(k1, ties[::-1] if up[g] else ties, threshold[at], tied=g_bits != 0)
    return p


# Up to this many n1-subsets of the pooled sample, the exact tail is counted over all of them
# (one matrix product for every tie pattern of one (n1, N)) instead of a DP per pattern.
_ENUMERATED_SUBSETS = 4096


@cache
def _subsets(size: int, n1: int) -> F64:
    """Every n1-subset of `size` positions, one row of 0/1 each (read-only)."""
    combos = np.array(list(itertools.combinations(range(size), n1)), dtype=np.int64)
    rows = np.zeros((combos.shape[0], size))
    np.put_along_axis(rows, combos.reshape(combos.shape[0], n1), 1.0, axis=1)
    rows.flags.writeable = False
    return rows


def _doubled_midranks(bits: I64, upper: npt.NDArray[np.bool_], size: int) -> F64:
    """2 * mid-rank of every sorted position of each tie pattern (_Ranks.run_starts bits; 0: no
    ties), mirrored (the runs reversed) where `upper`."""
    j = np.arange(size)
    new_run = np.ones((bits.size, size), dtype=bool)
    shifts = np.arange(size - 1, dtype=np.uint64)
    starts = (bits.astype(np.uint64)[:, None] >> shifts) & np.uint64(1)
    new_run[:, 1:] = (starts == 1) | (bits == 0)[:, None]
    last = np.ones_like(new_run)  # the last position of its run
    last[:, :-1] = new_run[:, 1:]
    new_run, last = (
        np.where(upper[:, None], last[:, ::-1], new_run),
        np.where(upper[:, None], new_run[:, ::-1], last),
    )
    run_start = np.maximum.accumulate(np.where(new_run, j, 0), axis=1)
    run_end = np.minimum.accumulate(np.where(last, j + 1, size)[:, ::-1], axis=1)[:, ::-1]
    out: F64 = (run_start + run_end + 1).astype(np.float64)
    return out


def _enumerated_ps(  # noqa: PLR0917 - one (n1, N): its patterns, then its comparisons
    n1: int, size: int, bits: I64, upper: npt.NDArray[np.bool_], group: I64, thresholds: I64
) -> F64:
    """_exact_p by counting: every n1-subset's 2*rank sum for each tie pattern (one matrix
    product, exact in floats: sums of small integers), their cumulative histogram per pattern,
    read per comparison (pattern `group`) at its threshold. The same count the DP's CDF holds."""
    sums = _doubled_midranks(bits, upper, size) @ _subsets(size, n1).T
    width = size * (size + 1) + 1  # above any 2*rank sum: one histogram row per pattern
    at = (sums + (np.arange(bits.size) * width)[:, None]).astype(np.int64).ravel()
    below = np.cumsum(np.bincount(at, minlength=bits.size * width).reshape(-1, width), axis=1)
    out: F64 = 2 * (below[group, thresholds] / math.comb(size, n1))
    return out


def _exact_ps(n1: int, ties: tuple[int, ...], thresholds: I64, *, tied: bool) -> F64:
    """_exact_p for one tie pattern (already mirrored for the upper tail) at many thresholds."""
    big_n = sum(ties)
    if tied and big_n > _MEET_IN_THE_MIDDLE_N:
        return np.array([_exact_p(n1, ties, int(t), tied=True) for t in thresholds.tolist()])
    cum = _rank_sum_cdf(n1, ties)
    return 2 * cum[np.minimum(thresholds, cum.size - 1)]


def _exact_p(
    n1: int, ties: tuple[int, ...], threshold: int, *, tied: bool, upper: bool = False
) -> float:
    """2 * P(2*R1 <= threshold): the exact two-sided p-value for one comparison (unclamped).

    upper: U1 > U2, the upper tail of U1 = the lower tail under mirrored ranks (runs reversed).
    """
    if upper:
        ties = ties[::-1]
    big_n = sum(ties)
    if tied and big_n > _MEET_IN_THE_MIDDLE_N:
        return 2 * (_tied_rank_sum_count(n1, ties, threshold) / math.comb(big_n, n1))
    cum = _rank_sum_cdf(n1, ties)
    return 2 * float(cum[min(threshold, cum.size - 1)])


def mann_whitney_p(x1: Sequence[float], x2: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value for one pair of samples (1.0 if all equal): benchmath's,
    with the tail and clamp of DIFFERENCES_FROM_BENCHSTAT."""
    values = np.asarray([*x1, *x2], dtype=np.float64)
    n1, n2 = np.array([len(x1)]), np.array([len(x2)])
    res = _u_tests(values, np.zeros(1, np.int64), n1, n1, n2)  # sample 2 starts after sample 1
    return float(res.p[0])


def holm(p: F64) -> F64:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN and is not counted in the family)."""
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


# --- summaries and comparisons over frames ----------------------------------------------------

_KEYS = ("gomaxprocs", "name", "unit")


class _Cells(NamedTuple):
    """Every (col, keys) cell of a long frame, in the order of `sort([*keys, col])`.

    Cell i holds values[start[i] : start[i] + n[i]], ascending. key[i] (ascending) numbers the
    cell: key // n_col numbers its keys, key % n_col is the rank of its col value in col_values.
    """

    frame: pl.DataFrame  # one row per cell: col, then the keys, as in the input
    key: I64
    n_col: int
    col_values: pl.Series  # the distinct col values, sorted (a null first)
    n: I64
    start: I64
    values: F64


def _codes(s: pl.Series) -> tuple[I64, pl.Series]:
    """Each value's rank among the column's distinct values (0-based, a null first, as
    DataFrame.sort orders them) and those values: a sort of the few distinct values and a
    lookup, not a sort of every row; on runs of equal values (a long frame repeats its keys
    row after row) once per run."""
    if 2 * _runs(s.head(4096)) < min(s.len(), 4096):  # runs, judged by the first rows
        runs = s.rle().struct.unnest()
        if 2 * runs.height < s.len():
            codes, distinct = _codes(runs["value"])
            return np.repeat(codes, runs["len"].to_numpy()), distinct
    distinct = s.unique().sort()
    if s.dtype == pl.String:
        physical = s.cast(pl.Enum(distinct.drop_nulls())).to_physical()
    else:
        physical = s.rank("dense") - 1
    codes = physical.to_numpy()
    if distinct.null_count():
        codes = np.where(physical.is_null().to_numpy(), 0, codes + 1)
    return codes.astype(np.int64), distinct


def _runs(s: pl.Series) -> int:
    """How many runs of equal values."""
    return 0 if s.is_empty() else int(s.rle_id()[-1]) + 1


def _sizes(n: I64) -> tuple[I64, I64]:
    """np.unique(n, return_inverse=True) for small non-negative integers, by counting."""
    if n.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sizes = np.flatnonzero(np.bincount(n))
    index = np.zeros(int(sizes[-1]) + 1, dtype=np.int64)
    index[sizes] = np.arange(sizes.size)
    return sizes, index[n]


def _stable_order(key: I64, bound: int) -> I64:
    """argsort(key, kind="stable") for 0 <= key < bound: NumPy radix-sorts 16-bit integers, so
    one or two passes of 16-bit digits instead of a comparison sort of a million keys."""
    if bound <= 1 << 16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    if bound <= 1 << 32:
        low = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
        high = (key[low] >> 16).astype(np.uint16)
        return low[np.argsort(high, kind="stable")]
    return np.argsort(key, kind="stable")


def _cells(df: pl.DataFrame, col: str, keys: Sequence[str]) -> _Cells:
    """Group a long frame into cells: integer codes of the key columns, one stable integer sort,
    then each cell's values sorted in place (one row sort per distinct cell size)."""
    key = np.zeros(df.height, dtype=np.int64)
    bound = 1
    for c in keys:
        codes, distinct = _codes(df[c])
        if bound * distinct.len() > 1 << 32:  # renumber densely: radix sort stays two passes
            _, key = np.unique(key, return_inverse=True)
            bound = int(key.max()) + 1
        key = key * distinct.len() + codes
        bound *= distinct.len()
    codes, col_values = _codes(df[col])
    n_col = max(col_values.len(), 1)
    key = key * n_col + codes
    order = _stable_order(key, bound * n_col)
    key = key[order]
    values: F64 = df["value"].cast(pl.Float64).to_numpy()[order].astype(np.float64)
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    start = np.flatnonzero(first)
    n = np.diff(np.append(start, key.size))
    _sort_cells(values, start, n)
    frame = df.select(col, *keys)[order[start]]
    return _Cells(frame, key[start], n_col, col_values, n, start, values)


def _sort_cells(values: F64, start: I64, n: I64) -> None:
    """Sort each cell's values in place; stable, as Polars' sort (-0.0 and 0.0 keep order)."""
    for size in _sizes(n)[0].tolist():
        if size > 1:
            at = start[n == size][:, None] + np.arange(size)
            values[at] = np.sort(values[at], axis=1, kind="stable")


class _Summary(NamedTuple):
    center: F64
    ci_low: F64  # NaN: unbounded
    ci_high: F64
    exact: npt.NDArray[np.bool_]
    warning: I64  # the cell's summary warning: an index into `texts`, -1 for none
    texts: list[str]


def summarize(
    df: pl.DataFrame,
    *,
    col: str = "go",
    keys: Sequence[str] = _KEYS,
    exact_units: Collection[str] = DEFAULT_EXACT_UNITS,
    confidence: float = CONFIDENCE,
) -> pl.DataFrame:
    """Center, confidence interval and warnings for every (col, keys) cell of a long frame."""
    cells = _cells(df, col, keys)
    s = _summarize_cells(cells, exact_units, confidence)
    return cells.frame.with_columns(
        pl.Series("n", cells.n, dtype=pl.UInt32),
        pl.Series("center", s.center),
        pl.Series("ci_low", s.ci_low).fill_nan(None),
        pl.Series("ci_high", s.ci_high).fill_nan(None),
        _assumptions(s.exact),
        _warning_lists("warnings", s.texts, s.warning),
    )


def _assumptions(exact: npt.NDArray[np.bool_]) -> pl.Series:
    """The `assumption` column (a gather: NumPy strings cost a Python object each)."""
    return pl.Series("assumption", ["nothing", "exact"]).gather(exact.astype(np.int64))


def _warning_lists(name: str, texts: Sequence[str], *per_row: I64) -> pl.Series:
    """A list<string> column: row i lists texts[w[i]] for each w in per_row, skipping w[i] < 0.

    Few rows differ (no warning, or the same one): one list per distinct combination, then a
    gather. Built row by row, a list column costs a Series per row."""
    rows = per_row[0].size if per_row else 0
    combined = np.zeros(rows, dtype=np.int64)
    for w in per_row:
        combined = combined * (len(texts) + 1) + (w + 1)
    distinct, which = np.unique(combined, return_inverse=True)
    lists = []
    for c in distinct.tolist():
        digits = []
        for _ in per_row:
            c, d = divmod(c, len(texts) + 1)  # noqa: PLW2901 - its digits, last first
            digits.append(d)
        lists.append([texts[d - 1] for d in reversed(digits) if d])
    return pl.Series(name, lists, dtype=pl.List(pl.String)).gather(which.ravel())


def _summarize_cells(cells: _Cells, exact_units: Collection[str], confidence: float) -> _Summary:
    n = cells.n
    flat = cells.values
    start = cells.start
    last = start + n - 1
    exact = cells.frame["unit"].is_in(list(exact_units)).to_numpy()

    # Median as moremath's R8 quantile: same float operations as Go, so identical bits.
    pos = 1 / 3.0 + 0.5 * (n + 1 / 3.0)
    k = np.floor(pos).astype(np.int64)
    frac = pos - k
    lo_v = flat[start + np.clip(k - 1, 0, n - 1)]
    hi_v = flat[start + np.clip(k, 0, n - 1)]
    median = np.where(
        k <= 0, flat[start], np.where(k >= n, flat[last], lo_v + frac * (hi_v - lo_v))
    )

    # The CI's order statistics depend on n only: look them up per distinct n.
    sizes, size_of = _sizes(n)
    orders = np.array(
        [median_ci_orders(u, confidence)[:2] for u in sizes.tolist()], dtype=np.int64
    ).reshape(-1, 2)
    lo_ord, hi_ord = orders[size_of, 0], orders[size_of, 1]
    bounded = (lo_ord >= 1) & (hi_ord <= n)
    ci_low = np.where(lo_ord >= 1, flat[start + np.maximum(lo_ord - 1, 0)], np.nan)
    ci_high = np.where(hi_ord <= n, flat[start + np.minimum(hi_ord - 1, n - 1)], np.nan)

    # AssumeExact: the mode (smallest of equally frequent values), interval [min, max].
    mode = median.copy()
    exact_idx = np.flatnonzero(exact)
    if exact_idx.size:
        mode[exact_idx] = _modes(flat, start[exact_idx], n[exact_idx])
    center = np.where(exact, mode, median)
    ci_low = np.where(exact, flat[start], ci_low)
    ci_high = np.where(exact, flat[last], ci_high)

    ci_warning = (
        f"need {_ci_min_samples(confidence)} samples for confidence interval at level {confidence}"
    )
    # Warnings as indexes into texts: the interval's, or an exact unit's spread of values.
    texts = [ci_warning]
    warning = np.where(bounded, -1, 0)
    warning[exact_idx] = -1
    spread = np.flatnonzero(exact & (flat[start] != flat[last]))
    index: dict[tuple[float, float], int] = {}
    for i, lo, hi in zip(spread.tolist(), flat[start[spread]].tolist(),
                         flat[last[spread]].tolist(), strict=True):  # fmt: skip
        if (lo, hi) not in index:
            index[(lo, hi)] = len(texts)
            texts.append(
                "exact distribution expected, but values range from "
                f"{go_float(lo)} to {go_float(hi)}"
            )
        warning[i] = index[(lo, hi)]
    return _Summary(center, ci_low, ci_high, exact, warning, texts)


def _modes(flat: F64, start: I64, n: I64) -> F64:
    """Most frequent value of each sorted cell; the smallest wins a tie (benchmath's loop)."""
    out = flat[start].copy()  # all values equal: the usual case for exact units
    varied = np.flatnonzero(flat[start] != flat[start + n - 1])
    if varied.size == 0:
        return out
    # Runs of equal values inside the varied cells, all at once.
    lens = n[varied]
    cell = np.repeat(np.arange(varied.size), lens)
    idx = np.repeat(start[varied] - np.cumsum(np.append(0, lens[:-1])), lens) + np.arange(
        lens.sum()
    )
    vals = flat[idx]
    new_run = np.ones(vals.size, dtype=bool)
    new_run[1:] = (cell[1:] != cell[:-1]) | (vals[1:] != vals[:-1])
    run_start = np.flatnonzero(new_run)
    run_len = np.diff(np.append(run_start, vals.size))
    run_cell = cell[run_start]
    # Longest run per cell, the first (smallest value) on ties: sort by (cell, -len, start).
    best = np.lexsort((run_start, -run_len, run_cell))
    first = best[np.flatnonzero(np.append(True, run_cell[best][1:] != run_cell[best][:-1]))]
    out[varied[run_cell[first]]] = vals[run_start[first]]
    return out


def compare(
    df: pl.DataFrame,
    baseline: str,
    *,
    col: str = "go",
    keys: Sequence[str] = _KEYS,
    exact_units: Collection[str] = DEFAULT_EXACT_UNITS,
    confidence: float = CONFIDENCE,
    alpha: float = ALPHA,
) -> pl.DataFrame:
    """Summaries of every cell plus its comparison with the `baseline` value of `col`.

    One Holm-Bonferroni family: every Mann-Whitney comparison in the frame (exact units are
    not tests and stay out). `significant` uses the adjusted p-value and is false when either
    sample is too small (`too_few_samples`); benchstat's own "~" is `p_value > alpha` (or too
    few samples, see `format_delta`). `delta` is the percentage change of the center vs the
    baseline. `warnings` is benchstat's list for the cell: the summary's, then the comparison's.
    Rows are in the order of `sort([*keys, col])`.
    """
    cells = _cells(df, col, keys)
    s = _summarize_cells(cells, exact_units, confidence)
    # Each cell's baseline cell: the same keys with the baseline's col value (itself for the
    # baseline's own cells), -1 where there is none.
    col_list = cells.col_values.to_list()
    b_code = col_list.index(baseline) if baseline in col_list else -1
    b_key = cells.key // cells.n_col * cells.n_col + b_code
    at = np.minimum(np.searchsorted(cells.key, b_key), max(cells.key.size - 1, 0))
    found = cells.key[at] == b_key if cells.key.size else np.zeros(0, dtype=bool)
    has_base = found & (b_code >= 0)
    base = np.where(has_base, at, -1)
    is_cmp = has_base & (cells.key % cells.n_col != b_code)
    exact = s.exact
    n = cells.n
    p_value = np.full(n.size, np.nan)
    cmp_warning = np.full(n.size, -1)
    texts = [*s.texts, "all samples are equal"]
    op, need = _utest_min_samples(alpha)
    texts.append(f"need {op} {need} samples to detect a difference at alpha level {alpha}")
    enough = np.ones(n.size, dtype=bool)  # DIFFERENCES_FROM_BENCHSTAT "too_few_samples..."

    tests = np.flatnonzero(is_cmp & ~exact)
    if tests.size:
        b = base[tests]
        n1, n2 = n[b], n[tests]
        res = _u_tests(cells.values, cells.start[b], n1, cells.start[tests], n2)
        p_value[tests] = res.p
        enough[tests] = np.minimum(n1, n2) >= _utest_least_samples(alpha)
        few = (res.p > alpha) & (n1 < need) & (n2 < need)
        cmp_warning[tests] = np.where(res.error, len(texts) - 2, np.where(few, len(texts) - 1, -1))
    exact_cmp = np.flatnonzero(is_cmp & exact)
    p_value[exact_cmp] = 0.0

    p_adj = holm(np.where(exact, np.nan, p_value))
    p_adj[exact_cmp] = 0.0
    center = s.center
    b_center = np.where(has_base, center[base], np.nan)
    # benchstat's FormatDelta: equal centers are 0%, a zero baseline has no percentage.
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(center == b_center, 0.0, (center / b_center - 1.0) * 100.0)
    delta[~is_cmp | ((b_center == 0) & (center != b_center))] = np.nan
    significant = np.where(exact, center != b_center, enough & (p_adj <= alpha))
    n_baseline = pl.Series("n_baseline", np.where(has_base, n[base], 0), dtype=pl.Int64)
    columns = {
        "center": pl.Series("center", center),
        "ci_low": pl.Series("ci_low", s.ci_low).fill_nan(None),
        "ci_high": pl.Series("ci_high", s.ci_high).fill_nan(None),
        "n": pl.Series("n", n, dtype=pl.Int64),
        "delta": pl.Series("delta", delta).fill_nan(None),
        "p_value": pl.Series("p_value", p_value).fill_nan(None),
        "significant": pl.Series("significant", significant).scatter(np.flatnonzero(~is_cmp), None),
        "p_adjusted": pl.Series("p_adjusted", p_adj).fill_nan(None),
        "baseline": pl.repeat(baseline, n.size, dtype=pl.String, eager=True).alias("baseline"),
        "n_baseline": n_baseline.scatter(np.flatnonzero(~has_base), None),
        "assumption": _assumptions(exact),
        "warnings": _warning_lists("warnings", texts, s.warning, cmp_warning),
    }
    out = cells.frame.rename({col: "go"} if col != "go" else {})
    rest = [c for c in STATS_COLUMNS if c not in ("go", *keys, *_KEYS)]
    return out.select("go", *keys).with_columns(columns[c] for c in rest)


def compare_groups(
    df: pl.DataFrame,
    baselines: Mapping[str, str],
    *,
    group: str = "target",
    within: Sequence[str] = (),
    keys: Sequence[str] = _KEYS,
    exact_units: Collection[str] = DEFAULT_EXACT_UNITS,
) -> pl.DataFrame:
    """`compare` within each value of `group` against its own baseline (baselines[value]): one
    Holm family per group (adding a target leaves the other targets' significance as it was),
    and per value of each `within` column (e.g. host: no comparison or family crosses hosts)."""
    by = [group, *within]
    frames = [
        compare(part, baselines[str(vals[0])], keys=keys, exact_units=exact_units)
        for vals, part in sorted(
            df.partition_by(by, as_dict=True, maintain_order=True).items(),
            key=lambda kv: tuple(map(str, kv[0])),
        )
    ]
    return pl.concat(frames) if frames else compare(df, "", keys=keys, exact_units=exact_units)


def format_ci(center: float, lo: float | None, hi: float | None) -> str:
    """benchstat's "± x%" cell: the larger relative distance from center to an interval end."""
    if lo is None or hi is None or math.isinf(lo) or math.isinf(hi):
        return "∞"
    if not (np.sign(center) == np.sign(lo) == np.sign(hi)):
        return "?"
    if center == 0:
        return "0%"
    return f"{100 * max(hi / center - 1, 1 - lo / center):.0f}%"


def format_p(p_value: float, n: int, n_baseline: int) -> str:
    """benchstat's "(p=0.PPP n=N)" text (p omitted when 0, i.e. exact units)."""
    text = f"p={p_value:0.3f} " if p_value != 0 else ""
    return text + (f"n={n}" if n == n_baseline else f"n={n_baseline}+{n}")


def format_delta(
    delta: float | None, p_value: float | None, alpha: float = ALPHA, *, too_few: bool = False
) -> str:
    """benchstat's "vs base" cell: "~" when p > alpha, "?" for a zero baseline, else "+1.23%".

    too_few: a Mann-Whitney comparison with too few samples (`too_few_samples`) is "~" too.
    """
    if too_few or (p_value is not None and p_value > alpha):
        return "~"
    if delta is None:
        return "?"
    if delta == 0:  # only equal centers give exactly 0, and Go prints those unsigned
        return "0.00%"
    return f"{delta:+.2f}%"


# Go's math.Log constants (src/math/log.go, FreeBSD's e_log.c).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG_L = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
          2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
          1.479819860511658591e-01)  # fmt: skip
_HALF_SQRT2 = 7.07106781186547524401e-01


def go_log(x: F64) -> F64:
    """Go's math.Log of positive finite values, bit for bit (amd64 runs log_amd64.s, the same
    float operations as log.go; NumPy's log and libm's may differ in the last bit, and a
    geomean of ratios near 1 prints its sign: +0.00% or -0.00%)."""
    bits = np.asarray(x, dtype=np.float64).view(np.uint64)
    # Frexp as the assembly does it: the mantissa in [0.5, 1), the exponent from its bits.
    f1 = ((bits & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x3FE0000000000000)).view(np.float64)
    exponent = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - 0x3FE
    # The assembly's test is f1 <= sqrt(2)/2 (log.go's is <: they differ at exactly that).
    low = f1 <= _HALF_SQRT2
    f1 = np.where(low, f1 * 2, f1)
    k = exponent.astype(np.float64) - low
    l1, l2, l3, l4, l5, l6, l7 = _LOG_L
    f = f1 - 1
    s = f / (2 + f)
    s2 = s * s
    s4 = s2 * s2
    t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)))
    t2 = s4 * (l2 + s4 * (l4 + s4 * l6))
    r = t1 + t2
    hfsq = 0.5 * f * f
    out: F64 = k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)
    return out


def go_geomean(xs: F64) -> float:
    """benchstat's geomean (moremath's stats.GeoMean): NaN unless every value is > 0, else exp of
    the mean of Go's logs (go_log, the same bits). GeoMean's mean is a running one in benchstat's
    row order (first seen in the input, which sorted rows do not keep); math.fsum's is exactly
    rounded and order-free, the two differ in the last bits at most. math.exp is libm's,
    correctly rounded where NumPy's exp is not (exp(-2**-54) -> 1.0, as Go's Exp gives)."""
    if xs.size == 0 or not bool((xs > 0).all()):
        return math.nan
    return math.exp(math.fsum(go_log(xs).tolist()) / xs.size)


def geomean(stats: pl.DataFrame, *, keys: Sequence[str] = ("gomaxprocs", "unit")) -> pl.DataFrame:
    """benchstat's geomean row per (go, keys) of `compare` output, in order of first row.

    center: geomean of the column's centers (None unless all > 0); delta: geomean of the
    per-benchmark ratios to the baseline, as a percentage (0/0 counts as 1, a zero baseline
    gives None), with benchstat's warnings. Geomeans as benchstat computes them (go_geomean).
    """
    groups = ["go", *keys]
    frame = stats.select(*groups, "name", "center", "baseline").with_row_index("Row")
    per_group = frame.group_by(groups, maintain_order=True).agg(
        pl.col("Row"), pl.col("baseline").first()
    )
    base = frame.filter(pl.col("go") == pl.col("baseline")).select(
        *keys, "name", pl.col("center").alias("B center")
    )
    # Baseline benchmarks per keys (a null key matches none: n_base 0, as benchstat's
    # separate table for it has no baseline column here).
    n_base = base.group_by(list(keys)).len("N base")
    per_group = per_group.join(n_base, on=list(keys), how="left", maintain_order="left")
    # Rows of each group (in stats order) and each row's group, without Python lists.
    sizes = per_group["Row"].list.len().to_numpy().astype(np.int64)
    cuts = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=cuts[1:])
    rows = per_group["Row"].explode().to_numpy()
    group_of = np.empty(frame.height, dtype=np.int64)
    group_of[rows] = np.repeat(np.arange(sizes.size), sizes)
    centers = frame["center"].to_numpy()[rows]
    # Each row's baseline center(s), grouped, in row order.
    paired = frame.select("Row", *keys, "name", "center").join(
        base, on=[*keys, "name"], how="inner", nulls_equal=True, maintain_order="left"
    )
    pair_group = group_of[paired["Row"].to_numpy()]
    by_group = np.argsort(pair_group, kind="stable")
    pair_cuts = np.searchsorted(pair_group[by_group], np.arange(sizes.size + 1))
    a_all = paired["center"].to_numpy()[by_group]
    b_all = paired["B center"].to_numpy()[by_group]
    out: list[dict[str, object]] = []
    for g, key in enumerate(per_group.select(groups).iter_rows()):
        go = key[0]
        key_vals = dict(zip(keys, key[1:], strict=True))
        # benchstat's order: benchmark set, then summaries, then ratios
        set_warnings: list[str] = []
        warnings: list[str] = []
        center: float | None = go_geomean(centers[cuts[g] : cuts[g + 1]])
        if center is not None and math.isnan(center):  # GeoMean's NaN: benchstat prints none
            center = None
            warnings.append("summaries must be >0 to compute geomean")
        delta: float | None = None
        if go != per_group["baseline"][g]:
            a = a_all[pair_cuts[g] : pair_cuts[g + 1]]
            b = b_all[pair_cuts[g] : pair_cuts[g + 1]]
            want = per_group["N base"][g]
            if a.size != (want or 0):
                set_warnings.append(
                    "benchmark set differs from baseline; geomeans may not be comparable"
                )
            if not bool(((b == 0) & (a != b)).any()):
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = go_geomean(np.where(a == b, 1.0, a / b))
                if math.isnan(ratio):
                    warnings.append("ratios must be >0 to compute geomean")
                else:
                    delta = (ratio - 1) * 100
        out.append(
            {"go": go, **key_vals, "name": "geomean", "center": center, "delta": delta,
             "n_benchmarks": int(sizes[g]), "warnings": set_warnings + warnings}
        )  # fmt: skip
    return pl.DataFrame(
        out,
        schema_overrides={
            "center": pl.Float64, "delta": pl.Float64, "warnings": pl.List(pl.String)
        },
    )  # fmt: skip


class AAResult(NamedTuple):
    """False positives of an A/A comparison (same toolchain under two labels)."""

    n_comparisons: int
    n_significant_raw: int  # p <= alpha per test: should be about alpha * n_comparisons
    n_significant_adjusted: int  # after Holm: should be 0 in most runs
    rate: float  # n_significant_raw / n_comparisons


def aa_false_positive_rate(
    df: pl.DataFrame,
    label_a: str,
    label_b: str,
    *,
    col: str = "go",
    keys: Sequence[str] = _KEYS,
    exact_units: Collection[str] = DEFAULT_EXACT_UNITS,
    alpha: float = ALPHA,
) -> AAResult:
    """Share of Mann-Whitney comparisons called significant between two identical setups."""
    both = df.filter(pl.col(col).is_in([label_a, label_b]))
    res = compare(both, label_a, col=col, keys=keys, exact_units=exact_units, alpha=alpha)
    tests = res.filter(
        (pl.col("go") == label_b)
        & (pl.col("assumption") == "nothing")
        & pl.col("p_value").is_not_null()
    )
    n = tests.height
    raw = int((tests["p_value"] <= alpha).sum())
    adj = int(tests["significant"].sum())
    return AAResult(n, raw, adj, raw / n if n else math.nan)
