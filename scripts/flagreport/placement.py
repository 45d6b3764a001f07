"""Where flagserver and the clients run (issue 24, "placement"): a
scenario's "placement" (shared: both float over every CPU this run may use;
split: flagserver pinned to its own CPUs, hyperfine and every line to the
rest), the CPU sets bench.sh derives from the CPUs it may use, the validity
rule that checks each point's recorded CPU sets against them, and REPORT.md's
"Placement" section that pairs a scenario with its -SPLIT twin."""

import os
import shlex

from .base import ReportError, read_kv
from .lines import ALL_LINES, show
from .stats import BOOT_RESAMPLES, compare, fmt_p, roomless, untested

PLACEMENTS = ("shared", "split")
SPLIT_SUFFIX = "-SPLIT"  # LOCAL-SPLIT is LOCAL with "placement": "split"
# The CPUs that are the server's in a split: one in every SERVER_SHARE of
# the CPUs this run may use, at least one (2 CPUs: 1 + 1; 8: 2 + 6).
SERVER_SHARE = 4
CPU_MAX = 1 << 16  # a CPU number beyond this is a typo, not a machine


def placement_setting(raw, name):
    """A scenario's "placement": "shared" (the default) or "split"."""
    v = raw.get("placement", "shared")
    if v not in PLACEMENTS:
        raise ReportError("scenario %s: placement must be one of %s, not %r" % (name, ", ".join(PLACEMENTS), v))
    return v


