"""One raw point reduced to the table's numbers: the validity rules
(validity.py) decide whether it counts; a scenario's points loaded from
OUT/NAME/raw/ (or an old raw.json)."""

import os

from .base import plural, ReportError, load_json, read_kv
from .lines import CURL_MAX_PARALLEL, is_client, max_m
from .net import ideal_s, lab_problems, read_netlab
from .placement import read_placement
from .raw import load_new_point, load_old_points, load_stats, read_dataset, read_meta
from .scenarios import expected_split, old_scenario, scenario_codes, settings_mismatch
from .stats import PCTS, median, percentile, spread
from .validity import check, rule_name, rule_numbers_in_range, tls_point


def gather(s, raw, server_started=True, server_mismatch=None):
    """The facts of one raw point the validity rules read (validity.py)."""
    line, m = raw["line"], raw["m"]
    batches = []
    for b in raw["batches"]:
        hf = b["hyperfine"] or {}
        t = hf.get("times") or []
        batches.append(dict(b, times=t if isinstance(t, list) else []))
    c = {"line": line, "m": m, "is_client": is_client(line), "batches": batches,
         "server_started": server_started, "server_mismatch": server_mismatch,
         "old": bool(raw.get("old")), "not_run": None,
         "recs": [r for r in raw["records"] if r is not None],
         "records_unparsed": any(r is None for r in raw["records"]),
         "latencies": raw.get("latencies"), "latencies_file": raw.get("latencies_file", "latencies"),
         "times": [x for b in batches for x in b["times"]],
         "exit_codes": [e for b in batches for e in ((b["hyperfine"] or {}).get("exit_codes") or [])],
         "nexpected_records": sum(b["warmup"] + b["runs"] for b in batches),
         "dataset_sizes": s.get("_dataset_sizes"),
         "expect_ok": s.get("expect_ok"), "expect_not_found": s.get("expect_not_found"),
         "expect_bytes": s.get("_expect_bytes"),
         "server_cpus": raw.get("server_cpus"), "client_cpus": raw.get("client_cpus")}
    for b in batches:
        if b["timed_out"]:
            c["not_run"] = "stopped at the point limit of %d s" % s.get("point_limit_s", 0)
    # a client that refuses m on this machine is not broken
    if raw.get("probe_rc") == 2 and "file descriptors" in (raw.get("probe_err") or ""):
        c["not_run"] = raw["probe_err"].lstrip("* ").strip()
    return c


def _gather_server(s, c):
    """The facts from flagserver's /stats (numbers already checked)."""
    c["peak"] = None
    c["stats_missing"] = False
    c["settings_bad"] = []
    c["settings_note"] = None
    for b in c["batches"]:
        st = b["stats"]
        if st is None:
            c["stats_missing"] = True
            continue
        pk = st.get("peak_in_flight")
        if pk is not None:
            c["peak"] = pk if c["peak"] is None else max(c["peak"], pk)
        mm = settings_mismatch(s, st)
        if mm:
            c["settings_bad"].append(mm)
        elif mm == "":
            c["settings_note"] = "no settings in /stats (an older flagserver): delay and errors not checked"
    c["tls"], c["tls_bad"] = tls_point(s, c["batches"], c["m"])
    m_eff = min(c["m"], s["requests"], max_m(c["line"])[0] or c["m"])
    conc = [r.get("concur_req") for r in c["recs"] if r.get("concur_req") is not None]
    c["m_eff"] = max(conc) if conc else m_eff
    if c["is_client"]:
        c["errors_per_run"] = [r["errors"] for r in c["recs"]]
    else:
        c["errors_per_run"] = []
        for b in c["batches"]:
            st = b["stats"] or {}
            by = st.get("by_status") or {}
            n = b["warmup"] + b["runs"]
            if st and n:
                c["errors_per_run"].append((st.get("requests", 0) - by.get("200", 0) - by.get("404", 0)) / n)


