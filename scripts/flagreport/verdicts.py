"""Verdicts: the threadpool / asyncloop claims per m, the crossover, the
best design per m, each design against curl, the libcurl comparison."""

import statistics

from .lines import DESIGN_LINES, show
from .stats import roomless, untested, ADAPT_TARGET, BOOT_RESAMPLES, bootstrap_ratio_ci, compare, fmt_p, mann_whitney


VS_CURL_MIN_RUNS = 5  # runs a side before a design is held against curl's time


def pair_verdicts(pts, a="threadpool", b="asyncloop", resamples=BOOT_RESAMPLES):
    """compare() at every m where both lines are valid, sorted by m."""
    by = {(p["line"], p["m"]): p for p in pts if p["valid"]}
    out = []
    for m in sorted({p["m"] for p in pts}):
        pa, pb = by.get((a, m)), by.get((b, m))
        if pa and pb:
            v = compare(pa["times"], pb["times"], a, b, resamples)
            v["m"] = m
            out.append(v)
    return out


def mrange(ms):
    return "m = %d" % ms[0] if len(ms) == 1 else "m = %s" % ", ".join(str(m) for m in ms)


def crossover(verdicts):
    """Where each design wins: {"wins": {line: [m...]}, "none": [m...] (no
    significant difference), "too_few": [m...] (too few runs to test),
    "no_room": [m...] (significant on too few runs to claim),
    "crossovers": ["between m = X and m = Y: A below, B above", ...]}."""
    wins, none, few, room = {}, [], [], []
    for v in verdicts:
        if v["winner"]:
            wins.setdefault(v["winner"], []).append(v["m"])
        elif untested(v):
            few.append(v["m"])
        elif roomless(v):
            room.append(v["m"])
        else:
            none.append(v["m"])
    decided = [v for v in verdicts if v["winner"]]
    xs = []
    for prev, cur in zip(decided, decided[1:]):
        if prev["winner"] != cur["winner"]:
            xs.append({"from_m": prev["m"], "to_m": cur["m"], "below": prev["winner"],
                       "above": cur["winner"]})
    return {"wins": wins, "none": none, "too_few": few, "no_room": room, "crossovers": xs}


def claim_text(v):
    if v["winner"]:
        return "%s faster by %.2f× (95%% CI %.2f–%.2f, p = %s, %d+%d runs)" % (
            v["winner"], v["ratio"], v["ci"][0], v["ci"][1], fmt_p(v["p"]), v["n_a"], v["n_b"])
    if untested(v):
        if v["ratio"] is None:
            return v["claim"]
        return "%s (%s's median lower by %.2f×, 95%% CI %.2f–%.2f)" % (
            v["claim"], v["faster_median"], v["ratio"], v["ci"][0], v["ci"][1])
    if roomless(v):
        return "%s (%s's median lower by %.2f×, 95%% CI %.2f–%.2f, p = %s)" % (
            v["claim"], v["faster_median"], v["ratio"], v["ci"][0], v["ci"][1], fmt_p(v["p"]))
    if v["ratio"] is None:
        return "no significant difference (%s)" % v["why"]
    return "no significant difference (%s%s's median lower by %.2f×, 95%% CI %.2f–%.2f; %s; %d+%d runs)" % (
        "could detect ≥ %.2f×; " % v["detectable"] if v.get("detectable") else "",
        v["faster_median"], v["ratio"], v["ci"][0], v["ci"][1], v["why"], v["n_a"], v["n_b"])


def undetected_sentence(s, verdicts):
    """Where the threadpool / asyncloop comparison could not detect a ratio
    of ADAPT_TARGET (a "no significant difference" whose detectable ratio is
    above it) and why the runs stopped there: the scenario has no adaptive
    runs, the pair reached max_runs, or the adaptive budget ran out. "" when
    there is no such m."""
    over = [v for v in verdicts if not v["winner"] and not untested(v) and not roomless(v)
            and v.get("detectable") and v["detectable"] > ADAPT_TARGET + 0.005]
    if not over:
        return ""
    why = {}
    for v in over:
        n = min(v["n_a"], v["n_b"])
        if s.get("max_runs", s["runs"]) <= s["runs"]:
            w = "this scenario has no adaptive runs (%d a line)" % s["runs"]
        elif n >= s["max_runs"]:
            w = "the pair reached max_runs (%d a line)" % s["max_runs"]
        else:
            w = "the adaptive budget (%d s of extra runs) ran out" % s["adapt_budget_s"]
        why.setdefault(w, []).append("%d (%.2f×)" % (v["m"], v["detectable"]))
    return "Could not detect %.2f× at m = %s." % (ADAPT_TARGET, "; at m = ".join(
        "%s: %s" % (", ".join(ms), w) for w, ms in why.items()))


def best_designs(pts, resamples=BOOT_RESAMPLES):
    """At each m where two or more designs (DESIGN_LINES) are valid: the one
    with the lowest median elapsed, and whether it beats the runner-up
    significantly (compare()). [{"m", "best", "second", "v"}] sorted by m."""
    out = []
    for m in sorted({p["m"] for p in pts}):
        ds = [p for p in pts if p["m"] == m and p["line"] in DESIGN_LINES and p["valid"] and p["times"]]
        if len(ds) < 2:
            continue
        ds.sort(key=lambda p: statistics.median(p["times"]))
        v = compare(ds[0]["times"], ds[1]["times"], show(ds[0]["line"]), show(ds[1]["line"]), resamples)
        out.append({"m": m, "best": ds[0]["line"], "second": ds[1]["line"], "v": v})
    return out


