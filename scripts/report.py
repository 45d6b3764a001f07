#!/usr/bin/env python3
"""report.py -- flagbench's one report program (Python 3 standard library only).

scripts/bench.sh starts processes and copies files; everything that reads,
checks, reduces or decides lives here:

  resolve SCEN.json --out FILE [--quick] [--concur L] [--runs N]
                     [--python-root DIR] [--server-url URL] [--libcurl8]
        the scenario after --quick/--concur/--runs, written to FILE as JSON and
        printed as shell assignments for bench.sh (a setting is declared once,
        in bench/scenarios/NAME.json)
  libcurl8-scenarios BENCHDIR            the scenarios with a "libcurl8" section
                                         (bench.sh's libcurl 8 pass, --libcurl8)
  curl-config RESOLVED BASE_URL DIR      the reference line's curl --config
  check-server RESOLVED STATS            exit 1 (one line why) when a running
                                         server's /stats settings differ
  more-runs RAWDIR M                     how many more runs the pair at m needs
  point-line RAWDIR LINE M               one line of progress for a point
  meta OUT                               OUT/meta.txt -> OUT/meta.json
  report OUT                             points.json, .dat, plots.gp, REPORT.md
  compare OUT1 OUT2                      both runs' claims side by side; exit 1
                                         when one m has opposite claims
  budget [--results DIR]                 the default run's time, estimated from
                                         DIR/*/raw.json timings

Raw layout of one scenario (OUT/NAME/raw/, see docs/bench.md):
  scenario.json            the resolved scenario
  server.txt               "started 1|0", "url URL", "external 0|1"
  save.txt                 "dir DIR", "fs TYPE": where the downloads were saved
  server-stats.json        /stats right after the server started
  skipped.txt              (only when skipped) one line why
  LINE-mM/facts.txt        "batch K rc R timed_out 0|1 runs N warmup W" per
                           hyperfine batch, "probe_rc N", "command CMD"
  LINE-mM/hf-K.json        hyperfine --export-json of batch K
  LINE-mM/stats-K.json     /stats after batch K (reset before it)
  LINE-mM/records.jsonl    the program's --json records, warmup runs included
  LINE-mM/latencies.txt[.gz]  its --latencies lines, in run order
  LINE-mM/probe.err        stderr of one rerun when the point failed
The libcurl 8 pass of a default run: OUT/libcurl8/ (meta.txt, scenarios.txt,
NAME/raw/ as above), or OUT/libcurl8.skipped (one line why); REPORT.md's
"libcurl 7.88 vs 8.14" section sets it beside the main run.
Old results (OUT/NAME/raw.json + scenario.json of the jq pipeline) are read too:
they have no per-request latencies, so pooled percentiles are reported absent.
"""

import argparse
import gzip
import json
import math
import os
import random
import shlex
import statistics
import sys
from functools import lru_cache

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

C_LINES = ["threadpool", "asyncloop"]
# The variants of the loop (issue 11): their own lines where a scenario lists
# them under "variants". Ids are ASCII (they name directories); SHOW is what
# the tables and plots print.
VAR_LINES = ["asyncloop+save1", "asyncloop-x2", "asyncloop-multi16", "asyncloop-x2-multi8"]
VAR_ARGS = {"asyncloop+save1": "--save-threads 1", "asyncloop-x2": "--loops 2",
            "asyncloop-multi16": "--multis 16", "asyncloop-x2-multi8": "--loops 2 --multis 8"}
SHOW = {"asyncloop-x2": "asyncloop×2", "asyncloop-multi16": "asyncloop multi×16",
        "asyncloop-x2-multi8": "asyncloop×2 multi×8"}
DESIGN_LINES = C_LINES + VAR_LINES  # the designs the verdict chooses among
REF_LINES = ["curl"]
PY_LINES = ["py-threadpool", "py-asyncio"]
ALL_LINES = C_LINES + VAR_LINES + REF_LINES + PY_LINES
PY_FILES = {"py-threadpool": "flags2_threadpool.py", "py-asyncio": "flags2_asyncio.py"}
CURL_MAX_PARALLEL = 300  # curl's --parallel-max limit

ALPHA = 0.01  # significance level of a "faster" claim
MIN_RATIO = 1.05  # and the smallest ratio of medians worth a claim
BOOT_RESAMPLES = 10000
BOOT_SEED = 20261125
PCTS = [50, 99, 99.9]
VS_CURL_MIN_RUNS = 5  # runs a side before a design is held against curl's time


def show(line):
    """A line's name in tables and sentences."""
    return SHOW.get(line, line)


class ReportError(Exception):
    """Bad input: one clear line, exit 1."""


# ---------------------------------------------------------------- statistics


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


def compare(times_a, times_b, name_a, name_b, resamples=BOOT_RESAMPLES):
    """The verdict on two lines' per-run elapsed samples. A line is "faster"
    only when Mann-Whitney's p < ALPHA AND the ratio of medians (slower /
    faster) is >= MIN_RATIO; the ratio is given with its 95% bootstrap CI."""
    out = {"a": name_a, "b": name_b, "n_a": len(times_a), "n_b": len(times_b)}
    if len(times_a) < 2 or len(times_b) < 2:
        out.update(winner=None, claim="no significant difference", p=None, ratio=None,
                   ci=None, why="fewer than 2 runs each: no test possible")
        return out
    _, p, method = mann_whitney(times_a, times_b)
    ma, mb = statistics.median(times_a), statistics.median(times_b)
    if ma <= mb:  # a is at least as fast: ratio = slower / faster
        fast, slow, tf, ts = name_a, name_b, times_a, times_b
    else:
        fast, slow, tf, ts = name_b, name_a, times_b, times_a
    ratio = statistics.median(ts) / statistics.median(tf)
    lo, hi = bootstrap_ratio_ci(ts, tf, resamples)
    out.update(p=p, method=method, ratio=ratio, ci=[lo, hi], faster_median=fast)
    if p < ALPHA and ratio >= MIN_RATIO:
        out.update(winner=fast, claim="%s faster" % fast, why="")
    elif p < ALPHA:
        out.update(winner=None, claim="no significant difference",
                   why="significant (p = %s) but the ratio %.3f is below %.2f: no claim"
                   % (fmt_p(p), ratio, MIN_RATIO))
    else:
        out.update(winner=None, claim="no significant difference",
                   why="p = %s >= %g" % (fmt_p(p), ALPHA))
    return out


def fmt_p(p):
    if p is None:
        return "–"
    if p < 0.0001:
        return "%.1e" % p
    return "%.4f" % p


# ---------------------------------------------------------------- scenarios


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise ReportError("cannot read %s: %s" % (path, e.strerror))
    except json.JSONDecodeError as e:
        raise ReportError("%s is not JSON: %s" % (path, e))


