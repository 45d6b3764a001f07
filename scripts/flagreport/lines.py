"""The lines: every design and reference the benchmark measures, read once
from bench/lines.json (a new line is one entry there, not an edit here).

C_LINES are the two designs of every scenario, VAR_LINES the variants a
scenario lists under "variants", REF_LINES the references of every scenario
(curl), PY_LINES the Python peers of a scenario's "python" section."""

import json
import os

from .base import ROOT, ReportError

LINES_FILE = os.path.join(ROOT, "bench", "lines.json")
PROGRAMS = ("threadpool", "asyncloop", "curl", "python", "h2load")
KINDS = ("design", "reference")
WHERE = ("all", "variants", "python")
PROTOCOLS = ("http/1.1", "h2", "h2c")
CONN_BOUNDS = ("m", "multiplex", "h2load")
# The most streams the loop opens on one connection (LOOP_H2_STREAMS,
# asyncloop/loop.c: CURLMOPT_MAX_CONCURRENT_STREAMS); its connection cap is
# ceil(share / LOOP_H2_STREAMS) per multi handle (docs/asyncloop.md, "HTTP/2").
LOOP_H2_STREAMS = 100


def load_lines(path=LINES_FILE):
    """The "lines" of PATH, each checked: a list of dicts in file order.
    Raises ReportError (one line naming the file) on anything malformed."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as e:
        raise ReportError("cannot read %s: %s" % (path, e.strerror))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ReportError("%s is not JSON: %s" % (path, e))
    lines = doc.get("lines") if isinstance(doc, dict) else None
    if not isinstance(lines, list) or not lines:
        raise ReportError("%s: \"lines\" must be a non-empty list" % path)
    seen = set()
    for i, ln in enumerate(lines):
        where = "%s: line %d" % (path, i + 1)
        if not isinstance(ln, dict):
            raise ReportError("%s is not an object" % where)
        lid = ln.get("id")
        if not isinstance(lid, str) or not lid or not all(c.isalnum() or c in "+-_." for c in lid):
            raise ReportError("%s: id must be a non-empty name of letters, digits, + - _ ." % where)
        if lid in seen:
            raise ReportError("%s: id %r is declared twice" % (where, lid))
        seen.add(lid)
        for key, allowed in (("kind", KINDS), ("program", PROGRAMS), ("scenarios", WHERE)):
            if ln.get(key) not in allowed:
                raise ReportError("%s (%s): %s must be one of %s" % (where, lid, key, ", ".join(allowed)))
        if not isinstance(ln.get("options", ""), str) or not isinstance(ln.get("label", lid), str):
            raise ReportError("%s (%s): options and label must be strings" % (where, lid))
        if ln["program"] == "python" and not isinstance(ln.get("file"), str):
            raise ReportError("%s (%s): a python line needs \"file\"" % (where, lid))
        mx = ln.get("max_m")
        if mx is not None and (not isinstance(mx, int) or isinstance(mx, bool) or mx < 1):
            raise ReportError("%s (%s): max_m must be a positive integer" % (where, lid))
        check_http2(ln, where, lid)
    return lines


def check_http2(ln, where, lid):
    """A line's HTTP/2 keys (issue 20): protocols, h2_options, h2_conn_bound,
    multi_handles."""
    protos = ln.get("protocols", list(PROTOCOLS))
    if not isinstance(protos, list) or not protos or any(p not in PROTOCOLS for p in protos):
        raise ReportError("%s (%s): protocols must be a non-empty list of %s" % (where, lid, ", ".join(PROTOCOLS)))
    opts = ln.get("h2_options", {})
    if not isinstance(opts, dict) or any(k not in ("h2", "h2c") or not isinstance(v, str) for k, v in opts.items()):
        raise ReportError("%s (%s): h2_options must map h2 and h2c to option strings" % (where, lid))
    speaks_h2 = any(p != "http/1.1" for p in protos)
    if speaks_h2 and ln.get("h2_conn_bound") not in CONN_BOUNDS:
        raise ReportError("%s (%s): a line that speaks HTTP/2 needs h2_conn_bound, one of %s"
                          % (where, lid, ", ".join(CONN_BOUNDS)))
    k = ln.get("multi_handles")
    if ln.get("h2_conn_bound") == "multiplex" and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
        raise ReportError("%s (%s): h2_conn_bound multiplex needs multi_handles, a positive integer" % (where, lid))


LINES = load_lines()
BY_ID = {ln["id"]: ln for ln in LINES}
C_LINES = [ln["id"] for ln in LINES if ln["kind"] == "design" and ln["scenarios"] == "all"]
VAR_LINES = [ln["id"] for ln in LINES if ln["kind"] == "design" and ln["scenarios"] == "variants"]
DESIGN_LINES = C_LINES + VAR_LINES  # the designs the verdict chooses among
REF_LINES = [ln["id"] for ln in LINES if ln["kind"] == "reference" and ln["scenarios"] == "all"]
PY_LINES = [ln["id"] for ln in LINES if ln["scenarios"] == "python"]
CLIENT_PROGRAMS = ("threadpool", "asyncloop", "python")  # write --json records
ALL_LINES = C_LINES + VAR_LINES + REF_LINES + PY_LINES
PY_FILES = {ln["id"]: ln["file"] for ln in LINES if ln["program"] == "python"}
VAR_ARGS = {l: BY_ID[l].get("options", "") for l in VAR_LINES}
LINE_ARGS = {ln["id"]: ln.get("options", "") for ln in LINES}
LINE_PROG = {ln["id"]: ln["program"] for ln in LINES}
COLOR = {ln["id"]: ln.get("color", "#000000") for ln in LINES}
MARKER = {ln["id"]: ln.get("marker", 1) for ln in LINES}
CURL_MAX_PARALLEL = BY_ID["curl"]["max_m"] if "curl" in BY_ID else 300  # curl's --parallel-max limit


def show(line):
    """A line's name in tables and sentences."""
    ln = BY_ID.get(line)
    return ln.get("label", line) if ln else line


