"""bench/scenarios/NAME.json resolved as bench.sh runs it, the shell
assignments bench.sh evaluates, and the checks of a server's settings
against the scenario's."""

import os
import re
import shlex

from .base import ROOT, ReportError, load_json
from .placement import SPLIT_SUFFIX, placement_setting
from .lines import (BY_ID, C_LINES, PY_FILES, PY_LINES, REF_LINES, LINE_PROG, VAR_LINES,
                    h2load_shape, line_args, max_m, speaks)

PROTOCOLS = ("http/1.1", "h2", "h2c")
H2_MAX_STREAMS_DEFAULT = 100  # flagserver's --h2-max-streams default (docs/flagserver.md)
LIBCURL_PROGRAMS = ("threadpool", "asyncloop", "curl")


def count_codes(codeset):
    if codeset == "e":
        return 676
    if codeset != "a":
        raise ReportError("codeset must be 'a' or 'e', not %r" % codeset)
    path = os.path.join(ROOT, "data", "country_codes.txt")
    with open(path, encoding="ascii") as f:
        return sum(1 for line in f if len(line.strip()) == 2 and line.strip().isupper())


def dataset_codes():
    """The codes the dataset holds a flag for: data/country_codes.txt, from
    which scripts/make-dataset.sh builds flagserver's files."""
    return set(scenario_codes("a"))


def expected_split(codeset, repeat):
    """(ok, not found) of one run of the codeset, repeated: the codes with a
    flag in the dataset answer 200, the others 404."""
    codes = scenario_codes(codeset)
    have = dataset_codes()
    ok = sum(1 for cc in codes if cc in have)
    return ok * repeat, (len(codes) - ok) * repeat


