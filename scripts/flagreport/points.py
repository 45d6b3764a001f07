"""One raw point reduced to the table's numbers: the validity rules
(validity.py) decide whether it counts; a scenario's points loaded from
OUT/NAME/raw/ (or an old raw.json)."""

import math
import os

from .base import ReportError, load_json, load_json_or_none, read_kv
from .lines import CURL_MAX_PARALLEL
from .raw import load_new_point, load_old_points, read_meta
from .scenarios import old_scenario, settings_mismatch
from .stats import PCTS, median, percentile, spread
from .validity import tls_point


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


def not_run_point(s, p):
    return {"line": p["line"], "m": p["m"], "requests": s["requests"], "runs": 0, "valid": False,
            "not_run": p["not_run"], "reasons": [], "settings_note": None, "times": [],
            "elapsed": spread([]), "peak_in_flight": None, "concur_req": None, "ideal_s": None,
            "efficiency": None, "requests_per_s": None, "latency_ms": None, "latency_source": None,
            "_pooled": None, "rss_kb": None, "cpu_user_per_1k": None, "cpu_sys_per_1k": None,
            "connections": None, "ok": None, "not_found": None, "errors": None,
            "tls": None, "cpu_per_wall": None}


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


def public_point(p):
    return {k: v for k, v in p.items() if not k.startswith("_")}
