"""REPORT.md and verdicts.json of a run: one section per scenario, the
libcurl 7.88 vs 8.14 section."""

import json
import os

from .base import load_json, write_text
from .h2table import h2_section
from .lines import show
from .lossy import loss_section
from .net import ideal_formula, lab_lines, network_sentence
from .placement import placement_line, placement_section
from .plots import write_plot_data
from .points import load_scenario_points, public_point
from .raw import read_meta, scenario_names
from .scenarios import tls_resume
from .stats import ALPHA, BOOT_RESAMPLES, MIN_RATIO, POWER, version_compare
from .text import python_tables, save_fs_line, wall_line, table, tls_table_note, verdict_sentences, vs_curl_lines
from .validity import BOUND_TOLERANCE
from .verdicts import best_designs, claim_text, undetected_sentence, pair_verdicts, second_core_sentence, vs_curl_text


def scenario_section(out, name, sub="", label=None):
    """The section of OUT/SUB/NAME (SUB: "" for the main run, LIBCURL8_DIR for
    the libcurl 8 pass), titled LABEL (NAME unless told); its links and its
    summary's "name" use them too."""
    sdir = os.path.join(out, sub, name)
    rel = os.path.join(sub, name) if sub else name
    label = label or name
    s, pts, notes = load_scenario_points(sdir)
    lines = ["## %s\n" % label, "%s.\n" % s.get("desc", "").rstrip(".")]
    if s.get("_skipped"):
        lines.append("**Not run here**: %s\n" % s["_skipped"])
        return "\n".join(lines), {"name": label, "skipped": s["_skipped"], "verdicts": []}
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
    formula = ideal_formula(s)
    lines.append("- ideal bound: %s" % formula if formula else "- ideal bound: none (no delay)")
    lines += lab_lines(s)
    pl_line = placement_line(s)
    if pl_line:
        lines.append(pl_line)
    lines.append("- bytes received: checked against the dataset's files (raw/dataset.json)"
                 if s.get("_dataset_sizes") else
                 "- bytes received: not checked (no dataset manifest, raw/dataset.json, in this run)")
    fs_line = save_fs_line(sdir)
    if fs_line:
        lines.append(fs_line)
    w_line = wall_line(sdir)
    if w_line:
        lines.append(w_line)
    lines.append("")
    for n in notes:
        lines.append("> %s\n" % n)
    notes_settings = {p["settings_note"] for p in pts if p.get("settings_note")}
    for n in sorted(notes_settings):
        if not any("settings" in x for x in notes):
            lines.append("> flagserver's /stats: %s.\n" % n)
    lines.append("**Verdict.** %s\n" % verdict_sentences(s, pts, verdicts))
    netline = network_sentence(s, pts)
    if netline:
        lines.append("%s\n" % netline)
    if verdicts:
        lines.append("| m | threadpool vs asyncloop |")
        lines.append("|---:|---|")
        for v in verdicts:
            lines.append("| %d | %s |" % (v["m"], claim_text(v)))
        lines.append("")
        und = undetected_sentence(s, verdicts)
        if und:
            lines.append(und + "\n")
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
        lines.append("![%s %s](%s/%s.png)" % (label, pl, rel, pl))
    if made:
        lines.append("")
    if lm:
        lines.append("The latency plot is at m = %d.\n" % lm)
    lines.append("Data: [%s/points.json](%s/points.json); raw measurements in `%s/raw/`.\n" % (rel, rel, rel))
    summary = {"name": label, "verdicts": [
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


def schedule_text(word):
    """meta.txt's "schedule" ("interleaved B" or "consecutive") in words."""
    w = word.split()
    if w[:1] == ["interleaved"] and len(w) == 2:
        return ("interleaved: the lines' runs alternate in batches of %s, the order rotated each round"
                % w[1])
    if w == ["consecutive"]:
        return "consecutive: all runs of one line, then all of the next (--consecutive)"
    return word


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
                       ("server_url", "server"), ("schedule", "runs at one m"),
                       ("cpus_allowed", "CPUs this run may use")]:
        if meta.get(key) not in (None, ""):
            head.append("| %s | %s |" % (label, schedule_text(meta[key]) if key == "schedule" else meta[key]))
    if meta.get("sanitize"):
        head.append("| sanitizer | %s (timings not representative) |" % meta["sanitize"])
    head += ["",
             "Each point is hyperfine (`-N`, whole-process wall time) of one program at one m, with "
             "flagserver's counters reset before each batch of runs and read after it. A claim \"X faster\" "
             "needs a two-sided Mann–Whitney U test on the per-run elapsed times at p < %g **and** a ratio of "
             "medians ≥ %.2f; the ratio is given with a 95%% bootstrap confidence interval (%d resamples, fixed "
             "seed). A claim also needs runs enough that two runs out of order would still give p < %g "
             "(6 + 6 runs have it, 5 + 5 do not: \"significant on only 5 + 5 runs ...: more runs needed, no "
             "claim\"). Anything else reads \"no significant difference\", with the smallest ratio it could "
             "have detected (\"could detect ≥ 1.08×\": with %d%% power at p < %g, from the CI's half-width on "
             "the log scale, never below %.2f; docs/bench.md). A point is **INVALID** (never plotted) "
             "when it breaks a validity rule, named in brackets beside the reason (docs/bench.md lists them): "
             "the server did not start, a run failed, ok + not found + errors ≠ requests, the server "
             "counted other requests than the runs made, peak_in_flight > m, the server's settings differ "
             "from the scenario's, a client loaded another libcurl than the run declares, (HTTPS) a handshake "
             "failed or the server's handshake counts do not fit the scenario, a run was faster than the ideal "
             "bound allows (%d%% tolerance) or than the server's peak in flight can explain, the ok / not-found "
             "split is not the one the codes and the dataset imply, a run received fewer bytes than the "
             "dataset's files hold, a request used another protocol than the scenario's or a run opened more "
             "connections than its line's bound (HTTP/2), or a number read is not finite or out of its range; **not run here** says "
             "why a point could not run on this machine.\n"
             % (ALPHA, MIN_RATIO, BOOT_RESAMPLES, ALPHA, round(POWER * 100), ALPHA, MIN_RATIO,
                round(BOUND_TOLERANCE * 100))]
    body, summaries, notrun = [], [], []
    for name in names:
        text, summary = scenario_section(out, name)
        body.append(text)
        summaries.append(summary)
        # H2C before libcurl 8: its libcurl lines ran in the libcurl 8 pass
        # only, which then has the scenario's verdicts
        l8 = libcurl8_section(out, name)
        if l8:
            body.append(l8[0])
            summaries.append(l8[1])
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
    h2 = h2_section(out, names)
    if h2:
        body.append(h2)
    lossy, loss_verdicts = loss_section(out, names)
    if lossy:
        body.append(lossy)
    summaries += loss_verdicts  # `report.py compare` holds them against another run's too
    pl = placement_section(out, names, load_scenario_points)
    if pl:
        body.append(pl)
    body.append(libcurl_section(out))
    write_text(os.path.join(out, "REPORT.md"), "\n".join(head + body))
    write_text(os.path.join(out, "verdicts.json"), json.dumps(summaries, indent=1) + "\n")
    return 0


LIBCURL8_DIR = "libcurl8"  # OUT/libcurl8/: bench.sh's pass with libcurl 8 loaded


def libcurl8_section(out, name):
    """(text, summary) of NAME's libcurl 8 pass as a scenario section of its
    own, when the main run could not run NAME's libcurl lines (the scenario's
    "libcurl_not_run": h2c before libcurl 8) and the pass has NAME; else None.
    Titled "NAME (libcurl V)"; its verdicts are the scenario's."""
    l8 = os.path.join(out, LIBCURL8_DIR)
    if (not os.path.isfile(os.path.join(l8, "scenarios.txt")) or name not in scenario_names(l8)
            or not os.path.isdir(os.path.join(l8, name))):
        return None
    s, pts, _ = load_scenario_points(os.path.join(out, name))
    why = s.get("libcurl_not_run")
    if s.get("_skipped") or not why or not any(p["not_run"] == why for p in pts):
        return None
    version = read_meta(l8).get("libcurl", "8")
    text, summary = scenario_section(out, name, LIBCURL8_DIR, "%s (libcurl %s)" % (name, version))
    head, _, rest = text.partition("\n\n")
    text = "%s\n\n%s's libcurl lines with libcurl %s loaded: the libcurl 8 pass of this run, `%s/%s/` (%s).\n\n%s" % (
        head, name, version, LIBCURL8_DIR, name, why, rest)
    return text, summary


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


# libcurl defects that move this benchmark's figures, by the versions that have
# them: (first, first fixed, what). A line run with such a libcurl measures the
# defect as well as the design; the libcurl section names it for each version
# the run loaded. Sources: curl's repository, docs/http2.md.
LIBCURL_DEFECTS = (
    ((7, 88, 0), (8, 1, 0), "can leave HTTP/2 frames it has read unparsed until the socket is readable "
     "again, up to the server's idle close (fixed in 8.1.0 by curl PR #10771); the loop hands idle "
     "HTTP/2 sockets back to libcurl so that no run waits 30 s: docs/http2.md, \"The 30 s stall\""),
    ((8, 14, 0), (8, 16, 0), "moves every pending transfer back to CONNECT each time a transfer ends "
     "(curl issue #18017, fixed in 8.16.0): a multi handle with thousands of transfers waiting for a "
     "connection works quadratically; the loop's HTTP/2 warm-up keeps its transfers from waiting "
     "there, where the server allows 100 streams a connection: docs/http2.md, \"libcurl 8.14–8.15\""),
)


def parse_version(v):
    """(major, minor, patch) of "8.14.1" (a "-DEV" or other tail ignored), or None."""
    parts = str(v).split("-", 1)[0].split(".")
    try:
        nums = [int(x) for x in parts[:3]]
    except ValueError:
        return None
    return tuple(nums + [0] * (3 - len(nums))) if nums else None


def libcurl_defects(version):
    """The LIBCURL_DEFECTS texts that apply to libcurl VERSION."""
    v = parse_version(version)
    if v is None:
        return []
    return [what for first, fixed, what in LIBCURL_DEFECTS if first <= v < fixed]


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
            "95%% bootstrap CI, and a claim needs Mann–Whitney p < %g, a ratio beyond %.2f "
            "either way and runs enough to claim it (as above). *ran with* is what each point loaded, from its own records (curl: "
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
    defects = []
    for v in dict.fromkeys((mo.get("libcurl", "?"), mn.get("libcurl", "?"))):
        defects += ["- libcurl %s %s." % (v, what) for what in libcurl_defects(v)]
    if defects:
        text += ["Known libcurl defects in the versions this run loaded, which their lines measure "
                 "along with the designs:", ""] + defects + [""]
    return "\n".join(text)
