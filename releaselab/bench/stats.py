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
    op, need = _utest_min_samples(alpha)
    least = need if op == ">=" else need + 1
    return min(n1, n2) < least


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


def _u_tests(
    values: F64, cmp_id: I64, side1: npt.NDArray[np.bool_], *, n_cmp: int, n1: I64, n2: I64
) -> _UTest:
    """Two-sided Mann-Whitney U p-values for many comparisons at once (benchmath's rules).

    `values` hold both samples of every comparison; `cmp_id` says which comparison, `side1`
    whether the value belongs to the baseline (first) sample.
    """
    order = np.lexsort((values, cmp_id))
    v, c, s1 = values[order], cmp_id[order], side1[order]
    m = v.size
    new_run = np.ones(m, dtype=bool)
    if m > 1:
        new_run[1:] = (c[1:] != c[:-1]) | (v[1:] != v[:-1])
    run_starts = np.flatnonzero(new_run)
    run_len = np.diff(np.append(run_starts, m))
    run_cmp = c[run_starts]
    cmp_start = np.searchsorted(c, np.arange(n_cmp), side="left")
    pos0 = run_starts - cmp_start[run_cmp]  # 0-based position of each run within its test
    two_rank = 2 * pos0 + run_len + 1  # 2 * mid-rank, exact in integers
    run_id = np.cumsum(new_run) - 1
    two_r1 = np.bincount(c, weights=np.where(s1, two_rank[run_id], 0), minlength=n_cmp)
    two_u1 = np.rint(two_r1).astype(np.int64) - n1 * (n1 + 1)
    two_u2 = 2 * n1 * n2 - two_u1
    two_usmall = np.minimum(two_u1, two_u2)
    n_runs = np.bincount(run_cmp, minlength=n_cmp)
    has_ties = np.bincount(run_cmp, weights=run_len > 1, minlength=n_cmp) > 0
    tie_corr = np.bincount(
        run_cmp, weights=run_len.astype(np.float64) ** 3 - run_len, minlength=n_cmp
    )
    error = n_runs == 1

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
        big_n = nn1 + nn2
        sigma = np.sqrt(nn1 * nn2 * ((big_n + 1) - tie_corr[approx] / (big_n * (big_n - 1))) / 12)
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

    # Exact distribution: no ties -> one cached CDF per (n1, N); ties -> a count per threshold.
    # The tail the observation is in: P(U1 <= U1) when U1 < U2, else P(U1 >= U1), which is the
    # lower tail of sample 1's U under mirrored ranks (r -> N+1-r: the tie runs reversed), read
    # at U2 (DIFFERENCES_FROM_BENCHSTAT "tied_exact_tail"; without ties both are the same).
    todo = np.flatnonzero(exact & ~error & (two_u1 != two_u2))
    if todo.size:
        run_bounds = np.searchsorted(run_cmp, np.arange(n_cmp + 1), side="left")
        threshold = two_usmall + n1 * (n1 + 1)  # as 2*R1
        for i in todo.tolist():
            k1 = int(n1[i])
            if has_ties[i]:
                ties = tuple(run_len[run_bounds[i] : run_bounds[i + 1]].tolist())
            else:
                ties = (1,) * (k1 + int(n2[i]))
            p[i] = _exact_p(k1, ties, int(threshold[i]), tied=bool(has_ties[i]),
                            upper=bool(two_u1[i] > two_u2[i]))  # fmt: skip
    # Doubling a one-sided p can pass 1 (DIFFERENCES_FROM_BENCHSTAT "p_clamped_to_1").
    return _UTest(np.minimum(p, 1.0), error)


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
    side1 = np.zeros(values.size, dtype=bool)
    side1[: len(x1)] = True
    res = _u_tests(
        values,
        np.zeros(values.size, dtype=np.int64),
        side1,
        n_cmp=1,
        n1=np.array([len(x1)], dtype=np.int64),
        n2=np.array([len(x2)], dtype=np.int64),
    )
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


def _cells(df: pl.DataFrame, col: str, keys: Sequence[str]) -> pl.DataFrame:
    """One row per (col, keys) cell with its values sorted ascending."""
    return (
        df.select([col, *keys, pl.col("value").cast(pl.Float64)])
        .group_by([col, *keys])
        .agg(pl.col("value").sort())
        .with_columns(pl.col("value").list.len().alias("n"))
        .sort([*keys, col])
    )


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
    return _summarize_cells(cells, exact_units, confidence).drop("value")


