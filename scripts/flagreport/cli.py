"""The command line: report.py's subcommands (see scripts/report.py) and
the small commands bench.sh calls between points."""

import argparse
import json
import math
import os
import sys

from .base import ROOT, ReportError, load_json, load_json_or_none, plural, write_text
from .lines import C_LINES
from .points import load_resolved, reduce_point
from .raw import load_new_point, read_meta_txt, write_dataset
from .placement import cpu_split_assignments
from .reportmd import cmd_report
from .scenarios import (curl_config, h2load_uris, libcurl8_scenarios, resolve, scenario_set, scenario_sets,
                         scenario_codes, settings_mismatch,
                        shell_assignments)
from .stats import ADAPT_TARGET, compare, roomless, runs_for_room
from .text import broken_text, read_wall


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
    """How many more runs the (threadpool, asyncloop) pair at m needs. A
    would-be claim whose run counts leave it no room (stats.has_room: 5 + 5
    runs) gets the fewest runs that give it room (1 for 5 + 5); an
    undecided pair whose detectable ratio is above ADAPT_TARGET gets
    adapt_step more. 0 when decided (a claim with room, or a detectable
    ratio already at or below ADAPT_TARGET: a difference of that size would
    have been seen), when max_runs would be passed, or when the scenario's
    adaptive budget (the extra batches' time) would be overrun."""
    s = load_resolved(rawdir)
    if s["max_runs"] <= s["runs"]:
        return 0
    pts = {}
    spent = 0.0
    for p in s["points"]:
        if p["not_run"]:
            continue
        raw = load_new_point(rawdir, p["line"], p["m"])
        for b in raw["batches"]:
            if b["extra"] and b["hyperfine"]:
                spent += sum(b["hyperfine"].get("times") or [])
        if p["m"] == m and p["line"] in C_LINES:
            pts[p["line"]] = reduce_point(s, raw)
    a, b = pts.get("threadpool"), pts.get("asyncloop")
    if not a or not b or not a["valid"] or not b["valid"]:
        return 0
    n = min(len(a["times"]), len(b["times"]))
    if n >= s["max_runs"]:
        return 0
    v = compare(a["times"], b["times"], "threadpool", "asyncloop", 2000)
    if v["winner"] or v["ratio"] is None:
        return 0
    if roomless(v):
        step = runs_for_room(len(a["times"]), len(b["times"]), s["max_runs"])
        if step is None:
            return 0
    elif v["detectable"] is not None and v["detectable"] <= ADAPT_TARGET:
        return 0
    else:
        step = min(s.get("adapt_step", 5), s["max_runs"] - n)
    est = (a["elapsed"]["median"] + b["elapsed"]["median"])
    if spent + est * step > s["adapt_budget_s"]:
        return 0
    return step


def cmd_point_line(rawdir, line, m):
    s = load_resolved(rawdir)
    p = reduce_point(s, load_new_point(rawdir, line, m))
    if p["valid"]:
        e = p["elapsed"]
        return "%s m=%d: median %.3f s (%.3f-%.3f, %s), peak in flight %s" % (
            line, m, e["median"], e["min"], e["max"], plural(p["runs"], "run"), p["peak_in_flight"])
    if p["not_run"]:
        return "%s m=%d: not run here: %s" % (line, m, p["not_run"])
    return "%s m=%d: INVALID: %s" % (line, m, broken_text(p))


def cmd_m_done(rawdir, m, lines):
    """bench.sh's one call when the runs at m are done (a Python start costs
    about 0.3 s here, and a sweep has hundreds of points): the progress line
    of each of LINES at m, then, as the last line, cmd_more_runs's answer."""
    return [cmd_point_line(rawdir, line, m) for line in lines] + [str(cmd_more_runs(rawdir, m))]


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


# What a point costs besides its timed runs, measured on the default run of
# e85bd29 (2 cores): wall time per scenario (its files' times) against the sum
# of its runs' times in points.json. One hyperfine batch (bench.sh runs at most
# BATCH_RUNS runs of a line per batch, then the next line's) costs about
# 0.2 s more: hyperfine's start, the server's /stats reset and read, the CPU
# records. A scenario costs about 3 s more (its server, the dataset's sizes);
# a networked one about 15 s (building the lab and measuring it).
BATCH_RUNS = 2
BATCH_OVERHEAD_S = 0.2
SCENARIO_SETUP_S = 3.0
NET_SETUP_S = 15.0


