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
from .text import broken_text


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


def cmd_budget(results, quick, set_name="default"):
    """Estimated seconds of a run of the scenario set SET_NAME (the default run
    unless told): each point's runs × the mean run
    time of the same (line, m) in RESULTS/NAME/raw.json (old or new), plus the
    adaptive budget; python lines from an assumed 500 requests/s."""
    print("| scenario | line | m | runs + warmup | est. s/run | est. s |")
    print("|---|---|---:|---:|---:|---:|")
    total = 0.0
    for name in scenario_set(os.path.join(ROOT, "bench", "scenarios"), set_name):
        s = resolve(os.path.join(ROOT, "bench", "scenarios", name + ".json"), quick=quick, python_root=os.path.join(ROOT, "peers", "python"))
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
            return cmd_budget(a.results, a.quick, a.set)
    except ReportError as e:
        print("report.py: %s" % e, file=sys.stderr)
        return 1
    return 2
