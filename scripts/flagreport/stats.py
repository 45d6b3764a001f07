"""Statistics: medians and percentiles, the Mann-Whitney U test, the
bootstrap CI of a ratio of medians, the rule of a "faster" claim and the
smallest ratio a comparison could have detected."""

import math
import random
import statistics
from functools import lru_cache





ALPHA = 0.01  # significance level of a "faster" claim


MIN_RATIO = 1.05  # and the smallest ratio of medians worth a claim


BOOT_RESAMPLES = 10000


POWER = 0.80  # the power at which a "no significant difference" states what it could detect


ADAPT_TARGET = 1.05  # the detectable ratio the adaptive extra runs aim at


# A claim needs room: with this many pairs of runs out of order (Mann-Whitney
# U = ROOM_INVERSIONS) the run counts must still give p < ALPHA, so that no
# claim rests on the one ordering at the edge of the test (docs/bench.md).
ROOM_INVERSIONS = 2


BOOT_SEED = 20261125


PCTS = [50, 99, 99.9]


def median(xs):
    return statistics.median(xs) if xs else None


def percentile(sorted_xs, q):
    """Linear interpolation between closest ranks (numpy's default, R type 7);
    q in [0, 1]; sorted_xs ascending and non-empty."""
    n = len(sorted_xs)
    h = (n - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_xs[lo] + (h - lo) * (sorted_xs[hi] - sorted_xs[lo])


def quartiles(xs):
    s = sorted(xs)
    return percentile(s, 0.25), percentile(s, 0.75)


@lru_cache(maxsize=None)
def _u_count(n1, n2, u):
    """Number of orderings of n1 x's and n2 y's with exactly u (x > y) pairs."""
    if u < 0 or u > n1 * n2:
        return 0
    if n1 == 0 or n2 == 0:
        return 1 if u == 0 else 0
    # the largest element is an x (beats all n2 y's) or a y
    return _u_count(n1 - 1, n2, u - n2) + _u_count(n1, n2 - 1, u)


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test. Returns (U of a, p, method): exact
    distribution without ties and n1, n2 <= 25, else the normal approximation
    with tie and continuity correction."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return None, 1.0, "none"
    pooled = sorted([(x, 0) for x in a] + [(y, 1) for y in b])
    ranks = [0.0] * len(pooled)
    ties = []
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    r1 = sum(r for r, (_, g) in zip(ranks, pooled) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    if not ties and n1 <= 25 and n2 <= 25:
        u = int(round(u1))
        total = math.comb(n1 + n2, n1)
        lower = sum(_u_count(n1, n2, k) for k in range(0, u + 1)) / total
        upper = sum(_u_count(n1, n2, k) for k in range(u, n1 * n2 + 1)) / total
        return u1, min(1.0, 2 * min(lower, upper)), "exact"
    n = n1 + n2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1))
    var = n1 * n2 / 12 * ((n + 1) - tie_term)
    if var <= 0:
        return u1, 1.0, "normal"
    z = (abs(u1 - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    z = max(z, 0.0)
    return u1, min(1.0, math.erfc(z / math.sqrt(2))), "normal"


def bootstrap_ratio_ci(num, den, resamples=BOOT_RESAMPLES, seed=BOOT_SEED):
    """95% percentile-bootstrap interval of median(num) / median(den),
    resampling each group with replacement; a fixed seed, so reruns agree."""
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        a = rng.choices(num, k=len(num))
        b = rng.choices(den, k=len(den))
        ratios.append(statistics.median(a) / statistics.median(b))
    ratios.sort()
    return percentile(ratios, 0.025), percentile(ratios, 0.975)


def detectable_ratio(ci, alpha=ALPHA, power=POWER):
    """The smallest ratio of medians a comparison would have detected with
    probability POWER, from the 95% bootstrap CI [lo, hi] of its ratio: the
    CI's half-width on the log scale, divided by z(0.975), estimates the
    standard error of log(ratio); a true log ratio of (z(1 - alpha / 2) +
    z(power)) standard errors is rejected at alpha with that probability (the
    normal approximation of a test on the log ratio). Never below MIN_RATIO,
    the smallest ratio a claim is made for. None without an interval."""
    if not ci or ci[0] is None or ci[0] <= 0 or ci[1] < ci[0]:
        return None
    z = statistics.NormalDist().inv_cdf
    se = (math.log(ci[1]) - math.log(ci[0])) / (2 * z(0.975))
    return max(MIN_RATIO, math.exp((z(1 - alpha / 2) + z(power)) * se))


def min_p(n1, n2):
    """The smallest two-sided p the Mann-Whitney U test can give for n1 and
    n2 runs (every run of one line faster than every run of the other):
    2 / C(n1 + n2, n1); 1 when a side has no run."""
    if n1 < 1 or n2 < 1:
        return 1.0
    return min(1.0, 2 / math.comb(n1 + n2, n1))


def too_few(n1, n2):
    """"too few runs to test (n1 + n2)" when no outcome of n1 + n2 runs can
    reach p < ALPHA (2 + 2 runs: the smallest p is 0.33), else None."""
    return "too few runs to test (%d + %d)" % (n1, n2) if min_p(n1, n2) >= ALPHA else None


def room_p(n1, n2, inversions=ROOM_INVERSIONS):
    """The two-sided exact p of n1 + n2 runs whose orderings are at most
    INVERSIONS pairs (x, y) away from complete separation (U <= inversions):
    2 * (the orderings with U <= inversions) / C(n1 + n2, n1). 1 when a side
    has no run. For 5 + 5 runs and 2 inversions 8 / 252 = 0.032; for 6 + 6
    8 / 924 = 0.0087."""
    if n1 < 1 or n2 < 1:
        return 1.0
    k = min(inversions, n1 * n2)
    count = sum(_u_count(n1, n2, u) for u in range(0, k + 1))
    return min(1.0, 2 * count / math.comb(n1 + n2, n1))


def has_room(n1, n2):
    """Whether n1 + n2 runs leave a claim room: two pairs of runs out of order
    still give p < ALPHA (room_p). Then the smallest possible p is at most
    about ALPHA / 4: 6 + 6 runs (0.0022), 5 + 8, 4 + 10 have room; 5 + 5
    (0.0079), 5 + 6 (0.0043) and 5 + 7 (0.0025) do not."""
    return room_p(n1, n2) < ALPHA


def no_room(n1, n2):
    """The words of a claim that n1 + n2 runs leave no room for (has_room):
    "significant on only 5 + 5 runs (the smallest p they can give is
    0.0079): more runs needed, no claim"; None when they do."""
    if has_room(n1, n2):
        return None
    return ("significant on only %d + %d runs (the smallest p they can give is %s): more runs needed, no claim"
            % (n1, n2, fmt_p(min_p(n1, n2))))


def runs_for_room(n1, n2, most):
    """The fewest runs k >= 0 more of both sides that give n1 + k, n2 + k
    runs room (has_room), neither side above MOST; None when MOST is not
    enough."""
    for k in range(0, max(0, most - max(n1, n2)) + 1):
        if has_room(n1 + k, n2 + k):
            return k
    return None


def compare(times_a, times_b, name_a, name_b, resamples=BOOT_RESAMPLES):
    """The verdict on two lines' per-run elapsed samples. A line is "faster"
    only when Mann-Whitney's p < ALPHA AND the ratio of medians (slower /
    faster) is >= MIN_RATIO AND the run counts have room (has_room); the
    ratio is given with its 95% bootstrap CI. With too few runs for the test
    ever to reach ALPHA the claim says so ("too few runs to test (2 + 2)");
    a claim the run counts leave no room for says "significant on only 5 + 5
    runs (...): more runs needed, no claim" -- never "no significant
    difference".
    "detectable" is detectable_ratio() of the CI (None when untested)."""
    out = {"a": name_a, "b": name_b, "n_a": len(times_a), "n_b": len(times_b)}
    few = too_few(len(times_a), len(times_b))
    if len(times_a) < 2 or len(times_b) < 2:
        out.update(winner=None, claim=few, p=None, ratio=None,
                   ci=None, why="fewer than 2 runs each: no test possible")
        return out
    _, p, method = mann_whitney(times_a, times_b)
    ma, mb = statistics.median(times_a), statistics.median(times_b)
    if ma <= mb:  # a is at least as fast: ratio = slower / faster
        fast, tf, ts = name_a, times_a, times_b
    else:
        fast, tf, ts = name_b, times_b, times_a
    ratio = statistics.median(ts) / statistics.median(tf)
    lo, hi = bootstrap_ratio_ci(ts, tf, resamples)
    out.update(p=p, method=method, ratio=ratio, ci=[lo, hi], faster_median=fast,
               detectable=None if few else detectable_ratio([lo, hi]))
    if few:
        out.update(winner=None, claim=few,
                   why="the smallest p %d + %d runs can give is %s" % (len(ts), len(tf), fmt_p(min_p(len(ts), len(tf)))))
    elif p < ALPHA and ratio >= MIN_RATIO and no_room(len(times_a), len(times_b)):
        out.update(winner=None, claim=no_room(len(times_a), len(times_b)),
                   why="p = %s, but two runs out of order would give %s" % (
                       fmt_p(p), fmt_p(room_p(len(times_a), len(times_b)))))
    elif p < ALPHA and ratio >= MIN_RATIO:
        out.update(winner=fast, claim="%s faster" % fast, why="")
    elif p < ALPHA:
        out.update(winner=None, claim="no significant difference",
                   why="significant (p = %s) but the ratio %.3f is below %.2f: no claim"
                   % (fmt_p(p), ratio, MIN_RATIO))
    else:
        out.update(winner=None, claim="no significant difference",
                   why="p = %s >= %g" % (fmt_p(p), ALPHA))
    return out


def untested(v):
    """Whether a verdict of compare() is "too few runs to test"."""
    return (v.get("claim") or "").startswith("too few runs")


def roomless(v):
    """Whether a verdict of compare() is a would-be claim without room
    ("significant on only 5 + 5 runs ...: more runs needed, no claim")."""
    return (v.get("claim") or "").startswith("significant on only")


def fmt_p(p):
    if p is None:
        return "–"
    if p < 0.0001:
        return "%.1e" % p
    return "%.4f" % p


def spread(xs):
    if not xs:
        return {"median": None, "min": None, "max": None, "q1": None, "q3": None}
    q1, q3 = quartiles(xs)
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "q1": q1, "q3": q3}


def version_compare(t_new, t_old, resamples=BOOT_RESAMPLES):
    """median(t_new) / median(t_old), its 95% bootstrap CI, and the claim
    under the report's rule (Mann-Whitney p < ALPHA, a ratio of at least
    MIN_RATIO either way, and run counts with room: has_room)."""
    if not t_new or not t_old:
        return {"ratio": None, "ci": None, "p": None, "claim": "–"}
    ratio = statistics.median(t_new) / statistics.median(t_old)
    if len(t_new) < 2 or len(t_old) < 2:
        return {"ratio": ratio, "ci": None, "p": None,
                "claim": too_few(len(t_new), len(t_old))}
    _, p, _ = mann_whitney(t_new, t_old)
    lo, hi = bootstrap_ratio_ci(t_new, t_old, resamples)
    if too_few(len(t_new), len(t_old)):
        claim = too_few(len(t_new), len(t_old))
    elif p < ALPHA and (ratio >= MIN_RATIO or ratio <= 1 / MIN_RATIO) and no_room(len(t_new), len(t_old)):
        claim = no_room(len(t_new), len(t_old))
    elif p < ALPHA and ratio >= MIN_RATIO:
        claim = "8.x slower"
    elif p < ALPHA and ratio <= 1 / MIN_RATIO:
        claim = "8.x faster"
    else:
        claim = "no significant difference"
    return {"ratio": ratio, "ci": [lo, hi], "p": p, "claim": claim}