def reduce_point(s, raw, server_started=True, server_mismatch=None):
    """Validity and the table's numbers for one raw point. Every rule of
    validity.py is applied; "broken" names the rule beside each reason."""
    c = gather(s, raw, server_started, server_mismatch)
    bad = rule_numbers_in_range(s, c)
    if bad:  # nothing is computed from a value out of its range
        p = not_run_point(s, {"line": c["line"], "m": c["m"], "not_run": None})
        p["runs"] = len(c["times"])
        p["reasons"] = bad
        p["broken"] = [{"rule": rule_name(rule_numbers_in_range), "reason": r} for r in bad]
        return p
    _gather_server(s, c)
    broken = check(s, c)
    line, m, recs, batches, not_run = c["line"], c["m"], c["recs"], c["batches"], c["not_run"]
    reasons = [r for _, r in broken]
    valid = not reasons and not not_run
    el = [] if not_run else c["times"]
    pt = {
        "line": line, "m": m, "requests": s["requests"], "runs": len(c["times"]),
        "valid": valid, "not_run": not_run, "reasons": reasons,
        "broken": [{"rule": n, "reason": r} for n, r in broken], "settings_note": c["settings_note"],
        "times": el,
        "elapsed": spread(el),
        "peak_in_flight": c["peak"],
    }
    # the timed runs' records: drop each batch's warmup records
    timed = []
    pos = 0
    for b in batches:
        timed += recs[pos + b["warmup"]: pos + b["warmup"] + b["runs"]]
        pos += b["warmup"] + b["runs"]
    # pooled latencies of the timed runs: split the file by each record's
    # ok + not_found, in run order
    lat = c["latencies"]
    pooled = None
    if c["is_client"] and lat is not None and not_run is None and \
            len(lat) == sum(r["ok"] + r["not_found"] for r in recs):
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
    m_eff = c["m_eff"]
    pt["concur_req"] = m_eff
    pt["ideal_s"] = ideal_s(s, m_eff)
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
    if c["is_client"]:
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
        pt["connections"] = server_connections(s, batches)
        st = batches[-1]["stats"] if batches and batches[-1]["stats"] else {}
        n = batches[-1]["warmup"] + batches[-1]["runs"] if batches else 1
        by = st.get("by_status", {}) if st else {}
        if st:
            pt["ok"] = by.get("200", 0) / n
            pt["not_found"] = by.get("404", 0) / n
            pt["errors"] = (st.get("requests", 0) - by.get("200", 0) - by.get("404", 0)) / n
        else:
            pt["ok"] = pt["not_found"] = pt["errors"] = None
    pt["tls"] = c["tls"] or None
    pt["protocol"] = s.get("protocol", "http/1.1")
    pt["server_connections"] = server_connections(s, batches)
    pt["peak_streams_per_connection"] = max(
        (b["stats"].get("peak_streams_per_connection") or 0 for b in batches if b["stats"]), default=None)
    # cores the client kept busy: CPU seconds per wall second (medians)
    pt["cpu_per_wall"] = (cu + cs) / med if cu is not None and cs is not None and med else None
    k = 1000 / s["requests"]
    pt["cpu_user_per_1k"] = cu * k if cu is not None else None
    pt["cpu_sys_per_1k"] = cs * k if cs is not None else None
    if not valid:
        for key in ("requests_per_s", "efficiency"):
            pt[key] = None
    return pt


def server_connections(s, batches):
    """Connections per run by flagserver's connections_by_protocol (the
    scenario's protocol), over the batches that ran to the end; None when
    no /stats has the counter."""
    proto = s.get("protocol", "http/1.1")
    conns = runs = 0
    for b in batches:
        st = b["stats"]
        if not st or b["rc"] != 0 or b["timed_out"] or not isinstance(st.get("connections_by_protocol"), dict):
            continue
        conns += st["connections_by_protocol"].get(proto, 0)
        runs += b["warmup"] + b["runs"]
    return conns / runs if runs else None


def not_run_point(s, p):
    return {"line": p["line"], "m": p["m"], "requests": s["requests"], "runs": 0, "valid": False,
            "not_run": p["not_run"], "reasons": [], "settings_note": None, "times": [],
            "elapsed": spread([]), "peak_in_flight": None, "concur_req": None, "ideal_s": None,
            "efficiency": None, "requests_per_s": None, "latency_ms": None, "latency_source": None,
            "_pooled": None, "rss_kb": None, "cpu_user_per_1k": None, "cpu_sys_per_1k": None,
            "connections": None, "ok": None, "not_found": None, "errors": None, "broken": [],
            "tls": None, "cpu_per_wall": None, "protocol": s.get("protocol", "http/1.1"),
            "server_connections": None, "peak_streams_per_connection": None}