def load_json_or_none(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def count_codes(codeset):
    if codeset == "e":
        return 676
    if codeset != "a":
        raise ReportError("codeset must be 'a' or 'e', not %r" % codeset)
    path = os.path.join(ROOT, "data", "country_codes.txt")
    with open(path, encoding="ascii") as f:
        return sum(1 for line in f if len(line.strip()) == 2 and line.strip().isupper())


def server_args(server):
    """flagserver options from a scenario's server settings."""
    args = []
    d = server.get("delay_ms", {"min": 0, "max": 0})
    if d["max"] > 0:
        args += ["--delay", str(d["min"]) if d["min"] == d["max"] else "%d:%d" % (d["min"], d["max"])]
    if server.get("error_rate", 0) > 0:
        args += ["--error-rate", repr(server["error_rate"]),
                 "--error-kind", server.get("error_kind", "status")]
    if server.get("seed") is not None:
        args += ["--seed", str(server["seed"])]
    if server.get("tls") and not tls_resume(server):
        args += ["--no-tls-resume"]
    return args


# ---------------------------------------------------------------- TLS (issue 10)
#
# A scenario's "server" may say "tls": true (bench.sh then makes certificates,
# starts flagserver with --tls-cert/--tls-key, and gives every client
# --cacert) and "tls_resume": false (flagserver --no-tls-resume). A scenario
# may say "fresh_connect": true: every client line gets --fresh-connect, the
# curl reference line -H 'Connection: close'. flagserver's /stats then counts
# tls_handshakes (completed, full + resumed), tls_resumed and tls_failed per
# batch; these functions turn them into table columns, INVALID reasons and the
# "second core" sentence of the verdict.

# The handshakes of bench.sh's own /stats read after a batch: its connection's
# handshake completes before the server answers, so the batch's counters
# include it (the reset's own handshake is zeroed by the reset).
STATS_HANDSHAKES = 1


def tls_resume(server):
    """Whether a scenario's TLS server resumes sessions (the default)."""
    return server.get("tls_resume", True) is not False


def tls_point(s, batches, m):
    """The server's TLS counters of a point, summed over its batches with
    bench.sh's own /stats handshake taken out, per run (warmup runs
    included: the server cannot tell them apart), and the INVALID reasons
    they give. ({} , []) for a plain-HTTP scenario."""
    if not s.get("tls"):
        return {}, []
    reasons = []
    tot = {"handshakes": 0, "resumed": 0, "failed": 0}
    nruns = 0
    missing = False
    for b in batches:
        st = b["stats"]
        if st is None or b["rc"] != 0 or b["timed_out"]:
            continue  # reported elsewhere (no /stats, failed batch)
        if not all(k in st for k in ("tls_handshakes", "tls_resumed", "tls_failed")):
            missing = True
            continue
        n = b["warmup"] + b["runs"]
        want = s["requests"] * n  # the requests of the batch
        hs = max(0, st["tls_handshakes"] - STATS_HANDSHAKES)
        res, fail = st["tls_resumed"], st["tls_failed"]
        tot["handshakes"] += hs
        tot["resumed"] += res
        tot["failed"] += fail
        nruns += n
        if fail > 0:
            reasons.append("flagserver counted %d failed TLS handshake(s) in batch %d" % (fail, b["batch"]))
        if s.get("fresh_connect") and hs < want:
            reasons.append("%d TLS handshakes for %d requests in batch %d: not one per request "
                           "(--fresh-connect)" % (hs, want, b["batch"]))
        if not s.get("fresh_connect"):
            if hs == 0 and want > 0:
                reasons.append("no TLS handshake counted in batch %d" % b["batch"])
            elif s["requests"] > m and hs >= want:
                reasons.append("%d TLS handshakes for %d requests in batch %d: a handshake per "
                               "request, not keep-alive" % (hs, want, b["batch"]))
        if not tls_resume(s["server"]) and res > 0:
            reasons.append("%d resumed TLS handshake(s) in batch %d although the server has "
                           "resumption off" % (res, b["batch"]))
    if missing:
        reasons.append("no TLS counters in flagserver's /stats")
    per_run = {k: (v / nruns if nruns else None) for k, v in tot.items()}
    return {"total": tot, "per_run": per_run, "runs_counted": nruns}, reasons


def tls_header():
    """The TLS columns' header cells (before the status column)."""
    return ["TLS handshakes / resumed / failed per run (server)", "client CPU s / wall s"]


def tls_cells(p):
    t = (p.get("tls") or {}).get("per_run") or {}
    if t.get("handshakes") is None:
        hrf = "–"
    else:
        hrf = " / ".join(fmt_count(t[k]) for k in ("handshakes", "resumed", "failed"))
    cores = p.get("cpu_per_wall")
    return [hrf, f(cores, 2) if cores is not None else "–"]


def tls_table_note(s):
    """What the TLS columns mean, under a TLS scenario's table."""
    return ("TLS handshakes / resumed / failed per run: flagserver's `tls_handshakes` (completed, full + "
            "resumed), `tls_resumed` and `tls_failed`, counted over each batch (reset before it, read after "
            "it, bench.sh's own /stats handshake taken out) and divided by the batch's runs, warmup "
            "included. Full handshakes = handshakes − resumed. Server: TLS resumption %s; clients: %s. "
            "A point is INVALID when a handshake failed%s%s. Client CPU s / wall s: the client's median "
            "user + system CPU over its median elapsed time — above 1 it kept more than one core busy.\n"
            % ("on" if tls_resume(s["server"]) else "off (--no-tls-resume: every handshake is full)",
               "--fresh-connect (curl: -H 'Connection: close'), a new connection per request"
               if s.get("fresh_connect") else "keep-alive",
               ", when there were fewer handshakes than requests" if s.get("fresh_connect")
               else ", when none was counted, when there was one per request (no keep-alive)",
               "" if tls_resume(s["server"]) else ", or when one was resumed"))


def fmt_count(x):
    """A per-run count: an integer when it is one, else one decimal."""
    return "%d" % round(x) if abs(x - round(x)) < 0.05 else "%.1f" % x


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
    none = [v["m"] for v in verdicts if not v["winner"]]
    rest = []
    if loop:
        rest.append("asyncloop is faster at %s" % mrange(loop))
    if none:
        rest.append("no significant difference at %s" % mrange(none))
    if not wins:
        return ("Second core: the pool's second core wins nowhere in this sweep — threadpool is "
                "not significantly faster at any m (%s)." % "; ".join(rest))
    parts = ["m = %d by %.2f× (95%% CI %.2f–%.2f, p = %s; client CPU s per wall s: threadpool %s, "
             "asyncloop %s)" % (v["m"], v["ratio"], v["ci"][0], v["ci"][1], fmt_p(v["p"]),
                                cores("threadpool", v["m"]), cores("asyncloop", v["m"]))
             for v in wins]
    return ("Second core: the pool wins at %s%s." % (
        ", ".join(parts), "; elsewhere %s" % "; ".join(rest) if rest else ""))


def resolve(scen_path, quick=False, concur=None, runs=None, python_root=None, python_unavailable=None,
            libcurl8=False):
    """The scenario as bench.sh runs it: --quick's values merged over the
    defaults, --concur/--runs applied, every point listed with its runs or the
    reason it is not run here. libcurl8: the reduced set of the scenario's
    "libcurl8" section instead (the libcurl 7.88 vs 8.14 table; no Python)."""
    raw = load_json(scen_path)
    name = os.path.splitext(os.path.basename(scen_path))[0]
    s = {k: v for k, v in raw.items() if k not in ("quick", "libcurl8")}
    if quick:
        s.update(raw.get("quick", {}))
    if libcurl8:
        if "libcurl8" not in raw:
            raise ReportError("scenario %s has no \"libcurl8\" section" % name)
        s.update(raw["libcurl8"])
        s["python"] = {}
    if concur:
        s["concur"] = concur
        s["python"] = dict(s.get("python", {}), concur=concur)
    if runs:
        s["runs"] = runs
        s["max_runs"] = max(runs, s.get("max_runs", runs))
    s["name"] = name
    s["quick"] = bool(quick)
    s.setdefault("max_runs", s["runs"])
    s.setdefault("adapt_budget_s", 0)
    s.setdefault("ok_exits", [0])
    s["ncodes"] = count_codes(s["codeset"])
    s["requests"] = s["ncodes"] * s["repeat"]
    d = s["server"]["delay_ms"]
    s["delay_s"] = (d["min"] + d["max"]) / 2 / 1000
    s["server_args"] = server_args(s["server"])
    s["tls"] = bool(s["server"].get("tls"))
    s["fresh_connect"] = bool(s.get("fresh_connect"))
    # fewer runs at a costly m ("point_runs": [{"m", "runs", "warmup"}]);
    # --runs means every point
    point_runs = {} if runs else {r["m"]: r for r in s.get("point_runs", [])}
    s["_runs_override"] = bool(runs)
    s["output_dir"] = output_dir(raw, name)
    py = s.get("python", {})
    proot = python_root or os.path.join(ROOT, "peers", "python")
    points = []
    variants = s.get("variants", [])
    for v in variants:
        if v not in VAR_LINES:
            raise ReportError("scenario %s: unknown variant line %r (known: %s)"
                              % (name, v, ", ".join(VAR_LINES)))
    # "variant_concur": {line: [m, ...]} runs a variant at these m only (of
    # the scenario's list): --multis matters only at thousands in flight
    variant_concur = s.get("variant_concur", {})
    for i, m in enumerate(s["concur"]):
        # the two designs take turns going first, so a drift of the machine
        # (warming up, another process) does not always favour the same one
        for line in (C_LINES if i % 2 == 0 else C_LINES[::-1]) + variants + REF_LINES:
            if line in variant_concur and m not in variant_concur[line]:
                continue
            pr = point_runs.get(m, {})
            p = {"line": line, "m": m, "runs": pr.get("runs", s["runs"]),
                 "warmup": pr.get("warmup", s["warmup"]), "not_run": None}
            if line == "curl" and m > CURL_MAX_PARALLEL:
                p["not_run"] = "curl's --parallel-max is limited to %d" % CURL_MAX_PARALLEL
            points.append(p)
    for m in py.get("concur", []):
        for line in PY_LINES:
            p = {"line": line, "m": m, "runs": py.get("runs", s["runs"]),
                 "warmup": py.get("warmup", 0), "not_run": None}
            if not os.path.isfile(os.path.join(proot, PY_FILES[line])):
                p["not_run"] = "peers/python/%s not present" % PY_FILES[line]
            elif python_unavailable:
                p["not_run"] = python_unavailable
            points.append(p)
    s["points"] = points
    return s


OUTPUT_DIRS = ("default", "build")


def output_dir(raw, name):
    """Where a scenario saves: "default" (the run's folder, tmpfs unless
    --save-dir) or "build" (BUILD/bench-disk/NAME, the build directory's real
    file system: DISK)."""
    v = raw.get("output_dir", "default")
    if v not in OUTPUT_DIRS:
        raise ReportError("scenario %s: output_dir must be one of %s, not %r"
                          % (name, ", ".join(OUTPUT_DIRS), v))
    return v


def shell_assignments(s):
    q = shlex.quote
    run = [p for p in s["points"] if p["not_run"] is None]
    lines = [
        "SCEN_DESC=%s" % q(s["desc"]),
        "SERVER_ARGS=(%s)" % " ".join(q(a) for a in s["server_args"]),
        "CODESET=%s" % q(s["codeset"]),
        "REPEAT=%d" % s["repeat"],
        "NREQUESTS=%d" % s["requests"],
        "TIMEOUT_S=%s" % q(str(s["timeout_s"])),
        "POINT_LIMIT_S=%d" % s["point_limit_s"],
        "IGNORE_FAILURE=%d" % (1 if s["ok_exits"] != [0] else 0),
        "TLS=%d" % (1 if s.get("tls") else 0),
        "FRESH_CONNECT=%d" % (1 if s.get("fresh_connect") else 0),
        "OUTPUT_DIR=%s" % q(s.get("output_dir", "default")),
        "CONCUR=(%s)" % " ".join(str(m) for m in s["concur"]),
        "POINTS=(%s)" % " ".join(q("%s %d %d %d" % (p["line"], p["m"], p["runs"], p["warmup"]))
                                 for p in run),
        # the variant lines' options, declared once (VAR_ARGS)
        "declare -gA LINE_ARGS=(%s)" % " ".join("[%s]=%s" % (q(l), q(a)) for l, a in VAR_ARGS.items()),
    ]
    return "\n".join(lines) + "\n"


def curl_config(s, base_url, dl):
    codes = scenario_codes(s["codeset"])
    out = ["# flagbench reference: %d transfers" % s["requests"]]
    for _ in range(s["repeat"]):
        for cc in codes:
            lc = cc.lower()
            out.append('url = "%s/%s/%s.gif"' % (base_url, lc, lc))
            out.append('output = "%s/%s.gif"' % (dl, cc))
    return "\n".join(out) + "\n"


def scenario_codes(codeset):
    if codeset == "e":
        return [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    with open(os.path.join(ROOT, "data", "country_codes.txt"), encoding="ascii") as f:
        return [w for w in (line.strip() for line in f) if len(w) == 2 and w.isupper()]


def settings_mismatch(s, stats):
    """None when /stats' settings match the scenario's server settings; a
    sentence naming each difference otherwise; "" when /stats has none."""
    st = (stats or {}).get("settings")
    if not isinstance(st, dict):
        return ""
    want = s["server"]
    diffs = []
    wd, gd = want.get("delay_ms", {"min": 0, "max": 0}), st.get("delay_ms") or {}
    if (gd.get("min"), gd.get("max")) != (wd["min"], wd["max"]):
        diffs.append("delay %s ms (scenario: %s ms)" % (fmt_range(gd), fmt_range(wd)))
    wr, gr = want.get("error_rate", 0), st.get("error_rate")
    if gr is None or abs(float(gr) - float(wr)) > 1e-9:
        diffs.append("error rate %s (scenario: %s)" % (gr, wr))
    if wr > 0 and st.get("error_kind") != want.get("error_kind", "status"):
        diffs.append("error kind %s (scenario: %s)" % (st.get("error_kind"), want.get("error_kind")))
    if wr > 0 and want.get("seed") is not None and st.get("seed") != want["seed"]:
        diffs.append("seed %s (scenario: %s)" % (st.get("seed"), want["seed"]))
    diffs += tls_settings_mismatch(want, st)
    if not diffs:
        return None
    return "server settings differ from the scenario: " + ", ".join(diffs)


def tls_settings_mismatch(want, st):
    """The TLS differences between a scenario's server settings and /stats
    settings: a plain server for a TLS scenario (or no "tls" in its settings:
    a server without TLS), a TLS server for a plain one, another resumption."""
    on = bool(want.get("tls"))
    got = st.get("tls")
    if got is None:
        return ["TLS not reported (scenario: on)"] if on else []
    if bool(got) != on:
        return ["TLS %s (scenario: %s)" % ("on" if got else "off", "on" if on else "off")]
    if on and "tls_resume" in st and bool(st["tls_resume"]) != tls_resume(want):
        return ["TLS resumption %s (scenario: %s)" % ("on" if st["tls_resume"] else "off",
                                                       "on" if tls_resume(want) else "off")]
    return []


def fmt_range(d):
    if not isinstance(d, dict):
        return "?"
    if d.get("min") == d.get("max"):
        return "%s" % d.get("min")
    return "%s–%s" % (d.get("min"), d.get("max"))


# ---------------------------------------------------------------- raw points


def read_facts(path):
    facts = {"batches": [], "probe_rc": None, "command": ""}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return facts
    for line in lines:
        key, _, rest = line.partition(" ")
        if key == "batch":
            w = rest.split()
            kv = dict(zip(w[1::2], w[2::2]))
            facts["batches"].append({
                "batch": int(w[0]), "rc": int(kv.get("rc", "0")),
                "timed_out": kv.get("timed_out") == "1",
                "runs": int(kv.get("runs", "0")), "warmup": int(kv.get("warmup", "0")),
            })
        elif key == "probe_rc":
            facts["probe_rc"] = int(rest)
        elif key == "command":
            facts["command"] = rest
    return facts


def read_records(path):
    recs = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        recs.append(json.loads(line))
                    except json.JSONDecodeError:
                        recs.append(None)
    except OSError:
        pass
    return recs


def read_latencies(pdir):
    """The --latencies lines of a point as floats (None when no file)."""
    for name, opener in (("latencies.txt.gz", gzip.open), ("latencies.txt", open)):
        path = os.path.join(pdir, name)
        if os.path.exists(path):
            with opener(path, "rt", encoding="ascii") as f:
                return [float(x) for x in f.read().split()]
    return None


def load_new_point(rawdir, line, m):
    """One point of the new raw layout as a dict of raw facts."""
    pdir = os.path.join(rawdir, "%s-m%d" % (line, m))
    facts = read_facts(os.path.join(pdir, "facts.txt"))
    batches = []
    for b in facts["batches"]:
        k = b["batch"]
        hf = load_json_or_none(os.path.join(pdir, "hf-%d.json" % k))
        res = (hf or {}).get("results") or [None]
        b = dict(b, hyperfine=res[0], stats=load_json_or_none(os.path.join(pdir, "stats-%d.json" % k)))
        batches.append(b)
    probe_err = ""
    try:
        with open(os.path.join(pdir, "probe.err"), encoding="utf-8", errors="replace") as f:
            probe_err = f.readline().strip()
    except OSError:
        pass
    return {
        "line": line, "m": m, "dir": pdir, "batches": batches, "command": facts["command"],
        "probe_rc": facts["probe_rc"], "probe_err": probe_err,
        "records": read_records(os.path.join(pdir, "records.jsonl")),
        "latencies": read_latencies(pdir),
        "ran": os.path.isdir(pdir),
    }


def load_old_points(old_raw, s):
    """Points of the jq pipeline's raw.json in the new shape."""
    pts = []
    for p in old_raw:
        hf = p.get("hyperfine")
        st = p.get("stats")
        batch = {"batch": 1, "rc": p.get("hyperfine_rc") if p.get("hyperfine_rc") is not None else 0,
                 "timed_out": bool(p.get("timed_out")), "runs": s["runs"], "warmup": s["warmup"],
                 "hyperfine": hf, "stats": st}
        pts.append({
            "line": p["backend"], "m": p["m"], "dir": None,
            "batches": [batch] if p.get("server_started", True) else [],
            "command": p.get("command", ""), "probe_rc": p.get("client_rc"),
            "probe_err": p.get("client_err") or "", "records": p.get("records") or [],
            "latencies": None, "ran": p.get("server_started", True), "old": True,
        })
    return pts


# ---------------------------------------------------------------- reduction


def reduce_point(s, raw, server_started=True, server_mismatch=None):
    """Validity and the table's numbers for one raw point."""
    line, m = raw["line"], raw["m"]
    is_client = line != "curl"
    reasons = []
    not_run = None
    batches = raw["batches"]
    times, exit_codes = [], []
    nexpected_records = 0
    peak = None
    server_reqs_bad = []
    stats_missing = False
    settings_note = None
    for b in batches:
        hf = b["hyperfine"] or {}
        nexpected_records += b["warmup"] + b["runs"]
        if b["timed_out"]:
            not_run = "stopped at the point limit of %d s" % s.get("point_limit_s", 0)
        elif b["rc"] != 0:
            reasons.append("hyperfine failed (exit %d)" % b["rc"])
        t = hf.get("times") or []
        times += t
        exit_codes += hf.get("exit_codes") or []
        if not b["timed_out"] and b["rc"] == 0 and len(t) != b["runs"]:
            reasons.append("batch %d: %d timed runs, expected %d" % (b["batch"], len(t), b["runs"]))
        st = b["stats"]
        if st is None:
            stats_missing = True
        else:
            pk = st.get("peak_in_flight")
            if pk is not None:
                peak = pk if peak is None else max(peak, pk)
            want = s["requests"] * (b["warmup"] + b["runs"])
            if b["rc"] == 0 and not b["timed_out"] and st.get("requests") != want:
                server_reqs_bad.append("flagserver counted %s requests in batch %d, expected %d"
                                       % (st.get("requests"), b["batch"], want))
            mm = settings_mismatch(s, st)
            if mm:
                reasons.append(mm)
            elif mm == "":
                settings_note = "no settings in /stats (an older flagserver): delay and errors not checked"
    if not server_started:
        reasons = ["flagserver did not start"]
    elif not batches:
        reasons.append("no hyperfine batch ran")
    if server_mismatch:
        reasons.append(server_mismatch)
    # a client that refuses m on this machine is not broken
    if (raw.get("probe_rc") == 2 and "file descriptors" in (raw.get("probe_err") or "")):
        not_run = raw["probe_err"].lstrip("* ").strip()
    bad_exits = sorted({c for c in exit_codes if c not in s["ok_exits"]})
    if bad_exits:
        reasons.append("run exit status %s" % ",".join(str(c) for c in bad_exits))
    recs = [r for r in raw["records"] if r is not None]
    if len(recs) != len(raw["records"]):
        reasons.append("a --json record does not parse")
    # the timed runs' records: drop each batch's warmup records
    timed = []
    pos = 0
    for b in batches:
        timed += recs[pos + b["warmup"]: pos + b["warmup"] + b["runs"]]
        pos += b["warmup"] + b["runs"]
    if is_client and server_started and batches and not_run is None:
        if len(recs) != nexpected_records:
            reasons.append("%d --json records, expected %d" % (len(recs), nexpected_records))
        sums = [r for r in recs if r["ok"] + r["not_found"] + r["errors"] != r["requests"]]
        if sums:
            reasons.append("ok + not found + errors != requests in %d run(s)" % len(sums))
        wrong = [r for r in recs if r["requests"] != s["requests"]]
        if wrong:
            reasons.append("a run made %d requests, expected %d" % (wrong[0]["requests"], s["requests"]))
        errs = sum(r["errors"] for r in recs)
        if errs > 0 and s["ok_exits"] == [0]:
            reasons.append("the client reported %d failed requests" % errs)
        # a C client records the libcurl it loaded: it must be the declared one
        loaded = sorted({r["libcurl"] for r in recs if not line.startswith("py-") and r.get("libcurl")})
        if s.get("_libcurl") and loaded and loaded != [s["_libcurl"]]:
            reasons.append("the client loaded libcurl %s, the run declares %s"
                           % (", ".join(loaded), s["_libcurl"]))
    if server_started and batches and stats_missing and not_run is None:
        reasons.append("no flagserver /stats")
    if peak is not None and peak > m:
        reasons.append("peak_in_flight %d > m = %d" % (peak, m))
    if not_run is None:
        reasons += server_reqs_bad
    tls, tls_bad = tls_point(s, batches, m)
    if not_run is None and server_started:
        reasons += tls_bad
    # pooled latencies of the timed runs: split the file by each record's
    # ok + not_found, in run order
    lat = raw.get("latencies")
    pooled = None
    if is_client and lat is not None and not_run is None:
        want = sum(r["ok"] + r["not_found"] for r in recs)
        if len(lat) != want:
            reasons.append("latencies file has %d lines, the records account for %d" % (len(lat), want))
        else:
            pooled = []
            pos = 0
            ri = 0
            for b in batches:
                for k in range(b["warmup"] + b["runs"]):
                    if ri >= len(recs):
                        break
                    n = recs[ri]["ok"] + recs[ri]["not_found"]
                    if k >= b["warmup"]:
                        pooled += lat[pos:pos + n]
                    pos += n
                    ri += 1
            pooled.sort()
    elif is_client and lat is None and not raw.get("old") and not_run is None and batches:
        reasons.append("no latencies file")
    if not_run:
        reasons = [r for r in reasons if r.startswith("server settings differ")]
    valid = not reasons and not not_run
    el = [] if not_run else times
    pt = {
        "line": line, "m": m, "requests": s["requests"], "runs": len(times),
        "valid": valid, "not_run": not_run, "reasons": reasons, "settings_note": settings_note,
        "times": el,
        "elapsed": spread(el),
        "peak_in_flight": peak,
    }
    m_eff = min(m, s["requests"], CURL_MAX_PARALLEL if line == "curl" else m)
    conc = [r.get("concur_req") for r in recs if r.get("concur_req") is not None]
    if conc:
        m_eff = max(conc)
    pt["concur_req"] = m_eff
    pt["ideal_s"] = (math.ceil(s["requests"] / m_eff) * s["delay_s"]) if s["delay_s"] > 0 else None
    med = pt["elapsed"]["median"]
    pt["efficiency"] = pt["ideal_s"] / med if pt["ideal_s"] and med else None
    pt["requests_per_s"] = s["requests"] / med if med else None
    if pooled:
        pt["latency_ms"] = {("p%g" % q): percentile(pooled, q / 100) for q in PCTS}
        pt["latency_ms"]["n"] = len(pooled)
        pt["latency_source"] = "pooled"
    else:
        pt["latency_ms"] = None
        pt["latency_source"] = None
    pt["_pooled"] = pooled
    # the libcurl each point ran: a client's records say; curl's is the run's
    pt["libcurl"] = ", ".join(sorted({r["libcurl"] for r in recs if r.get("libcurl")})) or None
    if is_client:
        pt["rss_kb"] = median([r["max_rss_kb"] for r in timed])
        cu = median([r["cpu_user_s"] for r in timed])
        cs = median([r["cpu_sys_s"] for r in timed])
        pt["connections"] = median([r["connections"] for r in timed])
        pt["ok"] = median([r["ok"] for r in timed])
        pt["not_found"] = median([r["not_found"] for r in timed])
        pt["errors"] = median([r["errors"] for r in timed])
    else:
        pt["rss_kb"] = None
        users = [b["hyperfine"].get("user") for b in batches if b["hyperfine"]]
        syss = [b["hyperfine"].get("system") for b in batches if b["hyperfine"]]
        cu = median([u for u in users if u is not None])
        cs = median([x for x in syss if x is not None])
        pt["connections"] = None
        st = batches[-1]["stats"] if batches and batches[-1]["stats"] else {}
        n = batches[-1]["warmup"] + batches[-1]["runs"] if batches else 1
        by = st.get("by_status", {}) if st else {}
        if st:
            pt["ok"] = by.get("200", 0) / n
            pt["not_found"] = by.get("404", 0) / n
            pt["errors"] = (st.get("requests", 0) - by.get("200", 0) - by.get("404", 0)) / n
        else:
            pt["ok"] = pt["not_found"] = pt["errors"] = None
    pt["tls"] = tls or None
    # cores the client kept busy: CPU seconds per wall second (medians)
    pt["cpu_per_wall"] = (cu + cs) / med if cu is not None and cs is not None and med else None
    k = 1000 / s["requests"]
    pt["cpu_user_per_1k"] = cu * k if cu is not None else None
    pt["cpu_sys_per_1k"] = cs * k if cs is not None else None
    if not valid:
        for key in ("requests_per_s", "efficiency"):
            pt[key] = None
    return pt


def spread(xs):
    if not xs:
        return {"median": None, "min": None, "max": None, "q1": None, "q3": None}
    q1, q3 = quartiles(xs)
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "q1": q1, "q3": q3}


def not_run_point(s, p):
    return {"line": p["line"], "m": p["m"], "requests": s["requests"], "runs": 0, "valid": False,
            "not_run": p["not_run"], "reasons": [], "settings_note": None, "times": [],
            "elapsed": spread([]), "peak_in_flight": None, "concur_req": None, "ideal_s": None,
            "efficiency": None, "requests_per_s": None, "latency_ms": None, "latency_source": None,
            "_pooled": None, "rss_kb": None, "cpu_user_per_1k": None, "cpu_sys_per_1k": None,
            "connections": None, "ok": None, "not_found": None, "errors": None,
            "tls": None, "cpu_per_wall": None}


def read_kv(path):
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                if k:
                    out[k] = v
    except OSError:
        pass
    return out


def load_scenario_points(sdir):
    """(scenario, points, notes) of OUT/NAME, new or old layout."""
    rawdir = os.path.join(sdir, "raw")
    notes = []
    if os.path.isdir(rawdir) and os.path.isfile(os.path.join(rawdir, "scenario.json")):
        s = load_json(os.path.join(rawdir, "scenario.json"))
        # the libcurl the run declares (bench.sh --libcurl, else the system's)
        s["_libcurl"] = read_meta(os.path.dirname(os.path.abspath(sdir))).get("libcurl")
        server = read_kv(os.path.join(rawdir, "server.txt"))
        started = server.get("started", "1") == "1"
        skipped = None
        try:
            with open(os.path.join(rawdir, "skipped.txt"), encoding="utf-8") as f:
                skipped = f.read().strip()
        except OSError:
            pass
        s["_server_url"] = server.get("url", "")
        s["_external"] = server.get("external", "0") == "1"
        if skipped:
            s["_skipped"] = skipped
            return s, [], notes
        first = load_json_or_none(os.path.join(rawdir, "server-stats.json"))
        mismatch = settings_mismatch(s, first) if first is not None else None
        if first is not None and mismatch == "":
            notes.append("flagserver's /stats has no \"settings\" (an older server): its delay "
                         "and error settings could not be checked against the scenario.")
        pts = []
        for p in s["points"]:
            if p["not_run"]:
                pts.append(not_run_point(s, p))
                continue
            raw = load_new_point(rawdir, p["line"], p["m"])
            if not raw["ran"]:
                pts.append(not_run_point(s, dict(p, not_run="not measured (the sweep stopped)")))
                continue
            pts.append(reduce_point(s, raw, started, mismatch or None))
        return s, pts, notes
    old = os.path.join(sdir, "raw.json")
    if os.path.isfile(old) and os.path.isfile(os.path.join(sdir, "scenario.json")):
        so = load_json(os.path.join(sdir, "scenario.json"))
        s = old_scenario(so)
        notes.append("Old-format data (the jq pipeline's raw.json): no per-request latencies, so "
                     "no pooled percentiles; %d run(s) per point." % s["runs"])
        if s["runs"] < 5:
            notes.append("With fewer than 5 runs per point the Mann–Whitney test cannot reach "
                         "p < 0.01, so no \"faster\" claim is possible from these data.")
        pts = [reduce_point(s, raw, raw["ran"]) for raw in load_old_points(load_json(old), s)]
        seen = {(p["line"], p["m"]) for p in pts}
        for m in s["concur"]:
            if m > CURL_MAX_PARALLEL and ("curl", m) not in seen:
                pts.append(not_run_point(s, {"line": "curl", "m": m,
                                             "not_run": "curl's --parallel-max is limited to 300"}))
        return s, pts, notes
    raise ReportError("%s holds no raw data (neither raw/scenario.json nor raw.json)" % sdir)


def old_scenario(so):
    """The jq pipeline's scenario.json in the new shape."""
    a = so.get("server_args", "").split()
    delay = {"min": 0, "max": 0}
    rate, kind, seed = 0, "status", None
    for i, w in enumerate(a[:-1]):
        if w == "--delay":
            lo, _, hi = a[i + 1].partition(":")
            delay = {"min": int(lo), "max": int(hi or lo)}
        elif w == "--error-rate":
            rate = float(a[i + 1])
        elif w == "--error-kind":
            kind = a[i + 1]
        elif w == "--seed":
            seed = int(a[i + 1])
    return {
        "name": so["name"], "desc": so.get("desc", ""), "codeset": so["codeset"],
        "repeat": so["repeat"], "ncodes": so["ncodes"], "requests": so["requests"],
        "delay_s": so["delay_s"], "runs": so["runs"], "max_runs": so["runs"], "warmup": so["warmup"],
        "ok_exits": so["ok_exits"], "timeout_s": so["timeout_s"], "point_limit_s": 300,
        "plots": so.get("plots", []), "concur": so["concur"], "quick": False,
        "server": {"delay_ms": delay, "error_rate": rate, "error_kind": kind, "seed": seed},
        "server_args": a, "python": {}, "points": [], "_old": True,
    }


# ---------------------------------------------------------------- verdicts


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
    """Where each design wins: {"wins": {line: [m...]}, "none": [m...],
    "crossovers": ["between m = X and m = Y: A below, B above", ...]}."""
    wins, none = {}, []
    for v in verdicts:
        if v["winner"]:
            wins.setdefault(v["winner"], []).append(v["m"])
        else:
            none.append(v["m"])
    decided = [v for v in verdicts if v["winner"]]
    xs = []
    for prev, cur in zip(decided, decided[1:]):
        if prev["winner"] != cur["winner"]:
            xs.append({"from_m": prev["m"], "to_m": cur["m"], "below": prev["winner"],
                       "above": cur["winner"]})
    return {"wins": wins, "none": none, "crossovers": xs}


def claim_text(v):
    if v["winner"]:
        return "%s faster by %.2f× (95%% CI %.2f–%.2f, p = %s, %d+%d runs)" % (
            v["winner"], v["ratio"], v["ci"][0], v["ci"][1], fmt_p(v["p"]), v["n_a"], v["n_b"])
    if v["ratio"] is None:
        return "no significant difference (%s)" % v["why"]
    return "no significant difference (%s's median lower by %.2f×, 95%% CI %.2f–%.2f; %s; %d+%d runs)" % (
        v["faster_median"], v["ratio"], v["ci"][0], v["ci"][1], v["why"], v["n_a"], v["n_b"])


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
        key = (b["best"], bool(b["v"]["winner"]))
        if groups and groups[-1][0] == key:
            groups[-1][1].append(b)
        else:
            groups.append((key, [b]))
    parts = []
    for (line, sig), bs in groups:
        ms = [b["m"] for b in bs]
        if sig:
            parts.append("%s at %s" % (show(line), mrange(ms)))
        else:
            parts.append("%s at %s, not significantly ahead of %s" % (
                show(line), mrange(ms), "/".join(sorted({show(b["second"]) for b in bs}))))
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


def vs_curl_lines(s, pts):
    """A scenario with "compare_to_curl": the sentence and table that hold
    each design against curl --parallel (DISK: the cost of the atomic save
    against curl's in-place write)."""
    if not s.get("compare_to_curl"):
        return [], []
    target = s.get("target_vs_curl", 1.0)
    rs = vs_curl(pts, target)
    if not rs:
        return ["No m has a valid point for both curl and a client, so there is no comparison "
                "with curl."], rs
    parts = []
    for line in DESIGN_LINES:
        mine = [r for r in rs if r["line"] == line]
        if not mine:
            continue
        by = {}
        for r in mine:
            by.setdefault(r["status"], []).append(r["m"])
        parts.append("%s %s" % (show(line), ", ".join(
            "%s at %s" % (st, mrange(by[st])) for st in ("met", "undecided", "missed") if st in by)))
    lines = ["Against curl --parallel (target: ≤ %.2f× its time; met when the whole 95%% CI of the "
             "ratio of medians is at or below it, missed when it is all above, with at least %d runs "
             "a side): %s." % (target, VS_CURL_MIN_RUNS, "; ".join(parts)), "",
             "| m | design | design / curl | target ≤ %.2f× |" % target, "|---:|---|---|---|"]
    for r in rs:
        lines.append("| %d | %s | %s | %s |" % (r["m"], show(r["line"]), vs_curl_text(r), r["status"]))
    lines.append("")
    return lines, rs


def save_fs_line(sdir):
    """"- downloads saved on: FS (`DIR`)" from RAW/save.txt (bench.sh), or
    None for data without it."""
    kv = read_kv(os.path.join(sdir, "raw", "save.txt"))
    if not kv.get("fs"):
        return None
    return "- downloads saved on: %s (`%s`)" % (kv["fs"], kv.get("dir", "?"))


def verdict_sentences(s, pts, verdicts):
    out = []
    if not verdicts:
        out.append("No m has a valid point for both threadpool and asyncloop, so there is no comparison.")
    else:
        x = crossover(verdicts)
        parts = []
        for line in C_LINES:
            if line in x["wins"]:
                parts.append("%s is faster at %s" % (line, mrange(x["wins"][line])))
        if x["none"]:
            parts.append("no significant difference at %s" % mrange(x["none"]))
        out.append("; ".join(parts)[:1].upper() + "; ".join(parts)[1:] +
                   " (Mann–Whitney U on the per-run elapsed times, p < %g, and a median ratio ≥ %.2f)."
                   % (ALPHA, MIN_RATIO))
        if x["crossovers"]:
            out.append("Crossover: " + "; ".join(
                "between m = %d and m = %d (%s below, %s above)" % (c["from_m"], c["to_m"], c["below"], c["above"])
                for c in x["crossovers"]) + ".")
        elif len(x["wins"]) == 1:
            out.append("No crossover in this range of m.")
    if s.get("variants"):
        sent = best_design_sentence(best_designs(pts))
        if sent:
            out.append(sent)
        ds = [p for p in pts if p["line"] in DESIGN_LINES and p["valid"] and p["requests_per_s"]]
        if ds:
            b = max(ds, key=lambda p: p["requests_per_s"])
            out.append("Best design in this scenario: %s (%d requests/s at m = %d)."
                       % (show(b["line"]), round(b["requests_per_s"]), b["m"]))
    best = []
    for line in ALL_LINES:
        vs = [p for p in pts if p["line"] == line and p["valid"] and p["requests_per_s"]]
        if vs:
            b = max(vs, key=lambda p: p["requests_per_s"])
            best.append("%s %d requests/s at m = %d" % (show(line), round(b["requests_per_s"]), b["m"]))
    if best:
        out.append("Best throughput (median): " + ", ".join(best) + ".")
    if s["delay_s"] > 0 and verdicts:
        m = verdicts[-1]["m"]
        by = {(p["line"], p["m"]): p for p in pts}
        t, a = by[("threadpool", m)], by[("asyncloop", m)]
        out.append("At m = %d threadpool reaches %s of the ideal bound (%.3g s), asyncloop %s."
                   % (m, pct(t["efficiency"]), t["ideal_s"], pct(a["efficiency"])))
    if s["ok_exits"] != [0]:
        e = [p["errors"] for p in pts if p["valid"] and p["line"] != "curl" and p["errors"] is not None]
        if e:
            out.append("Injected errors were counted, not lost: %d–%d errors per run of %d requests, "
                       "with ok + not found + errors = requests in every valid run."
                       % (min(e), max(e), s["requests"]))
    for p in pts:
        if p["not_run"] and not p["line"].startswith("py-") and p["line"] != "curl":
            out.append("%s did not run m = %d here: %s." % (show(p["line"]), p["m"], p["not_run"]))
    if s.get("tls"):
        out.append(second_core_sentence(pts, verdicts))
    bad = [p for p in pts if not p["valid"] and not p["not_run"]]
    if bad:
        out.append("**%d point(s) INVALID** (see the table); they are not plotted." % len(bad))
    return " ".join(out)


def pct(x):
    return "–" if x is None else "%d%%" % round(x * 100)


def python_tables(s, pts):
    """C over Python requests/s at each design's best m, and the book's
    ordering (asyncio >= threads at high m); None when no python line ran."""
    py = [p for p in pts if p["line"] in PY_LINES and p["valid"]]
    if not py:
        return None
    rows = []
    for c, pl in (("threadpool", "py-threadpool"), ("asyncloop", "py-asyncio")):
        cs = [p for p in pts if p["line"] == c and p["valid"] and p["requests_per_s"]]
        ps = [p for p in pts if p["line"] == pl and p["valid"] and p["requests_per_s"]]
        if cs and ps:
            bc = max(cs, key=lambda p: p["requests_per_s"])
            bp = max(ps, key=lambda p: p["requests_per_s"])
            rows.append("| %s / %s | %d at m = %d | %d at m = %d | %.2f× |" % (
                c, pl, round(bc["requests_per_s"]), bc["m"], round(bp["requests_per_s"]), bp["m"],
                bc["requests_per_s"] / bp["requests_per_s"]))
    lines = ["| C / Python | C requests/s (best m) | Python requests/s (best m) | C over Python |",
             "|---|---:|---:|---:|"] + rows
    by = {(p["line"], p["m"]): p for p in py}
    common = sorted(m for (l, m) in by if l == "py-asyncio" and ("py-threadpool", m) in by)
    if common:
        m = common[-1]
        v = compare(by[("py-asyncio", m)]["times"], by[("py-threadpool", m)]["times"],
                    "py-asyncio", "py-threadpool")
        if v["winner"] == "py-threadpool":
            holds = "does not hold: py-threadpool is faster at m = %d (%s)" % (m, claim_text(v))
        elif v["winner"] == "py-asyncio":
            holds = "holds: py-asyncio is faster at m = %d (%s)" % (m, claim_text(v))
        else:
            holds = ("is not contradicted at m = %d: %s" % (m, claim_text(v)))
        lines.append("")
        lines.append("The book's ordering (asyncio at least as fast as threads at high m) %s." % holds)
    return "\n".join(lines)


# ---------------------------------------------------------------- output


def f(x, d=3):
    if x is None:
        return "–"
    return "%.*f" % (d, x)


def status_text(p):
    if p["valid"]:
        return "valid"
    if p["not_run"]:
        return "not run here: %s" % p["not_run"]
    return "**INVALID**: %s" % "; ".join(p["reasons"])


def table(s, pts):
    order = {l: i for i, l in enumerate(ALL_LINES)}
    rows = [
        "| m | line | runs | median elapsed (s) | min–max (s) | IQR (s) | efficiency | requests/s "
        "| latency p50 / p99 / p99.9 (ms, pooled) | peak RSS (MiB) | CPU user / sys s per 1k req "
        "| connections | ok / 404 / err | peak in flight | status |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    if s.get("tls"):  # the TLS columns go before the status
        rows[0] = rows[0].replace("| status |", "| %s | status |" % " | ".join(tls_header()))
        rows[1] = rows[1][:-len("---|")] + "---:|" * len(tls_header()) + "---|"
    for p in sorted(pts, key=lambda p: (p["m"], order.get(p["line"], 9))):
        e = p["elapsed"]
        lat = p["latency_ms"]
        cells = [
            "%d" % p["m"] + (" (%d)" % p["concur_req"] if p["concur_req"] and p["concur_req"] != p["m"] else ""),
            show(p["line"]), "%d" % p["runs"], f(e["median"]),
            "%s–%s" % (f(e["min"]), f(e["max"])) if e["min"] is not None else "–",
            "%s–%s" % (f(e["q1"]), f(e["q3"])) if e["q1"] is not None else "–",
            pct(p["efficiency"]) if p["efficiency"] is not None else "–",
            "%d" % round(p["requests_per_s"]) if p["requests_per_s"] else "–",
            " / ".join(f(lat["p%g" % q], 2) for q in PCTS) if lat else "–",
            f(p["rss_kb"] / 1024, 1) if p["rss_kb"] else "–",
            "%s / %s" % (f(p["cpu_user_per_1k"]), f(p["cpu_sys_per_1k"]))
            if p["cpu_user_per_1k"] is not None else "–",
            "%d" % round(p["connections"]) if p["connections"] is not None else "–",
            "%s / %s / %s" % tuple("%d" % round(x) if x is not None else "–"
                                   for x in (p["ok"], p["not_found"], p["errors"])),
            "%d" % p["peak_in_flight"] if p["peak_in_flight"] is not None else "–"]
        if s.get("tls"):
            cells += tls_cells(p)
        cells.append(status_text(p))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def latency_m(s, pts):
    """The representative m of the latency plot: the scenario's latency_m when
    its C points are valid, else the largest m where both C lines are."""
    valid = {(p["line"], p["m"]) for p in pts if p["valid"] and p["_pooled"]}
    want = s.get("latency_m")
    if want and all((l, want) in valid for l in C_LINES):
        return want
    both = [m for m in sorted({m for (_, m) in valid}) if all((l, m) in valid for l in C_LINES)]
    return both[-1] if both else None


def latency_curve(pooled, npoints=60):
    """(x, q, ms) with x = 1 / (1 - q) log-spaced from 2 (p50) to 1000 (p99.9)."""
    out = []
    for i in range(npoints + 1):
        x = 2 * (500 ** (i / npoints))
        q = 1 - 1 / x
        out.append((x, q, percentile(pooled, q)))
    return out


def write_plot_data(sdir, s, pts):
    """The .dat files and plots.gp of one scenario; returns the plot names."""
    for fn in os.listdir(sdir):
        if fn.endswith((".dat", ".png", ".svg")) or fn in ("plots.gp", "plots.txt"):
            os.remove(os.path.join(sdir, fn))
    metrics = {
        "elapsed": lambda p: (p["elapsed"]["median"], p["elapsed"]["min"], p["elapsed"]["max"]),
        "requests_per_s": lambda p: (p["requests_per_s"], s["requests"] / p["elapsed"]["max"],
                                     s["requests"] / p["elapsed"]["min"]),
        "rss": lambda p: (p["rss_kb"] / 1024,) * 3 if p["rss_kb"] else None,
        "cpu": lambda p: ((p["cpu_user_per_1k"] + p["cpu_sys_per_1k"]),) * 3
        if p["cpu_user_per_1k"] is not None and p["cpu_sys_per_1k"] is not None else None,
    }
    series = {}
    for metric, get in metrics.items():
        for line in ALL_LINES:
            rows = []
            for p in sorted((p for p in pts if p["line"] == line and p["valid"]), key=lambda p: p["m"]):
                v = get(p)
                if v and v[0] is not None:
                    rows.append("%d %.6g %.6g %.6g" % ((p["m"],) + tuple(v)))
            if rows:
                write_text(os.path.join(sdir, "%s-%s.dat" % (metric, line)), "\n".join(rows) + "\n")
                series.setdefault(metric, []).append(line)
    ms = sorted({p["m"] for p in pts})
    if s["delay_s"] > 0 and ms:
        rows = []
        for m in range(max(1, int(ms[0] / 1.5)), int(ms[-1] * 1.5) + 1):
            rows.append("%d %.6g" % (m, math.ceil(s["requests"] / m) * s["delay_s"]))
        write_text(os.path.join(sdir, "ideal.dat"), "\n".join(rows) + "\n")
    lm = latency_m(s, pts)
    lat_lines = []
    if lm:
        for p in pts:
            if p["m"] == lm and p["valid"] and p["_pooled"]:
                rows = ["%.6g %.6g %.6g" % c for c in latency_curve(p["_pooled"])]
                write_text(os.path.join(sdir, "latency-%s.dat" % p["line"]),
                           "# x = 1/(1-q)  q  latency_ms  (pooled, m = %d, %d samples)\n" % (lm, len(p["_pooled"]))
                           + "\n".join(rows) + "\n")
                lat_lines.append(p["line"])
    what = "%d requests, %s; median of %s runs" % (
        s["requests"], "%g ms delay" % (s["delay_s"] * 1000) if s["delay_s"] > 0 else "no delay",
        "%d" % s["runs"] if s["runs"] == s.get("max_runs", s["runs"]) else "%d–%d" % (s["runs"], s["max_runs"]))
    gp = [GP_HEAD, "mlist = '%s'" % " ".join(str(m) for m in ms)]
    made = []
    wanted = s.get("plots", ["elapsed", "requests_per_s", "cpu", "rss", "latency"])
    labels = {
        "elapsed": ("elapsed time vs concur\\_req", "elapsed time per run (s), median, bars min–max", True),
        "requests_per_s": ("throughput vs concur\\_req", "requests per second (404s count)", True),
        "rss": ("peak memory vs concur\\_req", "peak RSS of the client (MiB)", False),
        "cpu": ("CPU time vs concur\\_req", "CPU s (user + sys) per 1,000 requests", False),
    }
    for metric in ["elapsed", "requests_per_s", "cpu", "rss"]:
        if metric not in series:
            continue
        title, ylab, svg = labels[metric]
        logy = 1 if metric == "elapsed" else 0
        ideal = "ideal.dat" if metric == "elapsed" and s["delay_s"] > 0 else ""
        plots = ", ".join(
            ["'%s' using 1:2 with lines lw 2 lc rgb '#2ca02c' dt 3 title 'ideal: ceil(N/m) × delay'" % ideal]
            * (1 if ideal else 0)
            + ["'%s-%s.dat' using ($1*%.3f):2:3:4 with yerrorlines lw 2 pt %d lc rgb '%s' title '%s'"
               % (metric, l, 1 + 0.05 * (i - (len(series[metric]) - 1) / 2), MARKER[l], COLOR[l], show(l))
               for i, l in enumerate(series[metric])])
        for term in ["png"] + (["svg"] if svg else []):
            gp.append("if ('%s' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' "
                      "background 'white' } else { @PNGTERM }" % term)
            gp.append("set output '%s.%s'" % (metric, term))
            gp.append("set title '%s: %s (%s)'" % (s["name"], title, what))
            gp.append("set xlabel 'concur\\_req m (transfers in flight, log scale)'")
            gp.append("set ylabel '%s'" % ylab)
            gp.append("unset logscale; set logscale x; set autoscale")
            gp.append("set xrange [%g:%g]" % (ms[0] / 1.5, ms[-1] * 1.5))
            gp.append("set logscale y" if logy else "set yrange [0:*]")
            gp.append("set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }")
            gp.append("plot " + plots)
            gp.append("set output")
        if metric in wanted:
            made.append(metric)
    if lat_lines:
        plots = ", ".join("'latency-%s.dat' using 1:3 with lines lw 2 lc rgb '%s' title '%s'"
                          % (l, COLOR[l], show(l)) for l in lat_lines)
        gp.append("@PNGTERM")
        gp.append("set output 'latency.png'")
        gp.append("set title '%s: request latency percentiles at m = %d (pooled over the timed runs)'"
                  % (s["name"], lm))
        gp.append("set xlabel 'percentile (log scale of 1/(1-q))'")
        gp.append("set ylabel 'latency (ms)'")
        gp.append("unset logscale; set autoscale; set logscale x; set xrange [2:1000]; set yrange [0:*]")
        gp.append("set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000)")
        gp.append("plot " + plots)
        gp.append("set output")
        made.append("latency")
    write_text(os.path.join(sdir, "plots.gp"), "\n".join(gp) + "\n")
    return made, lm


GP_HEAD = """# plots.gp -- written by scripts/report.py; run in this directory:
#   gnuplot -e "PNGTERM='set terminal pngcairo size 900,560 enhanced font \\"sans,11\\"'" plots.gp
if (!exists("PNGTERM")) PNGTERM = "set terminal png size 900,560"
set grid xtics ytics mxtics lc rgb "#dddddd"
set key outside below center horizontal box
set format x "%g"
set mxtics 10
set bars small"""
COLOR = {"threadpool": "#1f77b4", "asyncloop": "#d62728", "curl": "#555555",
         "py-threadpool": "#17becf", "py-asyncio": "#ff7f0e",
         "asyncloop+save1": "#9467bd", "asyncloop-x2": "#8c564b",
         "asyncloop-multi16": "#e377c2", "asyncloop-x2-multi8": "#bcbd22"}
MARKER = {"threadpool": 7, "asyncloop": 5, "curl": 9, "py-threadpool": 6, "py-asyncio": 4,
          "asyncloop+save1": 11, "asyncloop-x2": 13, "asyncloop-multi16": 3, "asyncloop-x2-multi8": 1}


def public_point(p):
    return {k: v for k, v in p.items() if not k.startswith("_")}


def read_meta(out):
    meta = load_json_or_none(os.path.join(out, "meta.json"))
    if meta is None:
        meta = read_meta_txt(os.path.join(out, "meta.txt"))
    return meta or {}


def read_meta_txt(path):
    kv = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                k, _, v = line.rstrip("\n").partition("=")
                if k:
                    kv[k] = v
    except OSError:
        return None
    for k in ("cores",):
        if k in kv and kv[k].isdigit():
            kv[k] = int(kv[k])
    for k in ("quick", "external_server"):
        if k in kv:
            kv[k] = kv[k] == "1"
    return kv


def scenario_section(out, name):
    sdir = os.path.join(out, name)
    s, pts, notes = load_scenario_points(sdir)
    lines = ["## %s\n" % name, "%s.\n" % s.get("desc", "").rstrip(".")]
    if s.get("_skipped"):
        lines.append("**Not run here**: %s\n" % s["_skipped"])
        return "\n".join(lines), {"name": name, "skipped": s["_skipped"], "verdicts": []}
    verdicts = pair_verdicts(pts)
    made, lm = write_plot_data(sdir, s, pts)
    write_text(os.path.join(sdir, "points.json"),
               json.dumps([public_point(p) for p in pts], indent=1) + "\n")
    sv = s.get("server_args") or []
    lines += [
        "- flagserver: `%s`%s" % (" ".join(sv) if sv else "(no options)",
                                   " (an external server at %s)" % s["_server_url"] if s.get("_external") else ""),
        "- client: `-%s --repeat %d --timeout %s`: %d requests per run (%d codes × %d)"
        % (s["codeset"], s["repeat"], s["timeout_s"], s["requests"], s["ncodes"], s["repeat"]),
        "- m: %s" % ", ".join(str(m) for m in s["concur"]),
    ]
    if s.get("tls"):
        lines.append("- HTTPS: flagserver `--tls-cert --tls-key` (scripts/make-certs.sh), every client and curl "
                     "`--cacert`; session resumption %s; %s"
                     % ("on" if tls_resume(s["server"]) else "off (`--no-tls-resume`)",
                        "`--fresh-connect` (curl: `-H 'Connection: close'`): a new connection per request"
                        if s.get("fresh_connect") else "keep-alive connections"))
    lines += [
        "- runs per point: %d timed + %d warmup%s" % (
            s["runs"], s["warmup"],
            "; up to %d when a pair is undecided (adaptive, at most %d s extra)" % (s["max_runs"], s["adapt_budget_s"])
            if s["max_runs"] > s["runs"] else ""),
    ]
    for r in s.get("point_runs", []) if not s.get("_runs_override") else []:
        lines.append("- at m = %d: %d timed + %d warmup%s" % (r["m"], r["runs"], r["warmup"],
                                                              " (%s)" % r["note"] if r.get("note") else ""))
    py = s.get("python") or {}
    if py.get("concur"):
        lines.append("- python lines: m = %s, %d timed + %d warmup runs%s"
                     % (", ".join(str(m) for m in py["concur"]), py.get("runs", s["runs"]), py.get("warmup", 0),
                        " (%s)" % py["note"] if py.get("note") else ""))
    elif py.get("note"):
        lines.append("- python lines: %s" % py["note"])
    lines.append("- ideal bound: ceil(N / m) × %g s" % s["delay_s"] if s["delay_s"] > 0 else "- ideal bound: none (no delay)")
    fs_line = save_fs_line(sdir)
    if fs_line:
        lines.append(fs_line)
    lines.append("")
    for n in notes:
        lines.append("> %s\n" % n)
    notes_settings = {p["settings_note"] for p in pts if p.get("settings_note")}
    for n in sorted(notes_settings):
        if not any("settings" in x for x in notes):
            lines.append("> flagserver's /stats: %s.\n" % n)
    lines.append("**Verdict.** %s\n" % verdict_sentences(s, pts, verdicts))
    if verdicts:
        lines.append("| m | threadpool vs asyncloop |")
        lines.append("|---:|---|")
        for v in verdicts:
            lines.append("| %d | %s |" % (v["m"], claim_text(v)))
        lines.append("")
    curl_lines, curl_rs = vs_curl_lines(s, pts)
    lines += curl_lines
    if s.get("variants"):
        bests = best_designs(pts)
        if bests:
            lines.append("| m | best design | against the runner-up |")
            lines.append("|---:|---|---|")
            for b in bests:
                lines.append("| %d | %s | %s |" % (b["m"], show(b["best"]), claim_text(b["v"])))
            lines.append("")
    pyt = python_tables(s, pts)
    if pyt:
        lines.append(pyt + "\n")
    lines.append(table(s, pts) + "\n")
    lines.append("Latency percentiles are pooled over every request of the timed runs of a point "
                 "(`--latencies`), linear interpolation between ranks; curl has none. CPU per 1,000 "
                 "requests: medians of the runs' user and system time (curl: hyperfine's means).\n")
    if s.get("tls"):
        lines.append(tls_table_note(s))
    for pl in made:
        lines.append("![%s %s](%s/%s.png)" % (name, pl, name, pl))
    if made:
        lines.append("")
    if lm:
        lines.append("The latency plot is at m = %d.\n" % lm)
    lines.append("Data: [%s/points.json](%s/points.json); raw measurements in `%s/raw/`.\n" % (name, name, name))
    summary = {"name": name, "verdicts": [
        {"m": v["m"], "winner": v["winner"], "claim": claim_text(v)} for v in verdicts]}
    if s.get("tls"):
        summary["second_core"] = second_core_sentence(pts, verdicts)
    if s.get("variants"):
        summary["best_designs"] = [
            {"m": b["m"], "best": show(b["best"]), "significant": bool(b["v"]["winner"]),
             "claim": claim_text(b["v"])} for b in best_designs(pts)]
    if s.get("compare_to_curl"):
        summary["vs_curl"] = [{"m": r["m"], "line": show(r["line"]), "status": r["status"],
                               "claim": vs_curl_text(r)} for r in curl_rs]
    write_text(os.path.join(sdir, "verdict.json"), json.dumps(summary, indent=1) + "\n")
    return "\n".join(lines), summary


def cmd_report(out):
    names = scenario_names(out)
    meta = read_meta(out)
    head = [
        "# flagbench results\n",
        "Thread pool (`flags_threadpool`) against event loop (`flags_asyncloop`), with `curl --parallel` "
        "as a reference and the book's Python programs where present, downloading flags from `flagserver`. "
        "Generated by `scripts/bench.sh%s` on %s at commit %s.\n" % (
            " --quick" if meta.get("quick") else "", meta.get("date", "?"), meta.get("commit", "?")),
        "| | |", "|---|---|",
    ]
    for key, label in [("cpu", "CPU"), ("cores", "cores"), ("kernel", "kernel"), ("libcurl", "libcurl"),
                       ("libcurl_dir", "libcurl loaded from"),
                       ("libevent", "libevent"), ("curl", "curl (reference)"), ("hyperfine", "hyperfine"),
                       ("python", "python3"), ("save_fs", "downloads saved on"), ("build_type", "build"),
                       ("server_url", "server")]:
        if meta.get(key) not in (None, ""):
            head.append("| %s | %s |" % (label, meta[key]))
    if meta.get("sanitize"):
        head.append("| sanitizer | %s (timings not representative) |" % meta["sanitize"])
    head += ["",
             "Each point is hyperfine (`-N`, whole-process wall time) of one program at one m, with "
             "flagserver's counters reset before each batch of runs and read after it. A claim \"X faster\" "
             "needs a two-sided Mann–Whitney U test on the per-run elapsed times at p < %g **and** a ratio of "
             "medians ≥ %.2f; the ratio is given with a 95%% bootstrap confidence interval (%d resamples, fixed "
             "seed). Anything else reads \"no significant difference\". A point is **INVALID** (never plotted) "
             "when the server did not start, a run failed, ok + not found + errors ≠ requests, the server "
             "counted other requests than the runs made, peak_in_flight > m, the server's settings differ "
             "from the scenario's, a client loaded another libcurl than the run declares, or (HTTPS) a handshake failed or "
             "the server's handshake counts do not fit the scenario; **not run here** says why a point could not run on this machine.\n"
             % (ALPHA, MIN_RATIO, BOOT_RESAMPLES)]
    body, summaries, notrun = [], [], []
    for name in names:
        text, summary = scenario_section(out, name)
        body.append(text)
        summaries.append(summary)
        if summary.get("skipped"):
            notrun.append("- %s: %s" % (name, summary["skipped"]))
        else:
            for p in load_json(os.path.join(out, name, "points.json")):
                if p["not_run"]:
                    notrun.append("- %s %s m = %d: %s" % (name, p["line"], p["m"], p["not_run"]))
    if notrun:
        head.append("## Not run here\n")
        head += notrun
        head.append("")
    body.append(libcurl_section(out))
    write_text(os.path.join(out, "REPORT.md"), "\n".join(head + body))
    write_text(os.path.join(out, "verdicts.json"), json.dumps(summaries, indent=1) + "\n")
    return 0


LIBCURL8_DIR = "libcurl8"  # OUT/libcurl8/: bench.sh's pass with libcurl 8 loaded


def libcurl8_scenarios(benchdir):
    """The scenarios with a "libcurl8" section, in bench.sh's order."""
    names = sorted(os.path.splitext(f)[0] for f in os.listdir(benchdir) if f.endswith(".json"))
    order = ["LOCAL", "DELAY", "ERROR", "C10K"]
    names.sort(key=lambda n: (order.index(n) if n in order else len(order), n))
    return [n for n in names if "libcurl8" in load_json(os.path.join(benchdir, n + ".json"))]


def version_compare(t_new, t_old, resamples=BOOT_RESAMPLES):
    """median(t_new) / median(t_old), its 95% bootstrap CI, and the claim
    under the report's rule (Mann-Whitney p < ALPHA and a ratio of at least
    MIN_RATIO either way)."""
    if not t_new or not t_old:
        return {"ratio": None, "ci": None, "p": None, "claim": "–"}
    ratio = statistics.median(t_new) / statistics.median(t_old)
    if len(t_new) < 2 or len(t_old) < 2:
        return {"ratio": ratio, "ci": None, "p": None,
                "claim": "one run: no test possible"}
    _, p, _ = mann_whitney(t_new, t_old)
    lo, hi = bootstrap_ratio_ci(t_new, t_old, resamples)
    if p < ALPHA and ratio >= MIN_RATIO:
        claim = "8.x slower"
    elif p < ALPHA and ratio <= 1 / MIN_RATIO:
        claim = "8.x faster"
    else:
        claim = "no significant difference"
    return {"ratio": ratio, "ci": [lo, hi], "p": p, "claim": claim}


def libcurl_rows(out, resamples=BOOT_RESAMPLES):
    """One row per (scenario, m, line) of the libcurl 8 pass, with the same
    point of the main run (the system's libcurl) beside it."""
    l8 = os.path.join(out, LIBCURL8_DIR)
    meta_old, meta_new = read_meta(out), read_meta(l8)
    rows = []
    for name in scenario_names(l8):
        if not os.path.isdir(os.path.join(out, name)):
            continue
        _, new_pts, _ = load_scenario_points(os.path.join(l8, name))
        _, old_pts, _ = load_scenario_points(os.path.join(out, name))
        old = {(p["line"], p["m"]): p for p in old_pts}
        for p in new_pts:
            q = old.get((p["line"], p["m"]))
            if q is None:
                continue

            def ran(pt, meta):
                if pt["line"] == "curl":  # the curl binary, with the libcurl it loaded
                    return "curl %s, libcurl %s" % (meta.get("curl", "?"), meta.get("libcurl", "?"))
                return pt.get("libcurl") or meta.get("libcurl", "?")

            row = {"scenario": name, "m": p["m"], "line": p["line"],
                   "old": q, "new": p, "ran_old": ran(q, meta_old), "ran_new": ran(p, meta_new)}
            if q["valid"] and p["valid"]:
                row.update(version_compare(p["times"], q["times"], resamples))
            else:
                why = q["not_run"] or p["not_run"]
                row.update(ratio=None, ci=None, p=None,
                           claim="not run here" if why else "INVALID point")
            rows.append(row)
    return rows, meta_old, meta_new


def libcurl_section(out, resamples=BOOT_RESAMPLES):
    """REPORT.md's "libcurl 7.88 vs 8.14" section (empty without the pass)."""
    l8 = os.path.join(out, LIBCURL8_DIR)
    skipped = os.path.join(out, LIBCURL8_DIR + ".skipped")
    if not os.path.isfile(os.path.join(l8, "scenarios.txt")):
        if os.path.isfile(skipped):
            with open(skipped, encoding="utf-8") as f:
                return "## libcurl 7.88 vs 8.14\n\nNot run: %s\n" % f.read().strip()
        return ""
    rows, mo, mn = libcurl_rows(out, resamples)
    text = ["## libcurl %s vs %s\n" % (mo.get("libcurl", "?"), mn.get("libcurl", "?")),
            "The same programs and the same `curl` binary, run again with libcurl %s loaded "
            "(`LD_LIBRARY_PATH=%s`) on a reduced set of points; the system's libcurl %s is "
            "the main run above. Elapsed is the median (runs); the ratio is %s / %s with its "
            "95%% bootstrap CI, and a claim needs Mann–Whitney p < %g and a ratio beyond %.2f "
            "either way. *ran with* is what each point loaded, from its own records (curl: "
            "its `--version`). What changed between the versions: docs/asyncloop.md, "
            "\"libcurl 7.88 vs 8.14\".\n"
            % (mn.get("libcurl", "?"), mn.get("libcurl_dir", "?"), mo.get("libcurl", "?"),
               mn.get("libcurl", "?"), mo.get("libcurl", "?"), ALPHA, MIN_RATIO),
            "| scenario | m | line | ran with | elapsed | ran with (8.x) | elapsed (8.x) "
            "| ratio 8.x / system (95% CI) | claim | peak RSS | CPU s / 1k req |",
            "|---|---:|---|---|---:|---|---:|---:|---|---:|---:|"]

    def el(p):
        if p["not_run"]:
            return "not run here"
        if not p["valid"]:
            return "INVALID"
        return "%.3f s (%d)" % (p["elapsed"]["median"], p["runs"])

    def pair(a, b, fmt):
        return "%s → %s" % (fmt(a) if a is not None else "–", fmt(b) if b is not None else "–")

    notes = []
    for r in rows:
        o, n = r["old"], r["new"]
        if r["ratio"] is None:
            ratio = "–"
        elif r["ci"]:
            ratio = "%.2f (%.2f–%.2f)" % (r["ratio"], r["ci"][0], r["ci"][1])
        else:
            ratio = "%.2f" % r["ratio"]
        cpu = lambda p: (p["cpu_user_per_1k"] or 0) + (p["cpu_sys_per_1k"] or 0) \
            if p["cpu_user_per_1k"] is not None else None
        text.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["m"], show(r["line"]), r["ran_old"], el(o), r["ran_new"], el(n), ratio,
            r["claim"], pair(o["rss_kb"], n["rss_kb"], lambda k: "%.0f MiB" % (k / 1024)),
            pair(cpu(o), cpu(n), lambda c: "%.3f" % c)))
        if o["not_run"] and o["not_run"] == n["not_run"]:
            notes.append("- %s %s m = %d, both: not run here: %s"
                         % (r["scenario"], show(r["line"]), r["m"], o["not_run"]))
            continue
        for p, lib in ((o, r["ran_old"]), (n, r["ran_new"])):
            if p["not_run"]:
                notes.append("- %s %s m = %d with %s: not run here: %s"
                             % (r["scenario"], show(r["line"]), r["m"], lib, p["not_run"]))
    text.append("")
    text += notes
    if notes:
        text.append("")
    return "\n".join(text)


