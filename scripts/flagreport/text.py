"""Tables and sentences of REPORT.md."""

import os

from .base import read_kv
from .lines import ALL_LINES, C_LINES, DESIGN_LINES, PY_LINES, show
from .scenarios import tls_resume
from .stats import roomless, untested, ALPHA, MIN_RATIO, PCTS, compare
from .verdicts import (VS_CURL_MIN_RUNS, best_design_sentence, best_designs, claim_text, crossover, mrange,
                       second_core_sentence, vs_curl, vs_curl_text)


def f(x, d=3):
    if x is None:
        return "–"
    return "%.*f" % (d, x)


def pct(x):
    return "–" if x is None else "%d%%" % round(x * 100)


def fmt_count(x):
    """A per-run count: an integer when it is one, else one decimal."""
    return "%d" % round(x) if abs(x - round(x)) < 0.05 else "%.1f" % x


def broken_text(p):
    """A point's reasons, each with the validity rule it broke:
    "reason [rule]; ..." (validity.py names the rules)."""
    broken = p.get("broken") or [{"rule": None, "reason": r} for r in p["reasons"]]
    return "; ".join("%s [%s]" % (b["reason"], b["rule"]) if b["rule"] else b["reason"] for b in broken)


def status_text(p):
    if p["valid"]:
        return "valid"
    if p["not_run"]:
        return "not run here: %s" % p["not_run"]
    return "**INVALID**: %s" % broken_text(p)


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
        if x["too_few"]:
            parts.append("too few runs to test at %s" % mrange(x["too_few"]))
        if x["no_room"]:
            parts.append("more runs needed to claim the significant difference at %s" % mrange(x["no_room"]))
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
        elif untested(v):
            holds = "cannot be tested at m = %d: %s" % (m, claim_text(v))
        elif roomless(v):
            holds = "cannot be claimed at m = %d: %s" % (m, claim_text(v))
        else:
            holds = ("is not contradicted at m = %d: %s" % (m, claim_text(v)))
        lines.append("")
        lines.append("The book's ordering (asyncio at least as fast as threads at high m) %s." % holds)
    return "\n".join(lines)


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


def read_wall(raw):
    """(seconds, [NAME, TWIN] or []) a scenario took in the run of RAW
    (bench.sh's RAW/wall.txt: "seconds N", "together NAME TWIN" for a pair
    run jointly), or None for a run without it."""
    kv = read_kv(os.path.join(raw, "wall.txt"))
    try:
        sec = float(kv["seconds"])
    except (KeyError, ValueError):
        return None
    return sec, kv.get("together", "").split()


def wall_line(sdir):
    """"- time: N s ..." from RAW/wall.txt, or None."""
    w = read_wall(os.path.join(sdir, "raw"))
    if w is None:
        return None
    sec, together = w
    if together:
        return "- time: %.0f s for it and %s together (server, adaptive runs and set-up included)" % (
            sec, " and ".join(x for x in together if x != os.path.basename(os.path.normpath(sdir))))
    return "- time: %.0f s (server, adaptive runs and set-up included)" % sec

