"""Every INVALID rule in one place.

Each rule is a small function named rule_*(s, c): s is the resolved
scenario, c the facts reduce_point (points.py) gathered from one raw point.
It returns the sentences that say how the point broke it, [] when it holds.
RULES lists them in the order the report gives them; a point's "broken" list
names the rule beside each sentence, so REPORT.md cites the rule by name.

The rules of issue 19 (case 4) hold for every real measurement and fail a
server that lies about itself: no run faster than the ideal bound, the
ok / not-found split the codes and the dataset imply, bytes at least the
dataset's, and a peak in flight that can explain the measured time. Case 7:
every number read is in its range (rule_numbers_in_range runs first; a point
that breaks it is not reduced further)."""

import math

from .ranges import is_number, bad_numbers
from .lines import h2_conn_bound, program
from .net import rule_net_lab_as_set
from .placement import rule_placement_cpus
from .scenarios import server_streams, tls_resume

# How far below a bound derived from the delay a run may come. flagserver
# holds every response for at least its delay (libevent timers never fire
# early; epoll rounds its timeout up to the millisecond), and hyperfine times
# the whole process, so a real run is never below the bound; 2% leaves room
# for the two clocks' rates and rounding, while a server that answers at once
# is a factor of several below it (issue 19: 17-28x).
BOUND_TOLERANCE = 0.02

def rule_numbers_in_range(s, c):
    """Every number read is finite and in its range (ranges.py). A point
    with a bad value is not reduced further."""
    return bad_numbers(s, c)


def rule_server_started(s, c):
    """flagserver started (else no point of the scenario counts)."""
    return [] if c["server_started"] else ["flagserver did not start"]


def rule_batches_ran(s, c):
    """At least one hyperfine batch ran."""
    return [] if c["batches"] else ["no hyperfine batch ran"]


def rule_hyperfine_ok(s, c):
    """Each batch's hyperfine exited 0 and timed as many runs as asked."""
    out = []
    for b in c["batches"]:
        if b["timed_out"]:
            continue  # not run here: the point limit
        if b["rc"] != 0:
            out.append("hyperfine failed (exit %d)" % b["rc"])
        elif len(b["times"]) != b["runs"]:
            out.append("batch %d: %d timed runs, expected %d" % (b["batch"], len(b["times"]), b["runs"]))
    return out


def rule_server_settings(s, c):
    """/stats' settings match the scenario's server (each batch, and the
    server's first /stats)."""
    return c["settings_bad"] + ([c["server_mismatch"]] if c["server_mismatch"] else [])


def rule_exit_status(s, c):
    """Every run exited with a status the scenario accepts."""
    bad = sorted({e for e in c["exit_codes"] if e not in s["ok_exits"]})
    return ["run exit status %s" % ",".join(str(e) for e in bad)] if bad else []


def rule_records_parse(s, c):
    """Every --json record is JSON."""
    return ["a --json record does not parse"] if c["records_unparsed"] else []


def _client_ran(c):
    return c["is_client"] and c["server_started"] and c["batches"] and c["not_run"] is None


def rule_records_complete(s, c):
    """A client wrote one record per run (warmup included), each made the
    scenario's requests, and accounted for each exactly once."""
    if not _client_ran(c):
        return []
    out = []
    recs = c["recs"]
    if len(recs) != c["nexpected_records"]:
        out.append("%d --json records, expected %d" % (len(recs), c["nexpected_records"]))
    sums = [r for r in recs if r["ok"] + r["not_found"] + r["errors"] != r["requests"]]
    if sums:
        out.append("ok + not found + errors != requests in %d run(s)" % len(sums))
    wrong = [r for r in recs if r["requests"] != s["requests"]]
    if wrong:
        out.append("a run made %d requests, expected %d" % (wrong[0]["requests"], s["requests"]))
    return out


def rule_no_failed_requests(s, c):
    """No request failed, unless the scenario injects errors (ok_exits)."""
    if not _client_ran(c):
        return []
    errs = sum(r["errors"] for r in c["recs"])
    return ["the client reported %d failed requests" % errs] if errs > 0 and s["ok_exits"] == [0] else []


def rule_libcurl_declared(s, c):
    """A C client loaded the libcurl the run declares."""
    if not _client_ran(c) or c["line"].startswith("py-"):
        return []
    loaded = sorted({r["libcurl"] for r in c["recs"] if r.get("libcurl")})
    if s.get("_libcurl") and loaded and loaded != [s["_libcurl"]]:
        return ["the client loaded libcurl %s, the run declares %s" % (", ".join(loaded), s["_libcurl"])]
    return []


def rule_stats_present(s, c):
    """flagserver's /stats was read after every batch."""
    if c["server_started"] and c["batches"] and c["stats_missing"] and c["not_run"] is None:
        return ["no flagserver /stats"]
    return []


def rule_peak_within_m(s, c):
    """flagserver never saw more than m requests in flight."""
    pk = c["peak"]
    return ["peak_in_flight %d > m = %d" % (pk, c["m"])] if pk is not None and pk > c["m"] else []


