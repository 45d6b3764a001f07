"""HTTP/1.1 against HTTP/2 under loss (issue 21): an HTTP/2 scenario over the
network lab with loss (LOSSY-H2) against the HTTP/1.1 scenario it names as
"h1_peer" (LOSSY), over the same lab settings and server delay. Each design
at each m is held against itself over the other protocol by the rule of
every claim (stats.compare on the per-run times per request: Mann-Whitney,
the ratio, room), and one sentence per design says which protocol is faster
where. When only one of the two ran, one line says so."""

import os

from .base import ROOT, load_json_or_none
from .h2table import h2_rows, h2_table
from .lines import DESIGN_LINES, show
from .net import loss_of
from .points import load_scenario_points
from .stats import BOOT_RESAMPLES, roomless, untested
from .verdicts import mrange

H1, H2 = "HTTP/1.1", "HTTP/2"


def is_loss_pair(s):
    """Whether the (resolved or bench/) scenario S is an HTTP/2 scenario over
    a lossy lab that names an HTTP/1.1 peer: this module's, not the plain
    "HTTP/1.1 against HTTP/2" table's."""
    return (s.get("protocol", "http/1.1") != "http/1.1" and bool(s.get("h1_peer"))
            and loss_of(s) > 0)


def light_scenario(out, name):
    """OUT/NAME/raw/scenario.json as written (no points reduced), with
    "_skipped" from raw/skipped.txt; {} for old results without it."""
    rawdir = os.path.join(out, name, "raw")
    s = load_json_or_none(os.path.join(rawdir, "scenario.json")) or {}
    try:
        with open(os.path.join(rawdir, "skipped.txt"), encoding="utf-8") as f:
            skipped = f.read().strip()
    except OSError:
        skipped = ""
    if skipped:
        s["_skipped"] = skipped
    return s


def loss_pairs(names, scenarios, benchdir):
    """[(h1 name, h2 name)]: every lossy pair with either side in NAMES (the
    run's scenarios; SCENARIOS maps a name to its resolved scenario), from
    the run's own HTTP/2 scenarios first, then from BENCHDIR's files for a
    run that holds only the HTTP/1.1 side."""
    pairs = []
    for name in names:
        s = scenarios[name]
        if is_loss_pair(s):
            pairs.append((s["h1_peer"], name))
    try:
        files = sorted(f for f in os.listdir(benchdir) if f.endswith(".json"))
    except OSError:
        files = []
    for f in files:
        name = f[:-len(".json")]
        s = load_json_or_none(os.path.join(benchdir, f)) or {}
        if name not in names and is_loss_pair(s) and s["h1_peer"] in names:
            pairs.append((s["h1_peer"], name))
    return pairs


def net_words(net):
    return "a %g ms round trip%s, %g%% loss each way%s" % (
        net["rtt_ms"], ", ±%g ms jitter" % net["jitter_ms"] if net.get("jitter_ms") else "",
        net["loss"] * 100, ", %g Mbit/s" % net["rate_mbit"] if net.get("rate_mbit") else "")


def design_sentence(line, rows):
    """One design's verdict over its rows (h2_rows, one per m): which
    protocol is faster at which m, and where there is no claim and why."""
    wins, none, few, room = {}, [], [], []
    for r in rows:
        v = r["v"]
        if v["winner"]:
            wins.setdefault(v["winner"], []).append(r)
        elif untested(v):
            few.append(r["m"])
        elif roomless(v):
            room.append(r["m"])
        else:
            none.append(r)
    parts = []
    for proto in (H2, H1):
        rs = wins.get(proto)
        if rs:
            lo, hi = min(r["v"]["ratio"] for r in rs), max(r["v"]["ratio"] for r in rs)
            parts.append("%s is faster at %s (by %s)" % (
                proto, mrange([r["m"] for r in rs]), "%.2f×" % lo if hi - lo < 0.005 else "%.2f–%.2f×" % (lo, hi)))
    if none:
        det = [r["v"]["detectable"] for r in none if r["v"].get("detectable")]
        parts.append("no significant difference at %s%s" % (
            mrange([r["m"] for r in none]), " (could detect ≥ %.2f×)" % max(det) if det else ""))
    if room:
        parts.append("more runs needed to claim the significant difference at %s" % mrange(room))
    if few:
        parts.append("too few runs to test at %s" % mrange(few))
    if len(wins) == 2:
        head = "neither protocol is faster throughout"
    elif wins:
        head = "%s is faster wherever a claim is made" % next(iter(wins))
    else:
        head = "no claim at any m"
    return "**%s**: %s — %s." % (show(line), head, "; ".join(parts))


