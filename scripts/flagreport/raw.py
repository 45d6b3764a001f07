"""Reading the raw files of a point (facts.txt, hf-K.json, stats-K.json,
records.jsonl, latencies.txt[.gz]) and of a run (meta, scenarios.txt).
A file that is damaged (not the shape bench.sh writes) raises ReportError
naming it; a number out of its range is left to validity.py."""

import gzip
import json
import os
import zlib

from .base import ReportError, load_json, load_json_or_none
from .placement import read_cpu_records


def _int_word(path, n, word):
    try:
        return int(word)
    except ValueError:
        raise ReportError("%s line %d is malformed: %r is not an integer" % (path, n, word))


def read_facts(path):
    """facts.txt of a point: "batch K rc R timed_out 0|1 runs N warmup W
    extra 0|1" per batch (extra: an adaptive extra batch; a facts.txt
    without the key is from before interleaving, when every batch after the
    first was one), "probe_rc N", "command CMD". A missing file is no batches; a
    malformed line raises ReportError naming the file and the line. Keys
    this program does not know are left alone (a newer bench.sh may add
    some)."""
    facts = {"batches": [], "probe_rc": None, "command": ""}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return facts
    except UnicodeDecodeError:
        raise ReportError("%s is not UTF-8 text" % path)
    for n, line in enumerate(lines, 1):
        key, _, rest = line.partition(" ")
        if key == "batch":
            w = rest.split()
            if len(w) % 2 != 1:
                raise ReportError("%s line %d is malformed: want \"batch K key value ...\"" % (path, n))
            kv = dict(zip(w[1::2], w[2::2]))
            b = {"batch": _int_word(path, n, w[0]), "rc": _int_word(path, n, kv.get("rc", "0")),
                 "timed_out": kv.get("timed_out", "0"),
                 "runs": _int_word(path, n, kv.get("runs", "0")),
                 "warmup": _int_word(path, n, kv.get("warmup", "0"))}
            if b["timed_out"] not in ("0", "1"):
                raise ReportError("%s line %d is malformed: timed_out must be 0 or 1" % (path, n))
            b["timed_out"] = b["timed_out"] == "1"
            extra = kv.get("extra", "1" if b["batch"] > 1 else "0")
            if extra not in ("0", "1"):
                raise ReportError("%s line %d is malformed: extra must be 0 or 1" % (path, n))
            b["extra"] = extra == "1"
            if b["batch"] < 1 or b["runs"] < 0 or b["warmup"] < 0 or not 0 <= b["rc"] <= 255:
                raise ReportError("%s line %d is malformed: a batch number, runs, warmup or "
                                  "exit status out of range" % (path, n))
            if any(x["batch"] == b["batch"] for x in facts["batches"]):
                raise ReportError("%s line %d: batch %d twice" % (path, n, b["batch"]))
            facts["batches"].append(b)
        elif key == "probe_rc":
            facts["probe_rc"] = _int_word(path, n, rest.strip())
        elif key == "command":
            facts["command"] = rest
    return facts


def read_records(path):
    """The --json records of a point, one per line: a dict, or None for a
    line that is not JSON (a rule of validity.py says so)."""
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
    except UnicodeDecodeError:
        raise ReportError("%s is not UTF-8 text" % path)
    return recs


def read_latencies(pdir):
    """(the --latencies lines of a point as floats, the file's path), or
    (None, None) when there is no file. A file that does not read (a
    truncated gzip, a word that is not a number) raises ReportError."""
    for name, opener in (("latencies.txt.gz", gzip.open), ("latencies.txt", open)):
        path = os.path.join(pdir, name)
        if os.path.exists(path):
            try:
                with opener(path, "rt", encoding="ascii") as f:
                    words = f.read().split()
            except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
                raise ReportError("%s does not read: %s" % (path, str(e) or type(e).__name__))
            try:
                return [float(x) for x in words], path
            except ValueError as e:
                raise ReportError("%s is malformed: %s" % (path, e))
    return None, None


def load_stats(path):
    """flagserver's /stats as bench.sh saved it: a dict, or None when the
    file is missing or empty or not JSON (no /stats was read: a rule says
    so). JSON that is not an object raises ReportError."""
    st = load_json_or_none(path)
    if st is not None and not isinstance(st, dict):
        raise ReportError("%s is not flagserver's /stats: a JSON %s, not an object"
                          % (path, type(st).__name__))
    return st