def rule_server_counted_requests(s, c):
    """flagserver counted exactly the requests the batch's runs made."""
    if c["not_run"] is not None:
        return []
    out = []
    for b in c["batches"]:
        st = b["stats"]
        if st is None or b["rc"] != 0 or b["timed_out"]:
            continue
        want = s["requests"] * (b["warmup"] + b["runs"])
        if st.get("requests") != want:
            out.append("flagserver counted %s requests in batch %d, expected %d"
                       % (st.get("requests"), b["batch"], want))
    return out


def rule_tls_handshakes(s, c):
    """(HTTPS) the server's handshake counters fit the scenario."""
    return c["tls_bad"] if c["not_run"] is None and c["server_started"] else []


def rule_latencies_match(s, c):
    """A client's latencies file has one line per ok or not-found request."""
    if not c["is_client"] or c["not_run"] is not None:
        return []
    lat = c["latencies"]
    if lat is None:
        return ["no latencies file"] if not c["old"] and c["batches"] else []
    want = sum(r["ok"] + r["not_found"] for r in c["recs"])
    if len(lat) != want:
        return ["latencies file has %d lines, the records account for %d" % (len(lat), want)]
    return []


def delay_min_s(s):
    """The smallest delay flagserver holds a response, in seconds."""
    d = (s.get("server") or {}).get("delay_ms") or {}
    lo = d.get("min", 0)
    return lo / 1000 if is_number(lo) and lo > 0 else 0.0


def bound_s(requests, inflight, delay):
    """The least time REQUESTS take with at most INFLIGHT at once, each held
    DELAY s: ceil(requests / inflight) rounds of the delay."""
    if requests <= 0 or delay <= 0:
        return 0.0
    if inflight <= 0:
        return math.inf
    return math.ceil(requests / inflight) * delay


def _delayed_requests(s, c):
    """Requests of a run that surely waited the delay: all but the most
    failed ones of any run (a reset error may come before the delay)."""
    errs = max(c["errors_per_run"], default=0) if s.get("server", {}).get("error_rate", 0) else 0
    return max(0, s["requests"] - math.ceil(errs))


def rule_not_faster_than_ideal(s, c):
    """No run beats the ideal bound ceil(N / m) x delay (less
    BOUND_TOLERANCE): with m in flight and every response held the delay,
    no real run can. A server that answers at once breaks it."""
    d = delay_min_s(s)
    if not c["times"] or d <= 0 or c["not_run"] is not None:
        return []
    m = min(c["m_eff"], c["m"])  # what a client says it used never loosens the bound
    b = bound_s(_delayed_requests(s, c), m, d)
    t = min(c["times"])
    if t < b * (1 - BOUND_TOLERANCE):
        return ["a run took %.3f s, below the ideal bound %.3f s (ceil(%d / %d) × %g s, less %g%%): "
                "the server did not hold its responses the delay"
                % (t, b, _delayed_requests(s, c), m, d, BOUND_TOLERANCE * 100)]
    return []


def rule_peak_explains_elapsed(s, c):
    """The server's peak in flight can explain the fastest run: with at
    most peak requests in flight, each held the delay, a run takes at least
    ceil(N / peak) x delay. Where the delay makes m in flight certain (a run
    near the ideal bound), the peak must reach m."""
    d = delay_min_s(s)
    pk = c["peak"]
    if not c["times"] or d <= 0 or pk is None or c["not_run"] is not None:
        return []
    n = _delayed_requests(s, c)
    b = bound_s(n, pk, d)
    t = min(c["times"])
    if t < b * (1 - BOUND_TOLERANCE):
        return ["peak_in_flight %d cannot explain a run of %.3f s: %d requests held %g s each, "
                "at most %d at once, take at least %.3f s" % (pk, t, n, d, pk, b)]
    return []


def rule_ok_not_found_split(s, c):
    """Each run's ok / not-found split is the one the scenario's codes and
    the dataset imply (with injected errors: at most that many of each)."""
    want_ok, want_nf = c["expect_ok"], c["expect_not_found"]
    if c["not_run"] is not None or not c["batches"] or want_ok is None or want_nf is None:
        return []
    exact = not s.get("server", {}).get("error_rate", 0)
    if program(c["line"]) == "h2load":
        # each h2load client walks the URI list from its start, so its split
        # depends on -c; its requests are counted (server_counted_requests)
        return []
    out = []

    def check(where, ok, nf, n=1):
        wo, wn = want_ok * n, want_nf * n
        if (exact and (ok, nf) != (wo, wn)) or (not exact and (ok > wo or nf > wn)):
            out.append("%s: %s ok / %s not found, the codes and the dataset imply %s%d / %d"
                       % (where, fmt_n(ok), fmt_n(nf), "" if exact else "at most ", wo, wn))

    if c["is_client"]:
        for i, r in enumerate(c["recs"]):
            check("run %d" % (i + 1), r["ok"], r["not_found"])
            if out:
                break  # one run says it
    else:
        for b in c["batches"]:
            st = b["stats"]
            if st is None or b["rc"] != 0 or b["timed_out"] or not isinstance(st.get("by_status"), dict):
                continue
            by = st["by_status"]
            check("batch %d (flagserver)" % b["batch"], by.get("200", 0), by.get("404", 0),
                  b["warmup"] + b["runs"])
    return out


