"""Reading the raw files of a point (facts.txt, hf-K.json, stats-K.json,
records.jsonl, latencies.txt[.gz]) and of a run (meta, scenarios.txt).
A file that is damaged (not the shape bench.sh writes) raises ReportError
naming it; a number out of its range is left to validity.py."""

import gzip
import json
import os

from .base import ReportError, load_json_or_none


def read_facts(path):
    facts = {"batches": [], "probe_rc": None, "command": ""}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return facts
    for line in lines:
        key, _, rest = line.partition(" ")
        if key == "batch":
            w = rest.split()
            kv = dict(zip(w[1::2], w[2::2]))
            facts["batches"].append({
                "batch": int(w[0]), "rc": int(kv.get("rc", "0")),
                "timed_out": kv.get("timed_out") == "1",
                "runs": int(kv.get("runs", "0")), "warmup": int(kv.get("warmup", "0")),
            })
        elif key == "probe_rc":
            facts["probe_rc"] = int(rest)
        elif key == "command":
            facts["command"] = rest
    return facts


def read_records(path):
    recs = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        recs.append(json.loads(line))
                    except json.JSONDecodeError:
                        recs.append(None)
    except OSError:
        pass
    return recs


def read_latencies(pdir):
    """The --latencies lines of a point as floats (None when no file)."""
    for name, opener in (("latencies.txt.gz", gzip.open), ("latencies.txt", open)):
        path = os.path.join(pdir, name)
        if os.path.exists(path):
            with opener(path, "rt", encoding="ascii") as f:
                return [float(x) for x in f.read().split()]
    return None


def load_new_point(rawdir, line, m):
    """One point of the new raw layout as a dict of raw facts."""
    pdir = os.path.join(rawdir, "%s-m%d" % (line, m))
    facts = read_facts(os.path.join(pdir, "facts.txt"))
    batches = []
    for b in facts["batches"]:
        k = b["batch"]
        hf = load_json_or_none(os.path.join(pdir, "hf-%d.json" % k))
        res = (hf or {}).get("results") or [None]
        b = dict(b, hyperfine=res[0], stats=load_json_or_none(os.path.join(pdir, "stats-%d.json" % k)))
        batches.append(b)
    probe_err = ""
    try:
        with open(os.path.join(pdir, "probe.err"), encoding="utf-8", errors="replace") as f:
            probe_err = f.readline().strip()
    except OSError:
        pass
    return {
        "line": line, "m": m, "dir": pdir, "batches": batches, "command": facts["command"],
        "probe_rc": facts["probe_rc"], "probe_err": probe_err,
        "records": read_records(os.path.join(pdir, "records.jsonl")),
        "latencies": read_latencies(pdir),
        "ran": os.path.isdir(pdir),
    }


def load_old_points(old_raw, s):
    """Points of the jq pipeline's raw.json in the new shape."""
    pts = []
    for p in old_raw:
        hf = p.get("hyperfine")
        st = p.get("stats")
        batch = {"batch": 1, "rc": p.get("hyperfine_rc") if p.get("hyperfine_rc") is not None else 0,
                 "timed_out": bool(p.get("timed_out")), "runs": s["runs"], "warmup": s["warmup"],
                 "hyperfine": hf, "stats": st}
        pts.append({
            "line": p["backend"], "m": p["m"], "dir": None,
            "batches": [batch] if p.get("server_started", True) else [],
            "command": p.get("command", ""), "probe_rc": p.get("client_rc"),
            "probe_err": p.get("client_err") or "", "records": p.get("records") or [],
            "latencies": None, "ran": p.get("server_started", True), "old": True,
        })
    return pts


def read_meta(out):
    meta = load_json_or_none(os.path.join(out, "meta.json"))
    if meta is None:
        meta = read_meta_txt(os.path.join(out, "meta.txt"))
    return meta or {}


def read_meta_txt(path):
    kv = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                k, _, v = line.rstrip("\n").partition("=")
                if k:
                    kv[k] = v
    except OSError:
        return None
    for k in ("cores",):
        if k in kv and kv[k].isdigit():
            kv[k] = int(kv[k])
    for k in ("quick", "external_server"):
        if k in kv:
            kv[k] = kv[k] == "1"
    return kv


def scenario_names(out):
    try:
        with open(os.path.join(out, "scenarios.txt"), encoding="utf-8") as fh:
            return [w.strip() for w in fh if w.strip()]
    except OSError:
        raise ReportError("%s holds no bench.sh data (no scenarios.txt)" % out)