def scenario_names(out):
    try:
        with open(os.path.join(out, "scenarios.txt"), encoding="utf-8") as fh:
            return [w.strip() for w in fh if w.strip()]
    except OSError:
        raise ReportError("%s holds no bench.sh data (no scenarios.txt)" % out)


def cmd_compare(out1, out2):
    """Both runs' claims side by side; exit 1 when an m has opposite claims."""
    v1 = {v["name"]: v for v in load_json(os.path.join(out1, "verdicts.json"))}
    v2 = {v["name"]: v for v in load_json(os.path.join(out2, "verdicts.json"))}
    bad = 0
    print("| scenario | m | %s | %s |" % (out1, out2))
    print("|---|---:|---|---|")
    for name in [n for n in v1 if n in v2]:
        a = {x["m"]: x for x in v1[name]["verdicts"]}
        b = {x["m"]: x for x in v2[name]["verdicts"]}
        for m in sorted(set(a) | set(b)):
            ca, cb = a.get(m), b.get(m)
            flag = ""
            if ca and cb and ca["winner"] and cb["winner"] and ca["winner"] != cb["winner"]:
                flag = " **CONTRADICTION**"
                bad += 1
            print("| %s | %d | %s | %s%s |" % (name, m, ca["claim"] if ca else "–",
                                               cb["claim"] if cb else "–", flag))
    print("\n%d contradictory claim(s)." % bad)
    return 1 if bad else 0