def fmt_n(x):
    return "%d" % x if float(x).is_integer() else "%g" % x


def rule_bytes_match_dataset(s, c):
    """Each run received at least the dataset's bytes for what it says it
    downloaded: the sum of the sizes of the codes that exist (no injected
    errors), else ok x the smallest flag. Needs the dataset's manifest
    (raw/dataset.json, bench.sh); without it the rule cannot be checked."""
    sizes = c["dataset_sizes"]
    if not sizes or not _client_ran(c):
        return []
    exact = not s.get("server", {}).get("error_rate", 0)
    smallest = min(sizes.values())
    for i, r in enumerate(c["recs"]):
        if "bytes" not in r:
            continue
        want = c["expect_bytes"] if exact else r["ok"] * smallest
        if r["bytes"] < want:
            return ["run %d received %d bytes, less than the %d the dataset's files hold for %d ok"
                    % (i + 1, r["bytes"], want, r["ok"])]
    return []


# The handshakes of bench.sh's own /stats read after a batch: its connection's
# handshake completes before the server answers, so the batch's counters
# include it (the reset's own handshake is zeroed by the reset).
STATS_HANDSHAKES = 1


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


def _counted_batches(c):
    """The batches whose /stats count: read, the batch ran to the end."""
    return [b for b in c["batches"] if b["stats"] is not None and b["rc"] == 0 and not b["timed_out"]]


def rule_protocol(s, c):
    """(issue 20) Every request used the scenario's protocol: flagserver's
    requests_by_protocol holds no other, and no client record says it spoke
    another. An HTTP/2 scenario needs the counters (an older server has none)."""
    if c["not_run"] is not None:
        return []
    want = s.get("protocol", "http/1.1")
    out = []
    for b in _counted_batches(c):
        by = b["stats"].get("requests_by_protocol")
        if not isinstance(by, dict):
            if want != "http/1.1":
                out.append("no requests_by_protocol in flagserver's /stats (batch %d)" % b["batch"])
            continue
        other = ["%s %s" % (n, k) for k, n in sorted(by.items()) if k != want and n]
        if other:
            out.append("flagserver counted requests over another protocol than %s in batch %d: %s"
                       % (want, b["batch"], ", ".join(other)))
    spoke = sorted({r["protocol"] for r in c["recs"] if r.get("protocol") not in (None, want)})
    if spoke:
        out.append("a client record says it spoke %s, the scenario is %s" % (", ".join(spoke), want))
    return out


def rule_connections_bound(s, c):
    """(issue 20) Over HTTP/2, no run opened more connections than the
    line's bound (bench/lines.json, h2_conn_bound): by flagserver's
    connections_by_protocol, per run of each batch, and by every client
    record's connections."""
    want = s.get("protocol", "http/1.1")
    if want == "http/1.1" or c["not_run"] is not None:
        return []
    bound = h2_conn_bound(c["line"], c["m"], server_streams(s))
    if bound is None:
        return []
    out = []
    for b in _counted_batches(c):
        by = b["stats"].get("connections_by_protocol")
        n = b["warmup"] + b["runs"]
        if not isinstance(by, dict):
            out.append("no connections_by_protocol in flagserver's /stats (batch %d)" % b["batch"])
        elif by.get(want, 0) > bound * n:
            out.append("flagserver counted %d %s connections in batch %d (%d runs), more than the line's "
                       "bound of %d a run" % (by.get(want, 0), want, b["batch"], n, bound))
    most = max((r["connections"] for r in c["recs"] if isinstance(r.get("connections"), int)), default=0)
    if most > bound:
        out.append("a run opened %d connections, more than the line's bound of %d" % (most, bound))
    return out


RULES = [rule_server_started, rule_batches_ran, rule_hyperfine_ok, rule_server_settings,
         rule_exit_status, rule_records_parse, rule_records_complete, rule_no_failed_requests,
         rule_libcurl_declared, rule_stats_present, rule_peak_within_m, rule_server_counted_requests,
         rule_tls_handshakes, rule_latencies_match, rule_not_faster_than_ideal,
         rule_peak_explains_elapsed, rule_ok_not_found_split, rule_bytes_match_dataset,
         rule_protocol, rule_connections_bound, rule_net_lab_as_set, rule_placement_cpus]


def rule_name(rule):
    """A rule's name as the report cites it: rule_peak_within_m -> peak_within_m."""
    return rule.__name__[len("rule_"):]


def check(s, c):
    """Every rule on the facts C of one point: [(rule name, sentence)]. When
    flagserver did not start, that is the one reason; when the point was not
    run here, only a settings difference is kept."""
    if not c["server_started"]:
        return [(rule_name(rule_server_started), "flagserver did not start")]
    out = []
    for rule in RULES:
        out += [(rule_name(rule), r) for r in rule(s, c)]
    if c["not_run"]:
        out = [(n, r) for n, r in out if r.startswith("server settings differ")]
    return out