def best_design_sentence(bests):
    """"Best design: X at m = ..., tied ... ." -- consecutive m with the same
    fastest design form one range."""
    if not bests:
        return ""
    groups = []
    for b in bests:
        key = (b["best"], "sig" if b["v"]["winner"] else "few" if untested(b["v"])
               else "room" if roomless(b["v"]) else "none")
        if groups and groups[-1][0] == key:
            groups[-1][1].append(b)
        else:
            groups.append((key, [b]))
    parts = []
    for (line, sig), bs in groups:
        ms = [b["m"] for b in bs]
        if sig == "sig":
            parts.append("%s at %s" % (show(line), mrange(ms)))
        else:
            parts.append("%s at %s, %s %s%s" % (
                show(line), mrange(ms), {"none": "not significantly ahead of",
                                         "few": "too few runs to test against",
                                         "room": "significant on too few runs to claim against"}[sig],
                "/".join(sorted({show(b["second"]) for b in bs})),
                " (more runs needed)" if sig == "room" else ""))
    return "Best design per m (fastest median; significant against the runner-up unless said): " + \
        "; ".join(parts) + "."


def vs_curl(pts, target, resamples=BOOT_RESAMPLES):
    """Each design against curl --parallel at every m where both are valid:
    the ratio of medians design / curl with its 95% bootstrap CI and
    Mann-Whitney's p. The target (design <= target x curl's time) is "met"
    when the whole CI is at or below it, "missed" when the whole CI is above
    it, else "undecided" -- always with fewer than VS_CURL_MIN_RUNS runs
    a side, too few for the interval to mean much."""
    by = {(p["line"], p["m"]): p for p in pts if p["valid"] and p["times"]}
    out = []
    for m in sorted({p["m"] for p in pts}):
        c = by.get(("curl", m))
        for line in DESIGN_LINES:
            p = by.get((line, m))
            if not c or not p:
                continue
            r = {"m": m, "line": line, "n": len(p["times"]), "n_curl": len(c["times"]),
                 "ratio": statistics.median(p["times"]) / statistics.median(c["times"]),
                 "ci": None, "p": None, "target": target}
            if r["n"] < 2 or r["n_curl"] < 2:
                r["status"] = "undecided"
            else:
                r["ci"] = list(bootstrap_ratio_ci(p["times"], c["times"], resamples))
                r["p"] = mann_whitney(p["times"], c["times"])[1]
                r["status"] = ("undecided" if min(r["n"], r["n_curl"]) < VS_CURL_MIN_RUNS else
                               "met" if r["ci"][1] <= target else
                               "missed" if r["ci"][0] > target else "undecided")
            out.append(r)
    return out


def vs_curl_text(r):
    ci = "95%% CI %.2f–%.2f, p = %s" % (r["ci"][0], r["ci"][1], fmt_p(r["p"])) if r["ci"] \
        else "fewer than 2 runs: no interval"
    return "%.2f× curl's time (%s, %d+%d runs)" % (r["ratio"], ci, r["n"], r["n_curl"])


def second_core_sentence(pts, verdicts):
    """Where, if anywhere, the pool's second core wins: the m where
    threadpool is significantly faster than asyncloop (compare()'s rule) and
    by how much, with both designs' client CPU per wall second there."""
    if not verdicts:
        return "Second core: no m has both designs valid, so nothing can be said."
    by = {(p["line"], p["m"]): p for p in pts}

    def cores(line, m):
        c = by[(line, m)].get("cpu_per_wall")
        return "–" if c is None else "%.2f" % c

    wins = [v for v in verdicts if v["winner"] == "threadpool"]
    loop = [v["m"] for v in verdicts if v["winner"] == "asyncloop"]
    none = [v["m"] for v in verdicts if not v["winner"] and not untested(v) and not roomless(v)]
    few = [v["m"] for v in verdicts if untested(v)]
    room = [v["m"] for v in verdicts if roomless(v)]
    rest = []
    if loop:
        rest.append("asyncloop is faster at %s" % mrange(loop))
    if none:
        rest.append("no significant difference at %s" % mrange(none))
    if few:
        rest.append("too few runs to test at %s" % mrange(few))
    if room:
        rest.append("more runs needed to claim the significant difference at %s" % mrange(room))
    if not wins:
        return ("Second core: the pool's second core wins nowhere in this sweep — threadpool is "
                "not significantly faster at any m (%s)." % "; ".join(rest))
    parts = ["m = %d by %.2f× (95%% CI %.2f–%.2f, p = %s; client CPU s per wall s: threadpool %s, "
             "asyncloop %s)" % (v["m"], v["ratio"], v["ci"][0], v["ci"][1], fmt_p(v["p"]),
                                cores("threadpool", v["m"]), cores("asyncloop", v["m"]))
             for v in wins]
    return ("Second core: the pool wins at %s%s." % (
        ", ".join(parts), "; elsewhere %s" % "; ".join(rest) if rest else ""))
