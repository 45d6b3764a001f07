"""The range of every number the report reads (issue 19, case 7): a value
that is not finite or not in its range names its file, and the point is
INVALID (validity.rule_numbers_in_range)."""

import math

RSS_MAX_KB = 1 << 30  # 1 TiB: more is not a measurement
TIME_MAX_S = 86400  # a run's ceiling when the scenario has no point limit


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_integer(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _bad_number(x, lo, hi, integer=False, lo_open=False):
    """None when x is a finite number in [lo, hi] ((lo, hi] with lo_open),
    an integer when asked; else the words why not."""
    if not (is_integer(x) if integer else is_number(x)) or not math.isfinite(x):
        return "%r is not %s" % (x, "an integer" if integer else "a finite number")
    if x < lo or (lo_open and x == lo) or x > hi:
        return "%r is outside %s%g, %g]" % (x, "(" if lo_open else "[", lo, hi)
    return None


# the fields of a --json record the report reads: (name, lo, hi, integer, lo_open, required)
RECORD_FIELDS = [
    ("requests", 0, 1 << 40, True, False, True),
    ("ok", 0, 1 << 40, True, False, True),
    ("not_found", 0, 1 << 40, True, False, True),
    ("errors", 0, 1 << 40, True, False, True),
    ("cancelled", 0, 1 << 40, True, False, False),
    ("bytes", 0, 1 << 60, True, False, False),
    ("concur_req", 1, 1 << 30, True, False, False),
    ("connections", 0, 1 << 40, True, False, True),
    ("cpu_user_s", 0, None, False, False, True),
    ("cpu_sys_s", 0, None, False, False, True),
    ("max_rss_kb", 0, RSS_MAX_KB, False, True, True),
]
STATS_FIELDS = ["requests", "peak_in_flight", "tls_handshakes", "tls_resumed", "tls_failed"]


def time_limit(s):
    """The longest a run can take: bench.sh stops a batch at the point limit."""
    lim = s.get("point_limit_s")
    return lim if is_number(lim) and lim > 0 else TIME_MAX_S


def bad_numbers(s, c):
    """The values of one point (the facts C of points.gather) that are not
    finite or not in their range, each named with its file: hyperfine's
    times, exit codes and CPU, each record's counts, CPU and RSS, /stats'
    counters, every latency. At most five sentences, then a count."""
    out = []
    lim = time_limit(s)
    cpu_max = lim * max(1, s.get("_cores") or 1024)
    for b in c["batches"]:
        hf = b["hyperfine"]
        name = "hf-%d.json" % b["batch"]
        if hf is not None:
            ts = hf.get("times") or []
            if not isinstance(ts, list):
                out.append("%s: times is not a list" % name)
                ts = []
            for t in ts:
                why = _bad_number(t, 0, lim, lo_open=True)
                if why:
                    out.append("%s: run time %s (s)" % (name, why))
            for e in hf.get("exit_codes") or []:
                if not is_integer(e) and e is not None:
                    out.append("%s: exit code %r is not an integer" % (name, e))
            for k in ("user", "system"):
                if hf.get(k) is not None:
                    why = _bad_number(hf[k], 0, cpu_max)
                    if why:
                        out.append("%s: %s CPU %s (s)" % (name, k, why))
        st = b["stats"]
        if st is not None:
            name = "stats-%d.json" % b["batch"]
            for k in STATS_FIELDS:
                if k in st and st[k] is not None:
                    why = _bad_number(st[k], 0, 1 << 60, integer=True)
                    if why:
                        out.append("%s: %s %s" % (name, k, why))
            by = st.get("by_status", {})
            if not isinstance(by, dict):
                out.append("%s: by_status is not an object" % name)
            else:
                for code, n in by.items():
                    why = _bad_number(n, 0, 1 << 60, integer=True)
                    if why:
                        out.append("%s: by_status %s %s" % (name, code, why))
    for i, r in enumerate(c["recs"]):
        name = "records.jsonl run %d" % (i + 1)
        if not isinstance(r, dict):
            out.append("%s: not a JSON object" % name)
            continue
        for key, lo, hi, integer, lo_open, required in RECORD_FIELDS:
            if key not in r:
                if required and c["is_client"]:
                    out.append("%s: no %s" % (name, key))
                continue
            why = _bad_number(r[key], lo, hi if hi is not None else cpu_max, integer, lo_open)
            if why:
                out.append("%s: %s %s" % (name, key, why))
    for i, x in enumerate(c["latencies"] or []):
        if not math.isfinite(x) or x < 0 or x > lim * 1000:
            out.append("%s: latency %r ms on line %d is outside [0, %g]"
                       % (c["latencies_file"], x, i + 1, lim * 1000))
            break  # one is enough: the file is wrong
    return out[:5] + (["... and %d more bad values" % (len(out) - 5)] if len(out) > 5 else [])