def cmd_more_runs(rawdir, m):
    """How many more runs the (threadpool, asyncloop) pair at m needs: 0 when
    decided (a claim, or a CI of the ratio that cannot reach MIN_RATIO), at
    max_runs, or when the scenario's adaptive budget is spent."""
    s = load_json(os.path.join(rawdir, "scenario.json"))
    if s["max_runs"] <= s["runs"]:
        return 0
    pts = {}
    spent = 0.0
    for p in s["points"]:
        if p["not_run"]:
            continue
        raw = load_new_point(rawdir, p["line"], p["m"])
        for b in raw["batches"]:
            if b["batch"] > 1 and b["hyperfine"]:
                spent += sum(b["hyperfine"].get("times") or [])
        if p["m"] == m and p["line"] in C_LINES:
            pts[p["line"]] = reduce_point(s, raw)
    a, b = pts.get("threadpool"), pts.get("asyncloop")
    if not a or not b or not a["valid"] or not b["valid"]:
        return 0
    n = min(len(a["times"]), len(b["times"]))
    if n >= s["max_runs"]:
        return 0
    est = (a["elapsed"]["median"] + b["elapsed"]["median"])
    step = min(s.get("adapt_step", 5), s["max_runs"] - n)
    if spent + est * step > s["adapt_budget_s"]:
        return 0
    v = compare(a["times"], b["times"], "threadpool", "asyncloop", 2000)
    if v["winner"] or v["ratio"] is None:
        return 0
    lo, hi = v["ci"]
    if hi < MIN_RATIO:  # even the upper bound of the ratio is below a claim
        return 0
    return step