def pair_text(out, h1, h2, names, scenarios, resamples=BOOT_RESAMPLES):
    """(the subsection of the pair H1 / H2, its verdicts for verdicts.json)."""
    title = "### %s against %s\n" % (h2, h1)
    missing = [n for n in (h1, h2) if n not in names]
    if missing:
        ran = h1 if missing == [h2] else h2
        return (title + "Only %s ran in this run (%s did not): no verdict on HTTP/1.1 against HTTP/2 under "
                "loss.\n" % (ran, missing[0])), []
    for n in (h1, h2):
        if scenarios[n].get("_skipped"):
            return title + "%s was not run here (%s): no verdict on HTTP/1.1 against HTTP/2 under loss.\n" % (
                n, scenarios[n]["_skipped"]), []
    s1, pts1, _ = load_scenario_points(os.path.join(out, h1))
    s2, pts2, _ = load_scenario_points(os.path.join(out, h2))
    if s1.get("net") != s2.get("net") or s1["delay_s"] != s2["delay_s"]:
        return title + "Not compared: the lab settings or the server delays differ (%s, %g s; %s, %g s).\n" % (
            net_words(s1["net"]) if s1.get("net") else "loopback", s1["delay_s"],
            net_words(s2["net"]), s2["delay_s"]), []
    rows = h2_rows(s1, pts1, s2, pts2, resamples)
    text = [title, "Over %s, server delay %g s; %s: %d requests a run over %s, %s: %d over %s. Each design "
            "against itself over the other protocol at the same m, by the rule of every claim on the time per "
            "request (Mann–Whitney p < 0.01, a ratio ≥ 1.05, runs enough to claim it).\n"
            % (net_words(s2["net"]), s2["delay_s"], h1, s1["requests"], "HTTPS" if s1.get("tls") else "HTTP",
               h2, s2["requests"], s2["protocol"])]
    if not rows:
        return "\n".join(text + ["No design has a valid point at the same m in both.\n"]), []
    for line in [l for l in DESIGN_LINES if any(r["line"] == l for r in rows)]:
        text.append("- " + design_sentence(line, [r for r in rows if r["line"] == line]))
    absent = [show(l) for l in DESIGN_LINES
              if not any(r["line"] == l for r in rows)
              and any(p["line"] == l for p in pts1 + pts2)]
    if absent:
        text.append("- %s: no m with a valid point in both." % ", ".join(absent))
    text.append("")
    text.append(h2_table(rows, h1, h2) + "\n")
    verdicts = [{"name": "%s against %s: %s" % (h2, h1, show(line)), "pair": [h1, h2],
                 "verdicts": [{"m": r["m"], "winner": r["v"]["winner"], "claim": r["claim"]}
                              for r in rows if r["line"] == line]}
                for line in DESIGN_LINES if any(r["line"] == line for r in rows)]
    return "\n".join(text), verdicts


def loss_section(out, names, resamples=BOOT_RESAMPLES, benchdir=None):
    """(REPORT.md's "HTTP/1.1 against HTTP/2 under loss" section, or "" when
    the run holds neither side of a lossy pair; the pairs' verdicts, one
    entry per design, for verdicts.json and `report.py compare`)."""
    scenarios = {n: light_scenario(out, n) for n in names}
    pairs = loss_pairs(names, scenarios, benchdir or os.path.join(ROOT, "bench", "scenarios"))
    if not pairs:
        return "", []
    parts, verdicts = [], []
    for h1, h2 in pairs:
        text, vs = pair_text(out, h1, h2, names, scenarios, resamples)
        parts.append(text)
        verdicts += vs
    return "\n".join(["## HTTP/1.1 against HTTP/2 under loss\n",
                      "Over the network lab with random loss: the same designs, server and lab settings over "
                      "HTTP/1.1, where a lost segment stalls one of m connections, and over HTTP/2, where the "
                      "loop multiplexes its transfers as streams on few connections and a lost segment stalls "
                      "every stream of its connection (the pool keeps one connection per worker). Which "
                      "protocol is faster, per design:\n"] + parts), verdicts