def max_m(line):
    """(the largest m LINE takes, why) or (None, None)."""
    ln = BY_ID.get(line) or {}
    if ln.get("max_m") is None:
        return None, None
    return ln["max_m"], ln.get("max_m_why", "%s takes at most m = %d" % (line, ln["max_m"]))


def speaks(line, protocol):
    """(True, None) when LINE speaks PROTOCOL, else (False, why)."""
    ln = BY_ID.get(line) or {}
    if protocol in ln.get("protocols", PROTOCOLS):
        return True, None
    return False, ln.get("protocols_why", "%s does not speak %s" % (line, protocol))


def line_args(line, protocol):
    """LINE's options in a scenario of PROTOCOL: its options, then its
    h2_options for h2 or h2c."""
    ln = BY_ID.get(line) or {}
    extra = (ln.get("h2_options") or {}).get(protocol, "")
    return " ".join(x for x in (ln.get("options", ""), extra) if x)


def is_client(line):
    """Whether LINE is a program that writes --json records (not curl or h2load)."""
    ln = BY_ID.get(line)
    return (ln["program"] if ln else "threadpool") in CLIENT_PROGRAMS


def program(line):
    ln = BY_ID.get(line)
    return ln["program"] if ln else None


def h2load_shape(m, server_streams):
    """(clients, streams per client) of the h2load line at m against a
    server allowing SERVER_STREAMS per connection: the fewest connections
    that carry m, and at most m in flight in all."""
    c = max(1, -(-m // max(1, server_streams)))
    return c, max(1, m // c)


def h2_conn_bound(line, m, server_streams):
    """The most connections one run of LINE at m may open over HTTP/2, or
    None when the line declares no bound."""
    ln = BY_ID.get(line) or {}
    kind = ln.get("h2_conn_bound")
    if kind == "m":
        return m
    if kind == "multiplex":
        k = ln.get("multi_handles", 1)
        share = -(-m // k)
        return k * max(1, -(-share // LOOP_H2_STREAMS))
    if kind == "h2load":
        return h2load_shape(m, server_streams)[0]
    return None