RESOLVED_KEYS = {"name": str, "codeset": str, "repeat": int, "requests": int, "runs": int,
                 "warmup": int, "concur": list, "server": dict, "ok_exits": list, "points": list,
                 "delay_s": (int, float)}


def check_resolved(s, path):
    """S, read from PATH, is a scenario as resolve() writes it: the keys the
    report reads, of their types, and points with line, m, runs, warmup.
    Raises ReportError naming the file otherwise."""
    if not isinstance(s, dict):
        raise ReportError("%s is not a resolved scenario (not a JSON object)" % path)
    for k, ty in RESOLVED_KEYS.items():
        if not isinstance(s.get(k), ty) or isinstance(s.get(k), bool):
            raise ReportError("%s is not a resolved scenario: %s missing or of the wrong type" % (path, k))
    for i, p in enumerate(s["points"]):
        if not isinstance(p, dict) or not isinstance(p.get("line"), str) or \
                not all(isinstance(p.get(k), int) for k in ("m", "runs", "warmup")):
            raise ReportError("%s is not a resolved scenario: point %d is malformed" % (path, i + 1))
    if s["requests"] <= 0:
        raise ReportError("%s is not a resolved scenario: requests must be positive" % path)


def load_resolved(rawdir):
    """RAWDIR/scenario.json, checked, with what a real run of it must show
    (expectations(); bench.sh's more-runs and point-line read it so)."""
    path = os.path.join(rawdir, "scenario.json")
    s = load_json(path)
    check_resolved(s, path)
    expectations(s, read_meta(os.path.dirname(os.path.dirname(os.path.abspath(rawdir)))), rawdir)
    return s


def expectations(s, meta, rawdir):
    """What a real run of S must show, for the validity rules: the ok /
    not-found split of one run (resolve() records it; older scenario.json
    files get it from their codeset), the machine's cores, and the dataset's
    sizes and the bytes of one run from RAWDIR/dataset.json when bench.sh
    wrote it, the CPU sets of its placement from RAWDIR/placement.txt."""
    if (s.get("expect_ok") is None or s.get("expect_not_found") is None) and \
            s.get("ncodes") == len(scenario_codes(s["codeset"])):
        # (a scenario of other codes than its codeset's, a fixture, implies nothing)
        s["expect_ok"], s["expect_not_found"] = expected_split(s["codeset"], s["repeat"])
    if rawdir:  # the CPU sets bench.sh recorded (placement.py)
        s["_placement"] = read_placement(rawdir)
    cores = meta.get("cores")
    s["_cores"] = cores if isinstance(cores, int) and cores > 0 else None
    sizes = read_dataset(os.path.join(rawdir, "dataset.json")) if rawdir else None
    s["_dataset_sizes"] = sizes
    if sizes:
        have = [cc for cc in scenario_codes(s["codeset"]) if cc in sizes]
        s["_expect_bytes"] = sum(sizes[cc] for cc in have) * s["repeat"]


def load_scenario_points(sdir):
    """(scenario, points, notes) of OUT/NAME, new or old layout."""
    rawdir = os.path.join(sdir, "raw")
    notes = []
    if os.path.isdir(rawdir) and os.path.isfile(os.path.join(rawdir, "scenario.json")):
        s = load_json(os.path.join(rawdir, "scenario.json"))
        check_resolved(s, os.path.join(rawdir, "scenario.json"))
        meta = read_meta(os.path.dirname(os.path.abspath(sdir)))
        # the libcurl the run declares (bench.sh --libcurl, else the system's)
        s["_libcurl"] = meta.get("libcurl")
        expectations(s, meta, rawdir)
        if s.get("net"):  # the lab's self-measurement, against the settings
            s["_netlab"] = read_netlab(os.path.join(rawdir, "netlab.txt"))
            s["_net_problems"] = lab_problems(s["net"], s["_netlab"])
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
        first = load_stats(os.path.join(rawdir, "server-stats.json"))
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
        expectations(s, read_meta(os.path.dirname(os.path.abspath(sdir))), None)
        notes.append("Old-format data (the jq pipeline's raw.json): no per-request latencies, so "
                     "no pooled percentiles; %s per point." % plural(s["runs"], "run"))
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