def run_times(folder):
    """{(line, m): (times of the timed runs, requests per run)} of a scenario's
    folder in a results folder: its points.json, or (the libcurl 8 pass keeps
    only raw/) each point's hyperfine exports raw/LINE-mM/hf-*.json."""
    out = {}
    for p in load_json_or_none(os.path.join(folder, "points.json")) or []:
        if p.get("times") and p.get("requests"):
            out[(p["line"], p["m"])] = (p["times"], p["requests"])
    if out:
        return out
    raw = os.path.join(folder, "raw")
    sc = load_json_or_none(os.path.join(raw, "scenario.json")) or {}
    try:
        entries = sorted(os.listdir(raw))
    except OSError:
        return out
    for e in entries:
        line, sep, m = e.rpartition("-m")
        if not sep or not m.isdigit() or not sc.get("requests"):
            continue
        times = []
        for f in sorted(os.listdir(os.path.join(raw, e))):
            if f.startswith("hf-") and f.endswith(".json"):
                for r in (load_json_or_none(os.path.join(raw, e, f)) or {}).get("results", []):
                    times += r.get("times") or []
        if times:
            out[(line, int(m))] = (times, sc["requests"])
    return out


def budget_rows(s, folder):
    """[(line, m, runs, warmup, s per run, est s, source)] of the resolved
    scenario S, the time of a run from the same (line, m) in FOLDER (the mean
    of its runs' times, scaled to S's requests per run; run_times), else
    guessed: ceil(N / m) x the delay + 0.2 s (C lines) or 500 requests/s
    (Python lines, measured here under load)."""
    means = {(k[0], k[1]): (sum(t) / len(t)) * s["requests"] / n for k, (t, n) in run_times(folder).items()}
    rows = []
    for p in s["points"]:
        if p["not_run"]:
            continue
        t = means.get((p["line"], p["m"]))
        source = "measured"
        if t is None:
            source = "guessed"
            t = math.ceil(s["requests"] / p["m"]) * s["delay_s"] + 0.2
            if p["line"].startswith("py-"):
                t = max(t, s["requests"] / 500) + 0.3
        batches = math.ceil(p["runs"] / BATCH_RUNS)
        est = t * (p["runs"] + p["warmup"]) + batches * BATCH_OVERHEAD_S
        rows.append((p["line"], p["m"], p["runs"], p["warmup"], t, est, source))
    return rows


