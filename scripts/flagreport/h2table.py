"""The "HTTP/1.1 against HTTP/2" table (issue 20): each design of an HTTP/2
scenario against the same design in the HTTP/1.1 scenario it names as
"h1_peer", at the same m and delay."""

import os

from .lines import DESIGN_LINES, show
from .net import loss_of
from .points import load_scenario_points
from .stats import BOOT_RESAMPLES, compare
from .verdicts import claim_text


def _fmt(x, f):
    return f % x if x is not None else "–"


def _cpu(p):
    u, s = p.get("cpu_user_per_1k"), p.get("cpu_sys_per_1k")
    return u + s if u is not None and s is not None else None


def _hs(p):
    t = p.get("tls") or {}
    return (t.get("per_run") or {}).get("handshakes")


def _conns(p):
    # the client's own count, else flagserver's
    return p["connections"] if p.get("connections") is not None else p.get("server_connections")


def h2_rows(s1, pts1, s2, pts2, resamples=BOOT_RESAMPLES):
    """Rows of the table for the HTTP/1.1 scenario S1 and the HTTP/2 one S2:
    one per design and m where both points are valid, the delays being the
    same. [] when the delays differ (the scenarios do not compare).

    Each run's time is compared over its point's ideal bound where both
    points have one (a server delay), else per request; the row's
    "over_bound" says which. Per request alone is biased where the request
    counts differ: the bound is ceil(N / m) rounds of the delay, so at
    m = 500 DELAY's 676 requests take 2 rounds (0.296 ms a request at best)
    and H2-DELAY's 4,056 take 9 (0.222 ms), and a design equally close to
    the bound over both protocols would read "HTTP/2 faster by 1.33x"."""
    if s1["delay_s"] != s2["delay_s"]:
        return []
    by1 = {(p["line"], p["m"]): p for p in pts1 if p["valid"] and p["times"]}
    rows = []
    for p2 in sorted((p for p in pts2 if p["valid"] and p["times"]), key=lambda p: (p["m"], p["line"])):
        if p2["line"] not in DESIGN_LINES or (p2["line"], p2["m"]) not in by1:
            continue
        p1 = by1[(p2["line"], p2["m"])]
        bound = bool(p1.get("ideal_s")) and bool(p2.get("ideal_s"))
        t1 = [t / (p1["ideal_s"] if bound else s1["requests"]) for t in p1["times"]]
        t2 = [t / (p2["ideal_s"] if bound else s2["requests"]) for t in p2["times"]]
        v = compare(t1, t2, "HTTP/1.1", "HTTP/2", resamples)
        rows.append({"line": p2["line"], "m": p2["m"], "delay_s": s2["delay_s"], "h1": p1, "h2": p2,
                     "v": v, "claim": claim_text(v), "over_bound": bound})
    return rows


def h2_table(rows, name1, name2):
    out = ["| design | m | delay | requests/s (%s / %s) | connections a run | TLS handshakes a run "
           "| CPU s per 1,000 requests | peak RSS MiB | claim |" % (name1, name2),
           "|---|---:|---:|---|---|---|---|---|---|"]
    for r in rows:
        a, b = r["h1"], r["h2"]

        def pair(fn, f):
            return "%s / %s" % (_fmt(fn(a), f), _fmt(fn(b), f))
        out.append("| %s | %d | %g s | %s | %s | %s | %s | %s | %s |" % (
            show(r["line"]), r["m"], r["delay_s"], pair(lambda p: p["requests_per_s"], "%.0f"),
            pair(_conns, "%.0f"), pair(_hs, "%.1f"), pair(_cpu, "%.3f"),
            pair(lambda p: p["rss_kb"] / 1024 if p.get("rss_kb") is not None else None, "%.1f"), r["claim"]))
    return "\n".join(out)


def h2_section(out, names, resamples=BOOT_RESAMPLES):
    """The REPORT.md section, or "" when the run has no HTTP/2 scenario
    whose "h1_peer" it also ran. A pair over a lossy lab is lossy.py's."""
    parts = []
    for name in names:
        sdir = os.path.join(out, name)
        s2, pts2, _ = load_scenario_points(sdir)
        peer = s2.get("h1_peer")
        if (s2.get("protocol", "http/1.1") == "http/1.1" or s2.get("_skipped") or not peer or peer not in names
                or loss_of(s2) > 0):
            continue
        s1, pts1, _ = load_scenario_points(os.path.join(out, peer))
        rows = h2_rows(s1, pts1, s2, pts2, resamples)
        parts.append("### %s against %s\n" % (name, peer))
        if s1["delay_s"] != s2["delay_s"]:
            parts.append("Not compared: the delays differ (%g s, %g s).\n" % (s1["delay_s"], s2["delay_s"]))
            continue
        if not rows:
            parts.append("No design has a valid point at the same m in both.\n")
            continue
        parts.append("%s: %d requests a run over %s; %s: %d over %s. The last column is the claim on %s "
                     "(Mann–Whitney and the ratio rule of every claim).\n"
                     % (peer, s1["requests"], "HTTPS" if s1.get("tls") else "HTTP", name, s2["requests"],
                        s2["protocol"],
                        "each run's time over its ideal bound (ceil(N / m) rounds of the delay: per request "
                        "would favour the scenario whose last round is fuller)" if all(r["over_bound"] for r in rows)
                        else "the time per request"))
        parts.append(h2_table(rows, peer, name) + "\n")
    if not parts:
        return ""
    return "\n".join(["## HTTP/1.1 against HTTP/2\n",
                      "Each design over HTTP/2 against itself over HTTP/1.1 at the same m and delay: the pool "
                      "keeps one connection (one stream) per worker, the loop multiplexes streams over "
                      "ceil(m / 100) connections per multi handle.\n"] + parts)