def parse_cpus(text):
    """The set of CPU numbers of a kernel CPU list ("0-3,8,10-11", as in
    /proc/PID/status Cpus_allowed_list and taskset -c); None when TEXT is not
    one (empty, a word, a range backwards)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text:
        return None
    out = set()
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            return None
        a, b = int(lo), int(hi) if dash else int(lo)
        if a > b or b > CPU_MAX:
            return None
        out.update(range(a, b + 1))
    return frozenset(out)


def fmt_cpus(cpus):
    """A set of CPUs as a kernel CPU list: {0, 1, 2, 5} -> "0-2,5"."""
    xs = sorted(cpus)
    parts = []
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        parts.append("%d" % xs[i] if i == j else "%d-%d" % (xs[i], xs[j]))
        i = j + 1
    return ",".join(parts)


def split_cpus(allowed):
    """(server CPUs, client CPUs, why not) for a split over ALLOWED, the CPUs
    this run may use: the server gets the lowest max(1, n // SERVER_SHARE),
    the clients the rest. With fewer than 2 CPUs there is no split: (None,
    None, the reason)."""
    xs = sorted(allowed)
    if len(xs) < 2:
        return None, None, "needs 2 CPUs (this run may use only CPU %s)" % fmt_cpus(xs) if xs else \
            "needs 2 CPUs (this run may use none)"
    k = max(1, len(xs) // SERVER_SHARE)
    return frozenset(xs[:k]), frozenset(xs[k:]), ""


def cpu_split_assignments(allowed_text):
    """bench.sh's shell assignments for the CPUs it may use: CPUS_ALLOWED,
    SERVER_CPUS and CLIENT_CPUS (kernel CPU lists; empty when there is no
    split) and SPLIT_WHY (why split cannot run here, else empty)."""
    allowed = parse_cpus(allowed_text)
    if allowed is None:
        raise ReportError("not a CPU list: %r" % allowed_text)
    server, client, why = split_cpus(allowed)
    q = shlex.quote
    return "CPUS_ALLOWED=%s\nSERVER_CPUS=%s\nCLIENT_CPUS=%s\nSPLIT_WHY=%s\n" % (
        q(fmt_cpus(allowed)), q(fmt_cpus(server) if server else ""), q(fmt_cpus(client) if client else ""),
        q(why))


def read_placement(rawdir):
    """RAW/placement.txt as bench.sh wrote it ("placement P", "allowed L",
    "server L", "client L", "external 1" with --server-url): {"placement",
    "allowed", "server", "client", "external"} with the lists as CPU sets
    (None where missing or not a list), or None when there is no file
    (older data)."""
    path = os.path.join(rawdir, "placement.txt")
    if not os.path.isfile(path):
        return None
    kv = read_kv(path)
    return {"placement": kv.get("placement"), "allowed": parse_cpus(kv.get("allowed")),
            "server": parse_cpus(kv.get("server")), "client": parse_cpus(kv.get("client")),
            "external": kv.get("external") == "1"}


def read_cpu_records(pdir):
    """A point's CPU-set records: (server, client). server: [(batch, "start"
    or "end", [CPU set or None per thread])] from server-cpus.txt ("batch K
    start|end LIST..."), client: [CPU set or None] from client-cpus.txt (one
    line per run, warmup included, written by the run's own process before
    it became the client). Each is None when its file is missing."""
    server = client = None
    try:
        with open(os.path.join(pdir, "server-cpus.txt"), encoding="utf-8", errors="replace") as f:
            server = []
            for line in f:
                w = line.split()
                if len(w) >= 3 and w[0] == "batch" and w[1].isdigit() and w[2] in ("start", "end"):
                    server.append((int(w[1]), w[2], [parse_cpus(x) for x in w[3:]]))
                else:
                    server.append((None, None, []))  # a line bench.sh does not write
    except OSError:
        pass
    try:
        with open(os.path.join(pdir, "client-cpus.txt"), encoding="utf-8", errors="replace") as f:
            client = [parse_cpus(line) for line in f if line.strip()]
    except OSError:
        pass
    return server, client


def want_sets(s):
    """(server set, client set) a point of S must show, from its
    placement.txt: split, its two sets; shared, the allowed set for both."""
    pl = s.get("_placement") or {}
    if pl.get("placement") == "split":
        return pl.get("server"), pl.get("client")
    return pl.get("allowed"), pl.get("allowed")


def rule_placement_cpus(s, c):
    """(issue 24) flagserver and the clients ran on the CPUs of the
    scenario's placement, as measured, not as set: every thread of
    flagserver at the start and at the end of every batch
    (server-cpus.txt), and every run of the client before it became the
    client (client-cpus.txt, one line per run). A missing or unreadable
    record breaks it too. Data from before placement (no "placement" in
    the scenario) is not checked, nor the server of a --server-url (another
    host's: bench.sh has no process of it to see)."""
    if not s.get("placement") or c["not_run"] is not None or not c["batches"]:
        return []
    pl = s.get("_placement")
    if not pl or pl.get("placement") != s["placement"]:
        return ["no record of the CPU sets of placement %s (raw/placement.txt)" % s["placement"]]
    srv, cli = want_sets(s)
    if not srv or not cli:
        return ["raw/placement.txt does not give the server's and the clients' CPU sets"]
    server, client = c.get("server_cpus"), c.get("client_cpus")
    out = [] if pl.get("external") else server_cpus_broken(server, c["batches"], srv)
    if client is None:
        out.append("no record of the client's CPUs (client-cpus.txt)")
    else:
        bad = [x for x in client if x != cli]
        if bad:
            out.append("a run of the client had CPU %s, its set is %s"
                       % (fmt_cpus(bad[0]) if bad[0] else "?", fmt_cpus(cli)))
        whole = all(b["rc"] == 0 and not b["timed_out"] for b in c["batches"])
        if whole and len(client) != c["nexpected_records"]:
            out.append("%d client CPU records, expected one per run: %d"
                       % (len(client), c["nexpected_records"]))
    return out


def server_cpus_broken(server, batches, want):
    """How flagserver's CPU records (read_cpu_records) break WANT: a
    record of every thread at the start and the end of every batch, each
    on WANT."""
    if server is None:
        return ["no record of flagserver's CPUs (server-cpus.txt)"]
    out = []
    seen = {(k, w): sets for k, w, sets in server}
    for b in batches:
        for when in ("start", "end"):
            sets = seen.get((b["batch"], when))
            if not sets:
                out.append("no record of flagserver's CPUs at the %s of batch %d" % (when, b["batch"]))
                continue
            bad = [x for x in sets if x != want]
            if bad:
                out.append("flagserver ran on CPU %s at the %s of batch %d, its set is %s"
                           % (" ".join(fmt_cpus(x) if x else "?" for x in bad), when, b["batch"],
                              fmt_cpus(want)))
    return out


def placement_line(s, who=""):
    """The scenario header's placement line, from what bench.sh recorded,
    or None for data without it. WHO: a scenario name to begin with."""
    pl = s.get("_placement")
    if not pl or not pl.get("allowed"):
        return None
    n = len(pl["allowed"])
    if pl.get("placement") == "split" and pl.get("server") and pl.get("client"):
        ns, nc = len(pl["server"]), len(pl["client"])
        if nc == 1:
            share = "on this %d-core machine the client gets one core" % n
        else:
            share = "the clients get %d of the %d CPUs this run may use, flagserver %d" % (nc, n, ns)
        return ("- %splacement split: flagserver on CPU %s, the clients (hyperfine and every line) on CPU %s "
                "(%s); measured per point: flagserver's threads' CPUs at the start and end of every batch, "
                "each run's CPUs as it started (raw/placement.txt, server-cpus.txt, client-cpus.txt)"
                % (who, fmt_cpus(pl["server"]), fmt_cpus(pl["client"]), share))
    return ("- %splacement shared: flagserver and the clients float over CPU %s, the %d CPUs this run may use "
            "(measured per point as for split)" % (who, fmt_cpus(pl["allowed"]), n))


def placement_text(v):
    """A split against shared comparison (compare(split, shared)) in words:
    "split faster by 1.12× (95% CI 1.05–1.20, p = 0.0002, 10+10 runs)",
    "split slower by ...", "no significant difference (would have detected
    ≥ 1.07×; ...)" or "too few runs to test (3 + 3)"."""
    runs = "%d+%d runs" % (v["n_a"], v["n_b"])
    if v["winner"]:
        return "split %s by %.2f× (95%% CI %.2f–%.2f, p = %s, %s)" % (
            "faster" if v["winner"] == "split" else "slower", v["ratio"], v["ci"][0], v["ci"][1],
            fmt_p(v["p"]), runs)
    if untested(v) or v["ratio"] is None:
        return v["claim"] or "no test possible"
    if roomless(v):
        return "%s (%s's median lower by %.2f×, 95%% CI %.2f–%.2f, p = %s)" % (
            v["claim"], v["faster_median"], v["ratio"], v["ci"][0], v["ci"][1], fmt_p(v["p"]))
    det = "would have detected ≥ %.2f×; " % v["detectable"] if v.get("detectable") else ""
    return "no significant difference (%s%s's median lower by %.2f×, 95%% CI %.2f–%.2f, p = %s, %s)" % (
        det, v["faster_median"], v["ratio"], v["ci"][0], v["ci"][1], fmt_p(v["p"]), runs)


def paired_with(out, name):
    """The scenario OUT/NAME ran interleaved with (raw/paired.txt, "with
    NAME-SPLIT", written by bench.sh's run_pair), or None."""
    try:
        with open(os.path.join(out, name, "raw", "paired.txt"), encoding="utf-8", errors="replace") as f:
            w = f.read().split()
    except OSError:
        return None
    return w[1] if len(w) == 2 and w[0] == "with" else None


def pair_schedule_text(out, base, twin):
    """How a pair was scheduled, in words: interleaved when each
    scenario's raw/paired.txt names the other, else one after the other."""
    if paired_with(out, base) == twin and paired_with(out, twin) == base:
        return ("The two ran together: at each m, batches of each line shared then split, the order rotated "
                "each round, one flagserver re-pinned before every batch (raw/pair-schedule.txt), so a "
                "drift of the machine lands on both placements alike.\n")
    return ("The two ran one after the other, not interleaved (`--consecutive`, or they could not share a "
            "server), so a drift of the machine between them lands on one side (docs/bench.md, "
            "\"Placement\").\n")


def placement_pairs(names):
    """[(NAME, NAME-SPLIT)] of the run's scenarios whose -SPLIT twin also ran."""
    return [(n, n + SPLIT_SUFFIX) for n in names if n + SPLIT_SUFFIX in names]


def placement_rows(base_pts, split_pts, resamples=BOOT_RESAMPLES):
    """One row per (m, line) valid in both runs of a pair, in the table's
    order: compare(split times, shared times)."""
    order = {l: i for i, l in enumerate(ALL_LINES)}
    a = {(p["line"], p["m"]): p for p in base_pts if p["valid"]}
    b = {(p["line"], p["m"]): p for p in split_pts if p["valid"]}
    rows = []
    for key in sorted(set(a) & set(b), key=lambda k: (k[1], order.get(k[0], 99))):
        v = compare(b[key]["times"], a[key]["times"], "split", "shared", resamples)
        rows.append({"line": key[0], "m": key[1], "shared": a[key], "split": b[key], "v": v})
    return rows


def placement_section(out, names, load, resamples=BOOT_RESAMPLES):
    """REPORT.md's "Placement: flagserver off the clients' cores" section:
    for each scenario run with its -SPLIT twin into this OUT, every line
    valid in both at each m, split against shared under the report's rule.
    LOAD(sdir) is load_scenario_points. "" when no pair ran."""
    pairs = placement_pairs(names)
    if not pairs:
        return ""
    text = ["## Placement: flagserver off the clients' cores\n",
            "Each scenario below ran twice into this folder: shared (flagserver and the clients float over "
            "the same CPUs) and split (its -SPLIT twin: flagserver pinned to its own CPUs, hyperfine and "
            "every line to the rest). For every line valid in both at an m, the per-run elapsed times are "
            "compared under the report's rule (Mann–Whitney U, the ratio of medians with its 95% bootstrap "
            "CI).\n"]
    for base, twin in pairs:
        sb, pb, _ = load(os.path.join(out, base))
        st, pt, _ = load(os.path.join(out, twin))
        text.append("### %s against %s\n" % (base, twin))
        text.append(pair_schedule_text(out, base, twin))
        if sb.get("_skipped") or st.get("_skipped"):
            text.append("No comparison: %s was not run here (%s).\n"
                        % ((base, sb["_skipped"]) if sb.get("_skipped") else (twin, st["_skipped"])))
            continue
        pls = [(sb.get("_placement") or {}).get("placement"), (st.get("_placement") or {}).get("placement")]
        if pls != ["shared", "split"]:
            text.append("No comparison: %s ran %s and %s ran %s (as recorded in raw/placement.txt; "
                        "`--placement` overrides every scenario's).\n"
                        % (base, pls[0] or "without a record", twin, pls[1] or "without a record"))
            continue
        for s in (sb, st):
            text.append(placement_line(s, "%s: " % s["name"]) or "- %s: no CPU sets recorded" % s["name"])
        text.append("")
        rows = placement_rows(pb, pt, resamples)
        if not rows:
            text.append("No line is valid in both at any m.\n")
            continue
        faster = [r for r in rows if r["v"]["winner"] == "split"]
        slower = [r for r in rows if r["v"]["winner"] == "shared"]
        more = [r for r in rows if roomless(r["v"])]
        none = [r for r in rows if not r["v"]["winner"] and not untested(r["v"]) and not roomless(r["v"])]
        few = [r for r in rows if untested(r["v"])]
        parts = []
        for what, rs in (("split faster", faster), ("split slower", slower), ("more runs needed", more),
                         ("no significant difference", none), ("too few runs to test", few)):
            if rs:
                parts.append("%s at %d" % (what, len(rs)))
        text.append("**What moving flagserver off the clients' cores changed** (%s, %d points): %s.\n"
                    % (base, len(rows), "; ".join(parts)))
        text.append("| m | line | shared: median (runs) | split: median (runs) | split against shared |")
        text.append("|---:|---|---:|---:|---|")
        for r in rows:
            text.append("| %d | %s | %.3f s (%d) | %.3f s (%d) | %s |" % (
                r["m"], show(r["line"]), r["shared"]["elapsed"]["median"], r["shared"]["runs"],
                r["split"]["elapsed"]["median"], r["split"]["runs"], placement_text(r["v"])))
        text.append("")
    return "\n".join(text)