def cmd_budget(results, quick, set_name="default", benchdir=None):
    """Estimated seconds of a run of the scenario set SET_NAME (the default
    run unless told), with the libcurl 8 pass a full run adds: per point,
    (runs + warmup) x the time of a run in RESULTS (budget_rows) + 0.2 s a
    batch; per scenario its set-up and, at most, its adaptive extra runs.
    Where RESULTS holds the time a scenario took (RAW/wall.txt), it is shown
    beside the estimate."""
    benchdir = benchdir or os.path.join(ROOT, "bench", "scenarios")
    names = [(n, False) for n in scenario_set(benchdir, set_name)]
    if not quick:
        names += [(n, True) for n in libcurl8_scenarios(benchdir) if (n, False) in names]
    print("| scenario | line | m | runs + warmup | s/run | est. s |")
    print("|---|---|---:|---:|---:|---:|")
    total = last_total = adapt_total = 0.0
    guessed = 0
    last_all = True
    l8_unrecorded = []
    seen_pairs = set()
    for name, l8 in names:
        s = resolve(os.path.join(benchdir, name + ".json"), quick=quick, libcurl8=l8,
                    python_root=os.path.join(ROOT, "peers", "python"))
        folder = os.path.join(results, "libcurl8", name) if l8 else os.path.join(results, name)
        label = name + (" (libcurl 8)" if l8 else "")
        sub = SCENARIO_SETUP_S + (NET_SETUP_S if s.get("net") else 0.0)
        for line, m, runs, warmup, t, est, source in budget_rows(s, folder):
            sub += est
            guessed += source == "guessed"
            print("| %s | %s | %d | %d + %d | %.2f%s | %.0f |" % (label, line, m, runs, warmup, t,
                                                               " (guessed)" if source == "guessed" else "", est))
        adapt = s["adapt_budget_s"] if s["max_runs"] > s["runs"] else 0
        sub += adapt
        adapt_total += adapt
        print("| %s | set-up%s, adaptive extra runs (at most) | | | | %.0f |" % (
            label, " and network lab" if s.get("net") else "",
            SCENARIO_SETUP_S + (NET_SETUP_S if s.get("net") else 0.0) + adapt))
        wall = read_wall(os.path.join(folder, "raw"))
        last = ""
        if wall is None and l8:
            l8_unrecorded.append(name)  # RESULTS has no pass of it: said below
        elif wall is None:
            last_all = False
        elif not (set(wall[1]) & seen_pairs):  # a pair's joint time counts once
            last_total += wall[0]
            seen_pairs.update(wall[1])
            last = "; last run %.0f s%s" % (wall[0], " (with %s)" % " and ".join(
                x for x in wall[1] if x != name) if wall[1] else "")
        print("| **%s** | | | | | **%.0f**%s |" % (label, sub, last))
        total += sub
    print("| **total** (+ ~30 s build and checks) | | | | | **%.0f s = %.1f min** |" % (total, total / 60))
    print("\nAt most %.1f min; %.1f min if no point needs adaptive extra runs." % (
        total / 60, (total - adapt_total) / 60))
    if last_all and names:
        print("\nThe run in %s took %.0f s = %.1f min for these scenarios (their wall.txt)%s." % (
            results, last_total, last_total / 60,
            "; it has no libcurl 8 pass of %s" % ", ".join(l8_unrecorded) if l8_unrecorded else ""))
    if guessed:
        print("\n%d point(s) have no time in %s and are guessed (marked)." % (guessed, results))
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
    r.add_argument("--libcurl-version")
    r.add_argument("--placement", choices=("shared", "split"))
    cs = sub.add_parser("cpu-split")
    cs.add_argument("allowed")
    l8 = sub.add_parser("libcurl8-scenarios")
    l8.add_argument("benchdir")
    st = sub.add_parser("scenario-set")
    st.add_argument("benchdir")
    st.add_argument("name", nargs="?")
    c = sub.add_parser("curl-config")
    c.add_argument("resolved")
    c.add_argument("base_url")
    c.add_argument("dir")
    hu = sub.add_parser("h2load-uris")
    hu.add_argument("resolved")
    hu.add_argument("base_url")
    k = sub.add_parser("check-server")
    k.add_argument("resolved")
    k.add_argument("stats")
    ds = sub.add_parser("dataset")
    ds.add_argument("dir")
    ds.add_argument("--out", required=True)
    mr = sub.add_parser("more-runs")
    mr.add_argument("rawdir")
    mr.add_argument("m", type=int)
    md = sub.add_parser("m-done")
    md.add_argument("rawdir")
    md.add_argument("m", type=int)
    md.add_argument("lines", nargs="*")
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
    bu.add_argument("--set", default="default")
    bu.add_argument("--bench", help="the scenarios' folder (default: bench/scenarios)")
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
                        a.libcurl8, a.libcurl_version, a.placement)
            write_text(a.out, json.dumps(s, indent=1) + "\n")
            sys.stdout.write(shell_assignments(s))
            return 0
        if a.cmd == "cpu-split":  # bench.sh: the split of the CPUs it may use
            sys.stdout.write(cpu_split_assignments(a.allowed))
            return 0
        if a.cmd == "libcurl8-scenarios":
            print("\n".join(libcurl8_scenarios(a.benchdir)))
            return 0
        if a.cmd == "scenario-set":
            if a.name is None:  # every set with its scenarios, for --help and docs
                for k, v in sorted(scenario_sets(a.benchdir).items()):
                    print("%s: %s" % (k, " ".join(v)))
            else:
                print("\n".join(scenario_set(a.benchdir, a.name)))
            return 0
        if a.cmd == "curl-config":
            sys.stdout.write(curl_config(load_json(a.resolved), a.base_url, a.dir))
            return 0
        if a.cmd == "h2load-uris":
            sys.stdout.write(h2load_uris(load_json(a.resolved), a.base_url))
            return 0
        if a.cmd == "check-server":
            return cmd_check_server(a.resolved, a.stats)
        if a.cmd == "dataset":
            write_text(a.out, json.dumps(write_dataset(a.dir, scenario_codes("a")), indent=1) + "\n")
            return 0
        if a.cmd == "more-runs":
            print(cmd_more_runs(a.rawdir, a.m))
            return 0
        if a.cmd == "m-done":
            print("\n".join(cmd_m_done(a.rawdir, a.m, a.lines)))
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
            return cmd_budget(a.results, a.quick, a.set, a.bench)
    except ReportError as e:
        print("report.py: %s" % e, file=sys.stderr)
        return 1
    return 2