def cmd_point_line(rawdir, line, m):
    s = load_json(os.path.join(rawdir, "scenario.json"))
    p = reduce_point(s, load_new_point(rawdir, line, m))
    if p["valid"]:
        e = p["elapsed"]
        return "%s m=%d: median %.3f s (%.3f-%.3f, %d runs), peak in flight %s" % (
            line, m, e["median"], e["min"], e["max"], p["runs"], p["peak_in_flight"])
    if p["not_run"]:
        return "%s m=%d: not run here: %s" % (line, m, p["not_run"])
    return "%s m=%d: INVALID: %s" % (line, m, "; ".join(p["reasons"]))


def cmd_check_server(resolved, stats_path):
    s = load_json(resolved)
    st = load_json_or_none(stats_path)
    if st is None:
        print("%s: no JSON /stats from the server" % s["name"])
        return 1
    mm = settings_mismatch(s, st)
    if mm:
        print("%s: the server's %s" % (s["name"], mm.replace("server settings", "settings")))
        return 1
    if mm == "":
        print("%s: the server's /stats has no settings (an older flagserver): not checked" % s["name"])
    return 0


def cmd_budget(results, quick):
    """Estimated seconds of the default run: each point's runs × the mean run
    time of the same (line, m) in RESULTS/NAME/raw.json (old or new), plus the
    adaptive budget; python lines from an assumed 500 requests/s."""
    print("| scenario | line | m | runs + warmup | est. s/run | est. s |")
    print("|---|---|---:|---:|---:|---:|")
    total = 0.0
    for fn in sorted(os.listdir(os.path.join(ROOT, "bench", "scenarios"))):
        if not fn.endswith(".json"):
            continue
        s = resolve(os.path.join(ROOT, "bench", "scenarios", fn), quick=quick, python_root=os.path.join(ROOT, "peers", "python"))
        means = {}
        old = load_json_or_none(os.path.join(results, s["name"], "raw.json")) or []
        for p in old:
            if p.get("hyperfine") and p["hyperfine"].get("mean"):
                means[(p["backend"], p["m"])] = p["hyperfine"]["mean"] * s["requests"] / \
                    max(1, (p["records"][0]["requests"] if p.get("records") else s["requests"]))
        sub = 0.0
        for p in s["points"]:
            if p["not_run"] and not p["line"].startswith("py-"):
                continue
            t = means.get((p["line"], p["m"]))
            if t is None and p["line"].startswith("py-"):
                c = means.get(("threadpool", p["m"]))
                # python: the delay-bound time of the C line, or 500 requests/s
                # (measured here under load) when CPU-bound
                t = max(c or 0, s["requests"] / 500) + 0.3
            if t is None:
                t = math.ceil(s["requests"] / p["m"]) * s["delay_s"] + 0.2
            est = t * (p["runs"] + p["warmup"])
            sub += est
            print("| %s | %s | %d | %d + %d | %.2f | %.0f |" % (s["name"], p["line"], p["m"], p["runs"],
                                                               p["warmup"], t, est))
        sub += s["adapt_budget_s"] if s["max_runs"] > s["runs"] else 0
        print("| %s | adaptive extra runs (at most) | | | | %d |" % (s["name"], s["adapt_budget_s"]))
        print("| **%s** | | | | | **%.0f** |" % (s["name"], sub))
        total += sub
    print("| **total** (+ ~30 s setup, probes and servers) | | | | | **%.0f s = %.1f min** |" % (total, total / 60))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="report.py", description="flagbench's report program")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("resolve")
    r.add_argument("scenario")
    r.add_argument("--out", required=True)
    r.add_argument("--quick", action="store_true")
    r.add_argument("--concur")
    r.add_argument("--runs", type=int)
    r.add_argument("--python-root")
    r.add_argument("--python-unavailable")
    r.add_argument("--libcurl8", action="store_true")
    l8 = sub.add_parser("libcurl8-scenarios")
    l8.add_argument("benchdir")
    c = sub.add_parser("curl-config")
    c.add_argument("resolved")
    c.add_argument("base_url")
    c.add_argument("dir")
    k = sub.add_parser("check-server")
    k.add_argument("resolved")
    k.add_argument("stats")
    mr = sub.add_parser("more-runs")
    mr.add_argument("rawdir")
    mr.add_argument("m", type=int)
    pl = sub.add_parser("point-line")
    pl.add_argument("rawdir")
    pl.add_argument("line")
    pl.add_argument("m", type=int)
    me = sub.add_parser("meta")
    me.add_argument("out")
    rp = sub.add_parser("report")
    rp.add_argument("out")
    cp = sub.add_parser("compare")
    cp.add_argument("out1")
    cp.add_argument("out2")
    bu = sub.add_parser("budget")
    bu.add_argument("--results", default=os.path.join(ROOT, "results"))
    bu.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "resolve":
            concur = None
            if a.concur:
                try:
                    concur = [int(x) for x in a.concur.split(",")]
                except ValueError:
                    raise ReportError("--concur wants positive integers separated by commas")
            s = resolve(a.scenario, a.quick, concur, a.runs, a.python_root, a.python_unavailable,
                        a.libcurl8)
            write_text(a.out, json.dumps(s, indent=1) + "\n")
            sys.stdout.write(shell_assignments(s))
            return 0
        if a.cmd == "libcurl8-scenarios":
            print("\n".join(libcurl8_scenarios(a.benchdir)))
            return 0
        if a.cmd == "curl-config":
            sys.stdout.write(curl_config(load_json(a.resolved), a.base_url, a.dir))
            return 0
        if a.cmd == "check-server":
            return cmd_check_server(a.resolved, a.stats)
        if a.cmd == "more-runs":
            print(cmd_more_runs(a.rawdir, a.m))
            return 0
        if a.cmd == "point-line":
            print(cmd_point_line(a.rawdir, a.line, a.m))
            return 0
        if a.cmd == "meta":
            meta = read_meta_txt(os.path.join(a.out, "meta.txt"))
            if meta is None:
                raise ReportError("no %s/meta.txt" % a.out)
            write_text(os.path.join(a.out, "meta.json"), json.dumps(meta, indent=1) + "\n")
            return 0
        if a.cmd == "report":
            return cmd_report(a.out)
        if a.cmd == "compare":
            return cmd_compare(a.out1, a.out2)
        if a.cmd == "budget":
            return cmd_budget(a.results, a.quick)
    except ReportError as e:
        print("report.py: %s" % e, file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