def scenario_codes(codeset):
    if codeset == "e":
        return [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    with open(os.path.join(ROOT, "data", "country_codes.txt"), encoding="ascii") as f:
        return [w for w in (line.strip() for line in f) if len(w) == 2 and w.isupper()]


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
    if server.get("http2"):
        args += ["--http2"]
        if server.get("h2_max_streams") is not None:
            args += ["--h2-max-streams", str(server["h2_max_streams"])]
    return args


def scenario_protocol(raw, name):
    """The protocol every request of a scenario must use: "http/1.1"
    (default), "h2" (HTTP/2 over TLS: needs "tls") or "h2c" (plain text).
    Its server must say "http2": true exactly when it is h2 or h2c."""
    proto = raw.get("protocol", "http/1.1")
    if proto not in PROTOCOLS:
        raise ReportError("scenario %s: protocol must be one of %s, not %r" % (name, ", ".join(PROTOCOLS), proto))
    server = raw.get("server") or {}
    if bool(server.get("http2")) != (proto != "http/1.1"):
        raise ReportError("scenario %s: protocol %s wants a server with \"http2\": %s"
                          % (name, proto, "true" if proto != "http/1.1" else "false"))
    if (proto == "h2") != bool(server.get("tls")) and proto != "http/1.1":
        raise ReportError("scenario %s: h2 is HTTP/2 over TLS and h2c over plain TCP: \"tls\" must say so" % name)
    sets = raw.get("sets", ["default"])
    if not isinstance(sets, list) or not sets or \
            any(not isinstance(x, str) or not x or not all(c.isalnum() or c in "-_" for c in x) for x in sets):
        raise ReportError("scenario %s: sets must be a non-empty list of short names" % name)
    return proto


def server_streams(s):
    """SETTINGS_MAX_CONCURRENT_STREAMS of the scenario's server."""
    v = (s.get("server") or {}).get("h2_max_streams")
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else H2_MAX_STREAMS_DEFAULT


# A scenario's "net" settings (issue 21): the network lab between client and
# server (netlab/netlab.sh). Each key with its largest accepted value.
NET_KEYS = {"rtt_ms": 60000, "jitter_ms": 30000, "loss": 1, "rate_mbit": 100000}
# ... and "cc": the TCP congestion control inside the lab's namespaces (a
# kernel name such as "reno" or "bbr"); absent or "": the host's default.
NET_CC_RE = re.compile(r"^[a-z0-9_]{1,15}$")


def net_settings(raw, name):
    """The scenario's "net" section with every key filled in (0 = none), or
    None for a loopback scenario. Raises ReportError on an unknown key or a
    value that is not a number in its range."""
    net = raw.get("net")
    if net is None:
        return None
    if not isinstance(net, dict):
        raise ReportError("scenario %s: \"net\" must be an object with %s, cc" % (name, ", ".join(NET_KEYS)))
    out = {}
    for k in net:
        if k not in NET_KEYS and k != "cc":
            raise ReportError("scenario %s: unknown \"net\" key %r (known: %s, cc)" % (name, k, ", ".join(NET_KEYS)))
    cc = net.get("cc", "")
    if not isinstance(cc, str) or (cc and not NET_CC_RE.match(cc)):
        raise ReportError("scenario %s: \"net\" cc must be a congestion control's name such as \"reno\", not %r"
                          % (name, cc))
    out["cc"] = cc
    for k, hi in NET_KEYS.items():
        v = net.get(k, 0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= hi:
            raise ReportError("scenario %s: \"net\" %s must be a number from 0 to %g, not %r" % (name, k, hi, v))
        out[k] = v
    return out


def net_args(net):
    """netlab.sh's shape options for a "net" section."""
    if not net:
        return []
    return ["--rtt", "%g" % net["rtt_ms"], "--jitter", "%g" % net["jitter_ms"],
            "--loss", "%g" % net["loss"], "--rate", "%g" % net["rate_mbit"]] + (
                ["--cc", net["cc"]] if net.get("cc") else [])


def tls_resume(server):
    """Whether a scenario's TLS server resumes sessions (the default)."""
    return server.get("tls_resume", True) is not False


def resolve(scen_path, quick=False, concur=None, runs=None, python_root=None, python_unavailable=None,
            libcurl8=False, libcurl_version=None, placement=None):
    """The scenario as bench.sh runs it: --quick's values merged over the
    defaults, --concur/--runs applied, every point listed with its runs or the
    reason it is not run here. libcurl8: the reduced set of the scenario's
    "libcurl8" section instead (the libcurl 7.88 vs 8.14 table; no Python).
    placement: bench.sh --placement, over the scenario's own."""
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
    s["expect_ok"], s["expect_not_found"] = expected_split(s["codeset"], s["repeat"])
    d = s["server"]["delay_ms"]
    s["delay_s"] = (d["min"] + d["max"]) / 2 / 1000
    s["server_args"] = server_args(s["server"])
    s["tls"] = bool(s["server"].get("tls"))
    s["fresh_connect"] = bool(s.get("fresh_connect"))
    s["protocol"] = scenario_protocol(raw, name)
    s["h2_max_streams"] = server_streams(s)
    # h2c before libcurl 8 ("libcurl_not_run": why): the libcurl lines run in
    # the libcurl 8 pass only
    # (or a run that loads libcurl 8 or later: --libcurl DIR)
    major = (libcurl_version or "").split(".")[0]
    no_libcurl = None if libcurl8 or (major.isdigit() and int(major) >= 8) else s.get("libcurl_not_run")
    s["net"] = net_settings(s, name)
    s["placement"] = placement_setting({"placement": placement} if placement else raw, name)
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
            ok, why = speaks(line, s["protocol"])
            if not ok and line in REF_LINES:
                continue  # another reference measures this protocol
            pr = point_runs.get(m, {})
            p = {"line": line, "m": m, "runs": pr.get("runs", s["runs"]),
                 "warmup": pr.get("warmup", s["warmup"]), "not_run": None}
            mx, mx_why = max_m(line)
            if not ok:
                p["not_run"] = why
            elif no_libcurl and LINE_PROG.get(line) in LIBCURL_PROGRAMS:
                p["not_run"] = no_libcurl
            elif mx is not None and m > mx:
                p["not_run"] = mx_why
            points.append(p)
    for m in py.get("concur", []):
        for line in PY_LINES:
            p = {"line": line, "m": m, "runs": py.get("runs", s["runs"]),
                 "warmup": py.get("warmup", 0), "not_run": None}
            ok, why = speaks(line, s["protocol"])
            if not ok:
                p["not_run"] = why
            elif not os.path.isfile(os.path.join(proot, PY_FILES[line])):
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
    proto = s.get("protocol", "http/1.1")
    shapes = {p["m"]: h2load_shape(p["m"], s.get("h2_max_streams", H2_MAX_STREAMS_DEFAULT))
              for p in run if LINE_PROG.get(p["line"]) == "h2load"}
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
        # HTTP/2 (issue 20): the protocol, and h2load's -c and -m by m
        "PROTOCOL=%s" % q(proto),
        "declare -gA H2LOAD_SHAPE=(%s)" % " ".join("[%d]=%s" % (m, q("-c %d -m %d" % cm))
                                                  for m, cm in sorted(shapes.items())),
        "NET=%d" % (1 if s.get("net") else 0),
        # where flagserver and the lines run (issue 24; flagreport/placement.py)
        "PLACEMENT=%s" % q(s.get("placement", "shared")),
        "NET_ARGS=(%s)" % " ".join(q(a) for a in net_args(s.get("net"))),
        "CONCUR=(%s)" % " ".join(str(m) for m in s["concur"]),
        "POINTS=(%s)" % " ".join(q("%s %d %d %d" % (p["line"], p["m"], p["runs"], p["warmup"]))
                                 for p in run),
        # every line's program and options, declared once (bench/lines.json)
        "declare -gA LINE_ARGS=(%s)" % " ".join("[%s]=%s" % (q(l), q(line_args(l, proto))) for l in BY_ID),
        "declare -gA LINE_PROG=(%s)" % " ".join("[%s]=%s" % (q(l), q(a)) for l, a in LINE_PROG.items()),
        "declare -gA LINE_FILE=(%s)" % " ".join("[%s]=%s" % (q(l), q(a)) for l, a in PY_FILES.items()),
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


def h2load_uris(s, base_url):
    """h2load's --input-file: the URIs of one run in the clients' order, one
    a line (h2load saves nothing, so no output names)."""
    codes = scenario_codes(s["codeset"])
    return "".join("%s/%s/%s.gif\n" % (base_url, cc.lower(), cc.lower()) for _ in range(s["repeat"]) for cc in codes)


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
    diffs += h2_settings_mismatch(want, st)
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


def h2_settings_mismatch(want, st):
    """HTTP/2 on a server for an HTTP/1.1 scenario (or the reverse), another
    stream limit. A server whose settings have no "http2" key is an HTTP/1.1
    server (older than issue 20)."""
    on = bool(want.get("http2"))
    got = bool(st.get("http2", False))
    if got != on:
        return ["HTTP/2 %s (scenario: %s)" % ("on" if got else "off", "on" if on else "off")]
    if on:
        wn = want.get("h2_max_streams", H2_MAX_STREAMS_DEFAULT)
        if st.get("h2_max_streams") != wn:
            return ["h2_max_streams %s (scenario: %s)" % (st.get("h2_max_streams"), wn)]
    return []


def fmt_range(d):
    if not isinstance(d, dict):
        return "?"
    if d.get("min") == d.get("max"):
        return "%s" % d.get("min")
    return "%s–%s" % (d.get("min"), d.get("max"))


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


def bench_scenario_names(benchdir):
    """Every scenario of BENCHDIR in bench.sh's order: the four of the book's
    experiment first, then the others by name; a -SPLIT twin right after
    the scenario it repeats with placement split (NAME, NAME-SPLIT), so the
    two run as close in time as they can."""
    names = sorted(os.path.splitext(f)[0] for f in os.listdir(benchdir) if f.endswith(".json"))
    order = ["LOCAL", "DELAY", "ERROR", "C10K"]
    have = set(names)  # (list.sort empties the list while it sorts)

    def key(n):
        b = n[:-len(SPLIT_SUFFIX)] if n.endswith(SPLIT_SUFFIX) and n[:-len(SPLIT_SUFFIX)] in have else n
        return (order.index(b) if b in order else len(order), b, n != b)
    names.sort(key=key)
    return names


def libcurl8_scenarios(benchdir):
    """The scenarios with a "libcurl8" section, in bench.sh's order."""
    return [n for n in bench_scenario_names(benchdir)
            if "libcurl8" in load_json(os.path.join(benchdir, n + ".json"))]


SET_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def scenario_sets(benchdir):
    """{set name: [scenario, ...]} from every scenario's "sets" list, in
    bench.sh's order; "all" holds every scenario. A scenario without a "sets"
    list of short lower-case names is an error: membership is declared once,
    in the scenario's own file."""
    sets = {"all": []}
    for n in bench_scenario_names(benchdir):
        raw = load_json(os.path.join(benchdir, n + ".json"))
        names = raw.get("sets") if isinstance(raw, dict) else None
        if (not isinstance(names, list) or not names
                or not all(isinstance(x, str) and x and set(x) <= SET_NAME_CHARS for x in names)):
            raise ReportError("scenario %s: \"sets\" must be a non-empty list of lower-case names" % n)
        if "all" in names:
            raise ReportError("scenario %s: \"all\" is every scenario, not a set to list" % n)
        sets["all"].append(n)
        for x in names:
            sets.setdefault(x, []).append(n)
    return sets


def scenario_set(benchdir, name):
    """The scenarios of set NAME, in bench.sh's order; an unknown set is an
    error naming the known ones."""
    sets = scenario_sets(benchdir)
    if name not in sets:
        raise ReportError("no scenario set '%s' (known: %s)" % (name, ", ".join(sorted(sets))))
    return sets[name]