def load_hyperfine(path):
    """The first result of hyperfine --export-json, or None when the file is
    missing or not JSON (hyperfine stopped: a rule says so). JSON of another
    shape raises ReportError."""
    hf = load_json_or_none(path)
    if hf is None:
        return None
    res = hf.get("results") if isinstance(hf, dict) else None
    if not isinstance(res, list) or (res and not isinstance(res[0], dict)):
        raise ReportError("%s is not hyperfine's --export-json (no list of results)" % path)
    return res[0] if res else None


def read_dataset(path):
    """{CODE: size} of the dataset manifest bench.sh writes (report.py
    dataset), or None when there is none. A damaged one raises ReportError."""
    if not os.path.exists(path):
        return None
    d = load_json(path)
    sizes = d.get("sizes") if isinstance(d, dict) else None
    if not isinstance(sizes, dict) or not sizes or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v > 0
            for k, v in sizes.items()):
        raise ReportError("%s is not a dataset manifest ({\"sizes\": {CODE: bytes > 0}})" % path)
    return sizes


def write_dataset(dsdir, codes):
    """The manifest of the dataset in DSDIR (DSDIR/flags/cc/cc.gif) for
    CODES: {"dir": DSDIR, "sizes": {CODE: bytes}} of the files present."""
    sizes = {}
    for cc in codes:
        path = os.path.join(dsdir, "flags", cc.lower(), cc.lower() + ".gif")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise ReportError("cannot stat %s: %s" % (path, e.strerror))
        if st.st_size > 0:
            sizes[cc] = st.st_size
    if not sizes:
        raise ReportError("%s holds no flags (flags/cc/cc.gif)" % dsdir)
    return {"dir": os.path.abspath(dsdir), "sizes": sizes}


def load_new_point(rawdir, line, m):
    """One point of the new raw layout as a dict of raw facts."""
    pdir = os.path.join(rawdir, "%s-m%d" % (line, m))
    facts = read_facts(os.path.join(pdir, "facts.txt"))
    batches = []
    for b in facts["batches"]:
        k = b["batch"]
        b = dict(b, hyperfine=load_hyperfine(os.path.join(pdir, "hf-%d.json" % k)),
                 stats=load_stats(os.path.join(pdir, "stats-%d.json" % k)))
        batches.append(b)
    probe_err = ""
    try:
        with open(os.path.join(pdir, "probe.err"), encoding="utf-8", errors="replace") as f:
            probe_err = f.readline().strip()
    except OSError:
        pass
    lat, lat_path = read_latencies(pdir)
    server_cpus, client_cpus = read_cpu_records(pdir)
    return {
        "line": line, "m": m, "dir": pdir, "batches": batches, "command": facts["command"],
        "probe_rc": facts["probe_rc"], "probe_err": probe_err,
        "records": read_records(os.path.join(pdir, "records.jsonl")),
        "latencies": lat, "latencies_file": os.path.basename(lat_path or "latencies.txt"),
        "ran": os.path.isdir(pdir), "server_cpus": server_cpus, "client_cpus": client_cpus,
    }


def load_old_points(old_raw, s):
    """Points of the jq pipeline's raw.json in the new shape."""
    pts = []
    if not isinstance(old_raw, list):
        raise ReportError("raw.json is not a list of points")
    for i, p in enumerate(old_raw):
        if not isinstance(p, dict) or not isinstance(p.get("backend"), str) or \
                not isinstance(p.get("m"), int):
            raise ReportError("raw.json point %d is not an object with backend and m" % (i + 1))
        hf = p.get("hyperfine")
        st = p.get("stats")
        if not isinstance(hf, (dict, type(None))) or not isinstance(st, (dict, type(None))) or \
                not isinstance(p.get("records") or [], list):
            raise ReportError("raw.json point %d: hyperfine, stats or records of the wrong type" % (i + 1))
        batch = {"batch": 1, "extra": False, "rc": p.get("hyperfine_rc") if p.get("hyperfine_rc") is not None else 0,
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
    if meta is not None and not isinstance(meta, dict):
        raise ReportError("%s is not a JSON object" % os.path.join(out, "meta.json"))
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