def _string_lists(name: str, values: list[list[str]]) -> pl.Series:
    """A list<string> column from Python lists. Through Arrow: pl.Series(values, dtype=...)
    builds one small Series per row (0.8 s per 166k cells), Arrow takes 0.06 s."""
    import pyarrow as pa  # noqa: PLC0415 - only compare() needs it

    arr = pa.array(values, type=pa.list_(pa.large_string()))
    return pl.Series(name, arr, dtype=pl.List(pl.String))


def _summarize_cells(
    cells: pl.DataFrame, exact_units: Collection[str], confidence: float
) -> pl.DataFrame:
    n: I64 = cells["n"].to_numpy().astype(np.int64)
    flat: F64 = cells["value"].explode().to_numpy().astype(np.float64)
    start = np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64)
    last = start + n - 1
    exact = cells["unit"].is_in(list(exact_units)).to_numpy()

    # Median as moremath's R8 quantile: same float operations as Go, so identical bits.
    pos = 1 / 3.0 + 0.5 * (n + 1 / 3.0)
    k = np.floor(pos).astype(np.int64)
    frac = pos - k
    lo_v = flat[start + np.clip(k - 1, 0, n - 1)]
    hi_v = flat[start + np.clip(k, 0, n - 1)]
    median = np.where(
        k <= 0, flat[start], np.where(k >= n, flat[last], lo_v + frac * (hi_v - lo_v))
    )

    uniq = np.unique(n)
    orders = {int(u): median_ci_orders(int(u), confidence) for u in uniq}
    lo_ord = np.array([orders[int(u)][0] for u in n], dtype=np.int64)
    hi_ord = np.array([orders[int(u)][1] for u in n], dtype=np.int64)
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
    warnings: list[list[str]] = []
    for ex, s, e, lo, hi, cnt in zip(
        exact.tolist(), start.tolist(), last.tolist(), lo_ord.tolist(), hi_ord.tolist(),
        n.tolist(), strict=True,
    ):  # fmt: skip
        if ex:
            lo_v_, hi_v_ = float(flat[s]), float(flat[e])
            warnings.append(
                []
                if lo_v_ == hi_v_
                else [
                    "exact distribution expected, but values range from "
                    f"{go_float(lo_v_)} to {go_float(hi_v_)}"
                ]
            )
        else:
            warnings.append([] if lo >= 1 and hi <= cnt else [ci_warning])
    return cells.with_columns(
        pl.Series("center", center),
        pl.Series("ci_low", ci_low).fill_nan(None),
        pl.Series("ci_high", ci_high).fill_nan(None),
        pl.Series("assumption", np.where(exact, "exact", "nothing")),
        _string_lists("warnings", warnings),
    )


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
    """
    cells = _summarize_cells(_cells(df, col, keys), exact_units, confidence)
    base = cells.filter(pl.col(col) == baseline).select(
        [*keys, pl.col("value").alias("b_value"), pl.col("n").alias("b_n"),
         pl.col("center").alias("b_center")]
    )  # fmt: skip
    out = cells.join(base, on=list(keys), how="left", nulls_equal=True).with_columns(
        pl.lit(baseline).alias("baseline")
    )
    is_cmp = (out[col] != baseline) & out["b_n"].is_not_null()
    is_cmp_np = is_cmp.to_numpy()
    exact = (out["assumption"] == "exact").to_numpy()
    p_value = np.full(out.height, np.nan)
    cmp_warn: list[list[str]] = [[] for _ in range(out.height)]
    enough = np.ones(out.height, dtype=bool)  # DIFFERENCES_FROM_BENCHSTAT "too_few_samples..."

    tests = np.flatnonzero(is_cmp_np & ~exact)
    if tests.size:
        sub = out[tests]
        n1 = sub["b_n"].to_numpy().astype(np.int64)
        n2 = sub["n"].to_numpy().astype(np.int64)
        b_vals = sub["b_value"].explode().to_numpy().astype(np.float64)
        c_vals = sub["value"].explode().to_numpy().astype(np.float64)
        ids = np.arange(tests.size, dtype=np.int64)
        values = np.concatenate([b_vals, c_vals])
        cmp_id = np.concatenate([np.repeat(ids, n1), np.repeat(ids, n2)])
        side1 = np.concatenate([np.ones(b_vals.size, bool), np.zeros(c_vals.size, bool)])
        res = _u_tests(values, cmp_id, side1, n_cmp=tests.size, n1=n1, n2=n2)
        p_value[tests] = res.p
        op, need = _utest_min_samples(alpha)
        few = f"need {op} {need} samples to detect a difference at alpha level {alpha}"
        for j, i in enumerate(tests.tolist()):
            enough[i] = not too_few_samples(int(n1[j]), int(n2[j]), alpha)
            if res.error[j]:
                cmp_warn[i] = ["all samples are equal"]
            elif res.p[j] > alpha and n1[j] < need and n2[j] < need:
                cmp_warn[i] = [few]
    exact_cmp = np.flatnonzero(is_cmp_np & exact)
    p_value[exact_cmp] = 0.0

    p_adj = holm(np.where(exact, np.nan, p_value))
    p_adj[exact_cmp] = 0.0
    center = out["center"].to_numpy()
    b_center = out["b_center"].fill_null(np.nan).to_numpy()
    # benchstat's FormatDelta: equal centers are 0%, a zero baseline has no percentage.
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(center == b_center, 0.0, (center / b_center - 1.0) * 100.0)
    delta[~is_cmp_np | ((b_center == 0) & (center != b_center))] = np.nan
    significant = np.where(exact, center != b_center, enough & (p_adj <= alpha))
    warnings = [a + b for a, b in zip(out["warnings"].to_list(), cmp_warn, strict=True)]
    return (
        out.with_columns(
            pl.Series("delta", delta).fill_nan(None),
            pl.Series("p_value", p_value).fill_nan(None),
            pl.Series("p_adjusted", p_adj).fill_nan(None),
            pl.when(pl.Series(is_cmp_np)).then(pl.Series(significant)).alias("significant"),
            _string_lists("warnings", warnings),
            pl.col("n").cast(pl.Int64),
            pl.col("b_n").cast(pl.Int64).alias("n_baseline"),
        )
        .rename({col: "go"} if col != "go" else {})
        .select(["go", *keys, *(c for c in STATS_COLUMNS if c not in ("go", *keys, *_KEYS))])
    )


def compare_groups(
    df: pl.DataFrame,
    baselines: Mapping[str, str],
    *,
    group: str = "target",
    keys: Sequence[str] = _KEYS,
    exact_units: Collection[str] = DEFAULT_EXACT_UNITS,
) -> pl.DataFrame:
    """`compare` within each value of `group` against its own baseline: one Holm family per
    group (adding a target leaves the other targets' significance as it was)."""
    frames = [
        compare(df.filter(pl.col(group) == g), baselines[g], keys=keys, exact_units=exact_units)
        for g in sorted(df[group].unique().to_list())
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


def geomean(stats: pl.DataFrame, *, keys: Sequence[str] = ("gomaxprocs", "unit")) -> pl.DataFrame:
    """benchstat's geomean row per (go, keys) of `compare` output.

    center: geomean of the column's centers (None unless all > 0); delta: geomean of the
    per-benchmark ratios to the baseline, as a percentage (0/0 counts as 1, a zero baseline
    gives None), with benchstat's warnings.
    """
    base = stats.filter(pl.col("go") == pl.col("baseline")).select(
        [*keys, "name", pl.col("center").alias("b_center")]
    )
    n_base = base.group_by(list(keys)).len("n_base")
    rows: list[dict[str, object]] = []
    for key, grp in stats.group_by(["go", *keys], maintain_order=True):
        go = key[0]
        key_vals = dict(zip(keys, key[1:], strict=True))
        # benchstat's order: benchmark set, then summaries, then ratios
        set_warnings: list[str] = []
        warnings: list[str] = []
        centers = grp["center"].to_numpy()
        center: float | None = None
        if centers.size and bool((centers > 0).all()):
            center = float(np.exp(np.mean(np.log(centers))))
        else:
            warnings.append("summaries must be >0 to compute geomean")
        delta: float | None = None
        if go != grp["baseline"][0]:
            paired = grp.join(base, on=[*keys, "name"], how="inner", nulls_equal=True)
            a = paired["center"].to_numpy()
            b = paired["b_center"].to_numpy()
            want = n_base.filter(pl.all_horizontal([pl.col(k) == v for k, v in key_vals.items()]))[
                "n_base"
            ]
            if a.size != (int(want[0]) if want.len() else 0):
                set_warnings.append(
                    "benchmark set differs from baseline; geomeans may not be comparable"
                )
            if not bool(((b == 0) & (a != b)).any()):
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratios = np.where(a == b, 1.0, a / b)
                if ratios.size and bool((ratios > 0).all()):
                    delta = float((np.exp(np.mean(np.log(ratios))) - 1) * 100)
                else:
                    warnings.append("ratios must be >0 to compute geomean")
        rows.append(
            {"go": go, **key_vals, "name": "geomean", "center": center, "delta": delta,
             "n_benchmarks": grp.height, "warnings": set_warnings + warnings}
        )  # fmt: skip
    return pl.DataFrame(
        rows,
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
