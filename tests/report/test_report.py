#!/usr/bin/env python3
"""Fixture tests of scripts/report.py: every INVALID rule, "not run here",
the significance rule, the crossover, pooled percentiles, /stats without
settings, the adaptive rule, old-format results and rerun comparison.

Each test builds a small raw tree (scripts/report.py's raw layout) from the
hand-chosen numbers below, changes one thing, and checks what the report
program concludes. Run: python3 tests/report/test_report.py -v
"""
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
from flagreport import api as report  # noqa: E402

# Two m, runs 5 + warmup 1, 10 requests per run, 100 ms delay.
# threadpool is clearly faster at m = 2, asyncloop clearly faster at m = 4.
TIMES = {
    ("threadpool", 2): [1.000, 1.010, 1.020, 1.005, 1.015],
    ("asyncloop", 2): [1.200, 1.210, 1.220, 1.205, 1.230],
    ("curl", 2): [1.100, 1.110, 1.120, 1.105, 1.115],
    ("threadpool", 4): [0.700, 0.710, 0.720, 0.705, 0.730],
    ("asyncloop", 4): [0.500, 0.510, 0.520, 0.505, 0.515],
    ("curl", 4): [0.600, 0.610, 0.605, 0.620, 0.615],
}
# The same with 6 runs a line: 5 + 5 runs leave a claim no room (a complete
# separation is the only ordering that reaches p < 0.01), 6 + 6 do.
TIMES6 = {
    ("threadpool", 2): TIMES[("threadpool", 2)] + [1.008],
    ("asyncloop", 2): TIMES[("asyncloop", 2)] + [1.215],
    ("curl", 2): TIMES[("curl", 2)] + [1.108],
    ("threadpool", 4): TIMES[("threadpool", 4)] + [0.715],
    ("asyncloop", 4): TIMES[("asyncloop", 4)] + [0.512],
    ("curl", 4): TIMES[("curl", 4)] + [0.612],
}
SETTINGS = {"bind": "127.0.0.1", "port": 8001, "delay_ms": {"min": 100, "max": 100},
            "error_rate": 0, "error_kind": "status", "seed": 42, "preset": "DELAY"}


def scenario():
    return {
        "name": "FIX", "desc": "a fixture", "codeset": "a", "repeat": 1, "ncodes": 10,
        "requests": 10, "expect_ok": 7, "expect_not_found": 3, "timeout_s": 30, "point_limit_s": 300, "ok_exits": [0],
        "concur": [2, 4], "runs": 5, "warmup": 1, "max_runs": 10, "adapt_step": 5,
        "adapt_budget_s": 100, "delay_s": 0.1, "quick": False, "latency_m": 4,
        "server": {"delay_ms": {"min": 100, "max": 100}, "error_rate": 0,
                   "error_kind": "status", "seed": None},
        "server_args": ["--delay", "100"], "python": {},
        "plots": ["elapsed", "latency"],
        "points": [{"line": l, "m": m, "runs": 5, "warmup": 1, "not_run": None}
                   for m in (2, 4) for l in ("threadpool", "asyncloop", "curl")],
    }


def record(m, ok=7, nf=3, err=0, requests=10):
    return {"backend": "x", "concur_req": m, "requests": requests, "ok": ok, "not_found": nf,
            "errors": err, "cancelled": 0, "elapsed_s": 1.0, "bytes": 100, "flags_per_s": 7,
            "latency_ms": {"p50": 1, "p90": 1, "p99": 1, "max": 1}, "cpu_user_s": 0.01,
            "cpu_sys_s": 0.02, "max_rss_kb": 2048, "connections": m}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_out(tmp, mutate=None, stats_settings=True, times=None):
    """OUT/ with scenario FIX; mutate(pdir_of, raw) may change files after.
    TIMES (default: TIMES) are the timed runs of each point, one batch of
    them after one warmup run."""
    times_of = times or TIMES
    out = os.path.join(tmp, "out")
    raw = os.path.join(out, "FIX", "raw")
    s = scenario()
    for pt in s["points"]:
        pt["runs"] = len(times_of[(pt["line"], pt["m"])])
    write(os.path.join(out, "scenarios.txt"), "FIX\n")
    write(os.path.join(out, "meta.txt"), "cpu=Fixture CPU\ncores=2\nlibcurl=7.88.1\ncommit=abc\n"
          "save_fs=tmpfs\nquick=0\n")
    write(os.path.join(raw, "scenario.json"), json.dumps(s))
    write(os.path.join(raw, "server.txt"), "started 1\nurl http://127.0.0.1:1/flags\nexternal 0\n")
    stats0 = {"requests": 0, "peak_in_flight": 0}
    if stats_settings:
        stats0["settings"] = SETTINGS
    write(os.path.join(raw, "server-stats.json"), json.dumps(stats0))
    for (line, m), times in times_of.items():
        pdir = os.path.join(raw, "%s-m%d" % (line, m))
        n = len(times)
        write(os.path.join(pdir, "facts.txt"), "command x\nbatch 1 rc 0 timed_out 0 runs %d warmup 1\n" % n)
        write(os.path.join(pdir, "hf-1.json"), json.dumps({"results": [{
            "times": times, "exit_codes": [0] * n, "user": 0.01, "system": 0.02}]}))
        st = {"requests": 10 * (n + 1), "peak_in_flight": m, "by_status": {"200": 7 * (n + 1), "404": 3 * (n + 1)}}
        if stats_settings:
            st["settings"] = SETTINGS
        write(os.path.join(pdir, "stats-1.json"), json.dumps(st))
        if line != "curl":
            # the warmup run uses no CPU; the timed runs 0.01 .. 0.05 s user
            recs = [dict(record(m), cpu_user_s=0.01 * i) for i in range(n + 1)]
            write(os.path.join(pdir, "records.jsonl"), "".join(json.dumps(r) + "\n" for r in recs))
            # warmup run: 1000 ms each; timed runs: 1..10 ms (+ m / 10)
            lat = ["1000.000"] * 10 + ["%.3f" % (i + m / 10) for _ in range(n) for i in range(1, 11)]
            write(os.path.join(pdir, "latencies.txt"), "\n".join(lat) + "\n")
    if mutate:
        mutate(lambda line, m: os.path.join(raw, "%s-m%d" % (line, m)), raw)
    return out


def points(out):
    s, pts, notes = report.load_scenario_points(os.path.join(out, "FIX"))
    return {(p["line"], p["m"]): p for p in pts}, notes


def edit_json(path, fn):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    fn(d)
    write(path, json.dumps(d))


def quiet(fn, *a):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = fn(*a)
    return rc, buf.getvalue()


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="report-test.")

    def tearDown(self):
        shutil.rmtree(self.tmp)


class Statistics(Base):
    def test_mann_whitney_exact_separated(self):
        _, p, method = report.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        self.assertEqual(method, "exact")
        self.assertAlmostEqual(p, 2 / 252, places=6)

    def test_mann_whitney_exact_symmetric_overlap(self):
        _, p, _ = report.mann_whitney([1, 3, 5, 7, 9], [2, 4, 6, 8, 10])
        self.assertGreater(p, 0.5)

    def test_mann_whitney_normal_with_ties(self):
        # by hand: U = 0.5, var = 9/12 * (7 - 18/30) = 4.8, z = 3.5 / sqrt(4.8)
        _, p, method = report.mann_whitney([1, 1, 2], [2, 3, 3])
        self.assertEqual(method, "normal")
        self.assertAlmostEqual(p, 0.11014, places=4)

    def test_pooled_percentile_interpolates(self):
        self.assertAlmostEqual(report.percentile([1, 2, 3, 4], 0.5), 2.5)
        self.assertAlmostEqual(report.percentile(list(range(1, 101)), 0.99), 99.01)

    def test_clear_difference_is_faster(self):
        v = report.compare(TIMES6[("threadpool", 4)], TIMES6[("asyncloop", 4)], "threadpool", "asyncloop")
        self.assertEqual(v["winner"], "asyncloop")
        self.assertLess(v["p"], 0.01)
        self.assertEqual(v["method"], "exact")
        self.assertAlmostEqual(v["p"], 2 / 924, places=6)
        self.assertAlmostEqual(v["ratio"], 0.7125 / 0.511, places=6)
        self.assertLessEqual(v["ci"][0], v["ratio"])
        self.assertGreaterEqual(v["ci"][1], v["ratio"])
        self.assertIn("asyncloop faster by 1.39×", report.claim_text(v))

    def test_overlap_is_no_significant_difference(self):
        a = [1.00, 1.30, 1.05, 1.25, 1.10]
        b = [1.02, 1.28, 1.08, 1.22, 1.12]
        v = report.compare(a, b, "threadpool", "asyncloop")
        self.assertIsNone(v["winner"])
        self.assertEqual(v["claim"], "no significant difference")
        self.assertIn("p = ", v["why"])

    def test_significant_but_small_ratio_makes_no_claim(self):
        a = [1.00, 1.001, 1.002, 1.003, 1.004]
        b = [1.02, 1.021, 1.022, 1.023, 1.024]  # 2% slower, fully separated
        v = report.compare(a, b, "threadpool", "asyncloop")
        self.assertLess(v["p"], 0.01)
        self.assertIsNone(v["winner"])
        self.assertIn("below 1.05", v["why"])

    def test_ties_use_the_normal_approximation(self):
        # fully separated but with a tie inside a group: 5 + 5 runs cannot
        # reach p < 0.01 with the normal approximation (p = 0.0114)
        v = report.compare([1.0, 1.0, 1.01, 1.02, 1.03], [1.2, 1.21, 1.22, 1.23, 1.24], "a", "b")
        self.assertEqual(v["method"], "normal")
        self.assertIsNone(v["winner"])

    def test_5_plus_5_complete_separation_is_no_claim_but_more_runs_needed(self):
        # every run of asyncloop faster than every run of threadpool: p =
        # 2 / 252 = 0.0079 < 0.01, the one ordering of 5 + 5 that gets there
        v = report.compare(TIMES[("threadpool", 4)], TIMES[("asyncloop", 4)], "threadpool", "asyncloop")
        self.assertAlmostEqual(v["p"], 2 / 252, places=6)
        self.assertIsNone(v["winner"])
        self.assertEqual(v["claim"], "significant on only 5 + 5 runs (the smallest p they can give is "
                                     "0.0079): more runs needed, no claim")
        text = report.claim_text(v)
        self.assertTrue(text.startswith(v["claim"] + " (asyncloop's median lower by 1.39×, 95% CI "), text)
        self.assertNotIn("no significant difference", text)
        self.assertNotIn("faster", text)
        x = report.crossover([dict(v, m=4)])
        self.assertEqual((x["wins"], x["none"], x["no_room"]), ({}, [], [4]))
        self.assertEqual(report.undetected_sentence(scenario(), [dict(v, m=4)]), "")

    def test_6_plus_6_complete_separation_is_a_claim(self):
        v = report.compare(TIMES6[("threadpool", 2)], TIMES6[("asyncloop", 2)], "threadpool", "asyncloop")
        self.assertEqual(v["winner"], "threadpool")
        self.assertAlmostEqual(v["p"], 2 / 924, places=6)
        self.assertTrue(report.claim_text(v).startswith("threadpool faster by 1.20× ("))
        # and with two pairs of runs out of order (U = 2): p = 8 / 924 = 0.0087
        a = [1.000, 1.010, 1.020, 1.005, 1.015, 1.207]
        b = [1.200, 1.210, 1.220, 1.205, 1.230, 1.250]
        v = report.compare(a, b, "threadpool", "asyncloop")
        self.assertAlmostEqual(v["p"], 8 / 924, places=6)
        self.assertEqual(v["winner"], "threadpool")

    def test_room_needs_two_runs_out_of_order_to_stay_below_alpha(self):
        room = {(n1, n2): report.has_room(n1, n2)
                for n1, n2 in ((5, 5), (5, 6), (5, 7), (4, 9), (6, 6), (5, 8), (4, 10), (10, 10), (3, 20))}
        self.assertEqual(room, {(5, 5): False, (5, 6): False, (5, 7): False, (4, 9): False, (6, 6): True,
                                (5, 8): True, (4, 10): True, (10, 10): True, (3, 20): True})
        self.assertAlmostEqual(report.room_p(6, 6), 8 / 924)
        self.assertAlmostEqual(report.room_p(5, 5), 8 / 252)
        # where the rule sits: the smallest p at most ALPHA / 4 in these cases
        for (n1, n2), r in room.items():
            self.assertEqual(r, report.min_p(n1, n2) <= report.ALPHA / 4, (n1, n2))
        self.assertEqual(report.runs_for_room(5, 5, 10), 1)
        self.assertEqual(report.runs_for_room(3, 3, 10), 3)
        self.assertIsNone(report.runs_for_room(5, 5, 5))
        self.assertEqual(report.runs_for_room(6, 6, 6), 0)

    def test_version_compare_follows_the_same_rule(self):
        old = TIMES[("asyncloop", 4)]
        v5 = report.version_compare([2 * t for t in old], old, resamples=200)
        self.assertEqual(v5["claim"], "significant on only 5 + 5 runs (the smallest p they can give is "
                                      "0.0079): more runs needed, no claim")
        old6 = TIMES6[("asyncloop", 4)]
        self.assertEqual(report.version_compare([2 * t for t in old6], old6, resamples=200)["claim"], "8.x slower")
        self.assertEqual(report.version_compare(old6, [2 * t for t in old6], resamples=200)["claim"], "8.x faster")

    def test_too_few_runs_make_no_claim(self):
        v = report.compare([1.0], [2.0], "threadpool", "asyncloop")
        self.assertIsNone(v["winner"])

    def test_bootstrap_is_reproducible(self):
        a, b = TIMES[("threadpool", 2)], TIMES[("asyncloop", 2)]
        self.assertEqual(report.bootstrap_ratio_ci(b, a), report.bootstrap_ratio_ci(b, a))

    def test_crossover(self):
        vs = [{"m": 1, "winner": "threadpool"}, {"m": 2, "winner": None},
              {"m": 5, "winner": "threadpool"}, {"m": 10, "winner": None},
              {"m": 20, "winner": "asyncloop"}, {"m": 50, "winner": "asyncloop"}]
        x = report.crossover(vs)
        self.assertEqual(x["wins"], {"threadpool": [1, 5], "asyncloop": [20, 50]})
        self.assertEqual(x["none"], [2, 10])
        self.assertEqual(x["crossovers"], [{"from_m": 5, "to_m": 20, "below": "threadpool",
                                            "above": "asyncloop"}])

    def test_no_crossover_when_one_design_wins(self):
        x = report.crossover([{"m": 1, "winner": "asyncloop"}, {"m": 2, "winner": "asyncloop"}])
        self.assertEqual(x["crossovers"], [])


class DetectableEffect(Base):
    """The smallest ratio a "no significant difference" could have detected
    (stats.detectable_ratio, issue 24), against samples of known spread."""

    @staticmethod
    def lognormal(n, sigma, scale, seed):
        import random
        rng = random.Random(seed)
        return [scale * rng.lognormvariate(0, sigma) for _ in range(n)]

    def test_from_the_interval_by_hand(self):
        # a 95% CI of 1/1.1 .. 1.1: se = ln 1.1 / 1.96; (2.5758 + 0.8416) se
        r = report.detectable_ratio([1 / 1.1, 1.1])
        self.assertAlmostEqual(r, 1.1 ** ((2.5758 + 0.8416) / 1.96), places=3)
        self.assertAlmostEqual(r, 1.181, places=3)

    def test_never_below_the_claim_threshold(self):
        self.assertEqual(report.detectable_ratio([1.0, 1.0]), report.MIN_RATIO)
        self.assertEqual(report.detectable_ratio([0.999, 1.001]), report.MIN_RATIO)
        self.assertIsNone(report.detectable_ratio(None))

    def test_matches_the_spread_of_a_known_distribution(self):
        # log-normal, sigma 0.2, 200 runs a side: the median's standard error
        # is sqrt(pi / 2) sigma / sqrt(n), so log(ratio)'s is that times
        # sqrt(2): 0.0251, and the detectable ratio exp(3.417 * 0.0251) = 1.089
        a = self.lognormal(200, 0.2, 1.0, 1)
        b = self.lognormal(200, 0.2, 1.0, 2)
        v = report.compare(a, b, "a", "b", resamples=2000)
        self.assertIsNone(v["winner"])
        self.assertAlmostEqual(v["detectable"], 1.089, delta=0.02)

    def test_more_runs_or_less_spread_detect_less(self):
        wide = report.compare(self.lognormal(10, 0.3, 1, 3), self.lognormal(10, 0.3, 1, 4), "a", "b", 2000)
        narrow = report.compare(self.lognormal(10, 0.05, 1, 3), self.lognormal(10, 0.05, 1, 4), "a", "b", 2000)
        many = report.compare(self.lognormal(40, 0.3, 1, 3), self.lognormal(40, 0.3, 1, 4), "a", "b", 2000)
        self.assertGreater(wide["detectable"], narrow["detectable"])
        self.assertGreater(wide["detectable"], many["detectable"])

    def test_a_true_difference_of_that_size_is_claimed_most_times(self):
        # at the ratio the baseline says it could detect (with 80% power),
        # the claim rule (Mann-Whitney p < 0.01 and ratio >= 1.05) must find
        # the difference in most of 40 fresh samples; with no difference, in
        # almost none
        n, sigma = 20, 0.1
        base = report.compare(self.lognormal(n, sigma, 1, 5), self.lognormal(n, sigma, 1, 6), "a", "b", 2000)
        d = base["detectable"]
        self.assertGreater(d, 1.08)
        found = same = 0
        for k in range(40):
            a = self.lognormal(n, sigma, 1, 100 + k)
            b = self.lognormal(n, sigma, d, 200 + k)
            found += report.compare(a, b, "a", "b", 200)["winner"] == "a"
            c = self.lognormal(n, sigma, 1, 300 + k)
            same += report.compare(a, c, "a", "b", 200)["winner"] is not None
        self.assertGreaterEqual(found, 26)  # 80% expected; 65% allows for sampling
        self.assertLessEqual(same, 2)

    def test_wording(self):
        v = report.compare([1.00, 1.30, 1.05, 1.25, 1.10], [1.02, 1.28, 1.08, 1.22, 1.12], "a", "b")
        self.assertEqual(v["claim"], "no significant difference")
        self.assertRegex(report.claim_text(v), r"^no significant difference \(could detect ≥ \d\.\d\d×; ")
        # a claim and an untested pair say nothing of it
        w = report.compare(TIMES[("threadpool", 4)], TIMES[("asyncloop", 4)], "threadpool", "asyncloop")
        self.assertNotIn("could detect", report.claim_text(w))
        few = report.compare([1.0, 1.1], [1.2, 1.3], "a", "b")
        self.assertIsNone(few["detectable"])
        self.assertNotIn("could detect", report.claim_text(few))


class Variants(Base):
    """The loop variants (issue 11): lines of their own where a scenario lists
    them, and the best design named per m range."""

    def scen(self, **extra):
        path = os.path.join(self.tmp, "V.json")
        d = {"desc": "d", "server": {"delay_ms": {"min": 0, "max": 0}, "error_rate": 0},
             "codeset": "a", "repeat": 1, "timeout_s": 30, "point_limit_s": 60, "concur": [10, 100],
             "runs": 3, "warmup": 0}
        d.update(extra)
        write(path, json.dumps(d))
        return path

    def test_variants_get_lines_and_options(self):
        s = report.resolve(self.scen(variants=["asyncloop+save1", "asyncloop-x2"]), python_root=self.tmp)
        lines = [p["line"] for p in s["points"] if p["m"] == 10]
        self.assertEqual(lines, ["threadpool", "asyncloop", "asyncloop+save1", "asyncloop-x2", "curl"])
        sh = report.shell_assignments(s)
        self.assertIn("'asyncloop-x2 100 3 0'", sh)
        self.assertIn("[asyncloop-x2]='--loops 2'", sh)
        self.assertIn("[asyncloop+save1]='--save-threads 1'", sh)

    def test_variant_concur_limits_a_variant_to_its_m(self):
        s = report.resolve(self.scen(variants=["asyncloop-x2", "asyncloop-multi16"],
                                     variant_concur={"asyncloop-multi16": [100]}),
                           python_root=self.tmp)
        ms = lambda line: [p["m"] for p in s["points"] if p["line"] == line]
        self.assertEqual(ms("asyncloop-multi16"), [100])
        self.assertEqual(ms("asyncloop-x2"), [10, 100])
        self.assertIn("[asyncloop-multi16]='--multis 16'", report.shell_assignments(s))

    def test_no_variants_unless_listed(self):
        s = report.resolve(self.scen(), python_root=self.tmp)
        self.assertFalse([p for p in s["points"] if p["line"] in report.VAR_LINES])

    def test_unknown_variant_is_refused(self):
        with self.assertRaises(report.ReportError):
            report.resolve(self.scen(variants=["asyncloop-x9"]), python_root=self.tmp)

    def test_best_design_per_m_range(self):
        def pt(line, m, t):
            return {"line": line, "m": m, "valid": True, "times": [t * (1 + i / 1000) for i in range(10)]}
        pts = [pt("threadpool", 1, 1.0), pt("asyncloop", 1, 2.0), pt("asyncloop-x2", 1, 2.0),
               pt("threadpool", 10, 2.0), pt("asyncloop", 10, 2.0), pt("asyncloop-x2", 10, 1.0),
               pt("threadpool", 100, 2.0), pt("asyncloop+save1", 100, 1.5), pt("asyncloop-x2", 100, 1.0),
               pt("curl", 100, 0.1)]  # curl is a reference, not a design
        bests = report.best_designs(pts, resamples=200)
        self.assertEqual([(b["m"], b["best"], b["second"]) for b in bests],
                         [(1, "threadpool", "asyncloop"), (10, "asyncloop-x2", "threadpool"),
                          (100, "asyncloop-x2", "asyncloop+save1")])
        self.assertTrue(all(b["v"]["winner"] for b in bests))
        self.assertEqual(report.best_design_sentence(bests),
                         "Best design per m (fastest median; significant against the runner-up unless "
                         "said): threadpool at m = 1; asyncloop×2 at m = 10, 100.")


class Validity(Base):
    def test_base_fixture_is_valid(self):
        pts, notes = points(make_out(self.tmp))
        bad = {k: p["reasons"] for k, p in pts.items() if not p["valid"]}
        self.assertEqual(bad, {})
        self.assertEqual(notes, [])

    def check_invalid(self, mutate, key, words, **kw):
        pts, _ = points(make_out(self.tmp, mutate, **kw))
        p = pts[key]
        self.assertFalse(p["valid"])
        self.assertIsNone(p["not_run"])
        self.assertTrue(any(words in r for r in p["reasons"]), p["reasons"])
        # the others stay valid
        others = [k for k, q in pts.items() if k != key and not q["valid"]]
        return others

    def test_server_not_started(self):
        def mut(d, raw):
            write(os.path.join(raw, "server.txt"), "started 0\n")
        pts, _ = points(make_out(self.tmp, mut))
        self.assertTrue(all(not p["valid"] and p["reasons"] == ["flagserver did not start"]
                            for p in pts.values()))

    def test_run_failed(self):
        def mut(d, raw):
            write(os.path.join(d("asyncloop", 2), "facts.txt"),
                  "batch 1 rc 1 timed_out 0 runs 5 warmup 1\n")
        self.assertEqual(self.check_invalid(mut, ("asyncloop", 2), "hyperfine failed (exit 1)"), [])

    def test_exit_status_not_accepted(self):
        def mut(d, raw):
            edit_json(os.path.join(d("threadpool", 4), "hf-1.json"),
                      lambda h: h["results"][0].update(exit_codes=[0, 0, 1, 0, 0]))
        self.check_invalid(mut, ("threadpool", 4), "run exit status 1")

    def test_counts_do_not_add_up(self):
        def mut(d, raw):
            recs = [record(2)] * 5 + [record(2, ok=6, nf=3, err=0)]
            write(os.path.join(d("threadpool", 2), "records.jsonl"),
                  "".join(json.dumps(r) + "\n" for r in recs))
        self.check_invalid(mut, ("threadpool", 2), "ok + not found + errors != requests in 1 run(s)")

    def test_client_loaded_another_libcurl(self):
        def mut(d, raw):
            recs = [dict(record(2), libcurl="7.88.1")] * 5 + [dict(record(2), libcurl="8.14.1")]
            write(os.path.join(d("threadpool", 2), "records.jsonl"),
                  "".join(json.dumps(r) + "\n" for r in recs))
        self.check_invalid(mut, ("threadpool", 2),
                           "the client loaded libcurl 7.88.1, 8.14.1, the run declares 7.88.1")

    def test_peak_in_flight_above_m(self):
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 4), "stats-1.json"),
                      lambda s: s.update(peak_in_flight=5))
        self.check_invalid(mut, ("asyncloop", 4), "peak_in_flight 5 > m = 4")

    def test_server_counted_other_requests(self):
        def mut(d, raw):
            edit_json(os.path.join(d("curl", 2), "stats-1.json"), lambda s: s.update(requests=59))
        self.check_invalid(mut, ("curl", 2), "flagserver counted 59 requests")

    def test_settings_differ(self):
        def mut(d, raw):
            edit_json(os.path.join(d("threadpool", 2), "stats-1.json"),
                      lambda s: s["settings"].update(delay_ms={"min": 0, "max": 0}))
        self.check_invalid(mut, ("threadpool", 2), "server settings differ from the scenario: delay 0 ms")

    def test_settings_differ_at_start_invalidates_every_point(self):
        def mut(d, raw):
            edit_json(os.path.join(raw, "server-stats.json"),
                      lambda s: s["settings"].update(error_rate=0.25))
        pts, _ = points(make_out(self.tmp, mut))
        for p in pts.values():
            self.assertFalse(p["valid"])
            self.assertIn("error rate 0.25 (scenario: 0)", "; ".join(p["reasons"]))

    def test_missing_settings_are_reported_not_invalid(self):
        pts, notes = points(make_out(self.tmp, stats_settings=False))
        self.assertTrue(all(p["valid"] for p in pts.values()))
        self.assertTrue(any('no "settings"' in n for n in notes), notes)

    def test_latencies_do_not_match_records(self):
        def mut(d, raw):
            with open(os.path.join(d("asyncloop", 2), "latencies.txt"), "a") as f:
                f.write("1.000\n")
        self.check_invalid(mut, ("asyncloop", 2), "latencies file has 61 lines, the records account for 60")

    def test_missing_stats(self):
        def mut(d, raw):
            os.remove(os.path.join(d("threadpool", 4), "stats-1.json"))
        self.check_invalid(mut, ("threadpool", 4), "no flagserver /stats")


class NotRunHere(Base):
    def test_too_few_descriptors(self):
        def mut(d, raw):
            write(os.path.join(d("threadpool", 4), "facts.txt"),
                  "batch 1 rc 1 timed_out 0 runs 5 warmup 1\nprobe_rc 2\n")
            write(os.path.join(d("threadpool", 4), "probe.err"),
                  "*** 4 concurrent transfers need 64 file descriptors, but the hard limit is 20\n")
        pts, _ = points(make_out(self.tmp, mut))
        p = pts[("threadpool", 4)]
        self.assertFalse(p["valid"])
        self.assertEqual(p["reasons"], [])
        self.assertTrue(p["not_run"].startswith("4 concurrent transfers need 64 file descriptors"))

    def test_point_limit(self):
        def mut(d, raw):
            write(os.path.join(d("asyncloop", 4), "facts.txt"),
                  "batch 1 rc 124 timed_out 1 runs 5 warmup 1\n")
        pts, _ = points(make_out(self.tmp, mut))
        self.assertEqual(pts[("asyncloop", 4)]["not_run"], "stopped at the point limit of 300 s")

    def test_resolve_marks_curl_limit_and_absent_python(self):
        path = os.path.join(self.tmp, "S.json")
        write(path, json.dumps({
            "desc": "d", "server": {"delay_ms": {"min": 100, "max": 100}, "error_rate": 0},
            "codeset": "e", "repeat": 2, "timeout_s": 30, "point_limit_s": 60, "concur": [10, 500],
            "runs": 10, "warmup": 1, "python": {"concur": [500], "runs": 3},
            "quick": {"concur": [10], "runs": 2}}))
        s = report.resolve(path, python_root=os.path.join(self.tmp, "nowhere"))
        nr = {(p["line"], p["m"]): p["not_run"] for p in s["points"]}
        self.assertEqual(nr[("curl", 500)], "curl's --parallel-max is limited to 300")
        self.assertIsNone(nr[("curl", 10)])
        self.assertEqual(nr[("py-asyncio", 500)], "peers/python/flags2_asyncio.py not present")
        self.assertEqual(s["requests"], 1352)
        sh = report.shell_assignments(s)
        self.assertIn("SERVER_ARGS=(--delay 100)\n", sh)
        # the designs take turns going first
        self.assertIn("POINTS=('threadpool 10 10 1' 'asyncloop 10 10 1' 'curl 10 10 1' "
                      "'asyncloop 500 10 1' 'threadpool 500 10 1')\n", sh)
        q = report.resolve(path, quick=True, python_root=self.tmp)
        self.assertEqual((q["concur"], q["runs"]), ([10], 2))

    def test_server_args_from_settings(self):
        self.assertEqual(report.server_args({"delay_ms": {"min": 100, "max": 100}, "error_rate": 0.25,
                                             "error_kind": "status", "seed": 42}),
                         ["--delay", "100", "--error-rate", "0.25", "--error-kind", "status",
                          "--seed", "42"])
        self.assertEqual(report.server_args({"delay_ms": {"min": 0, "max": 0}, "error_rate": 0}), [])


class Pooling(Base):
    def test_pooled_percentiles_drop_warmup_and_pool_runs(self):
        pts, _ = points(make_out(self.tmp))
        lat = pts[("asyncloop", 4)]["latency_ms"]
        # timed samples: 1.4 .. 10.4, five times each; the 1000 ms warmup is gone
        self.assertEqual(lat["n"], 50)
        self.assertAlmostEqual(lat["p50"], 5.9, places=6)
        self.assertAlmostEqual(lat["p99.9"], 10.4, places=6)
        self.assertIsNone(pts[("curl", 4)]["latency_ms"])

    def test_cpu_is_split_per_1k_requests(self):
        pts, _ = points(make_out(self.tmp))
        p = pts[("threadpool", 2)]
        self.assertAlmostEqual(p["cpu_user_per_1k"], 3.0)  # median 0.03 s; the warmup left out
        self.assertAlmostEqual(p["cpu_sys_per_1k"], 2.0)
        self.assertAlmostEqual(p["efficiency"], 0.5 / 1.01)


class WholeReport(Base):
    def test_report_has_verdicts_crossover_and_plots(self):
        out = make_out(self.tmp, times=TIMES6)
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("| 2 | threadpool faster by 1.20×", md)
        self.assertIn("| 4 | asyncloop faster by 1.39×", md)
        self.assertIn("Crossover: between m = 2 and m = 4 (threadpool below, asyncloop above).", md)
        self.assertIn("| CPU | Fixture CPU |", md)
        self.assertIn("![FIX latency](FIX/latency.png)", md)
        with open(os.path.join(out, "FIX", "latency-asyncloop.dat"), encoding="utf-8") as f:
            rows = [l.split() for l in f if not l.startswith("#")]
        self.assertAlmostEqual(float(rows[0][0]), 2.0)  # p50
        self.assertAlmostEqual(float(rows[-1][0]), 1000.0)  # p99.9
        self.assertTrue(os.path.exists(os.path.join(out, "FIX", "plots.gp")))

    def test_claims_on_5_plus_5_runs_read_more_runs_needed(self):
        out = make_out(self.tmp)
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("| 4 | significant on only 5 + 5 runs (the smallest p they can give is 0.0079): more "
                      "runs needed, no claim (asyncloop's median lower by 1.39×", md)
        self.assertIn("**Verdict.** More runs needed to claim the significant difference at m = 2, 4 (Mann–Whitney", md)
        self.assertNotIn("faster by", md)
        self.assertNotIn("Crossover", md)

    def test_invalid_point_is_not_plotted(self):
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 4), "stats-1.json"),
                      lambda s: s.update(peak_in_flight=9))
        out = make_out(self.tmp, mut)
        report.cmd_report(out)
        with open(os.path.join(out, "FIX", "elapsed-asyncloop.dat"), encoding="utf-8") as f:
            self.assertEqual([l.split()[0] for l in f], ["2"])
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            self.assertIn("**1 point(s) INVALID**", f.read())

    def test_skipped_scenario_says_why(self):
        def mut(d, raw):
            write(os.path.join(raw, "skipped.txt"), "the server at URL does not match: delay 0 ms\n")
        out = make_out(self.tmp, mut)
        report.cmd_report(out)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("**Not run here**: the server at URL does not match: delay 0 ms", md)
        self.assertIn("- FIX: the server at URL does not match", md)

    def test_compare_flags_contradictions(self):
        a = make_out(self.tmp, times=TIMES6)
        report.cmd_report(a)
        b = os.path.join(self.tmp, "b")
        shutil.copytree(a, b)
        rc, text = quiet(report.cmd_compare, a, b)
        self.assertEqual(rc, 0)
        self.assertIn("0 contradictory claim(s).", text)
        edit_json(os.path.join(b, "verdicts.json"),
                  lambda v: v[0]["verdicts"][1].update(winner="threadpool", claim="threadpool faster"))
        rc, text = quiet(report.cmd_compare, a, b)
        self.assertEqual(rc, 1)
        self.assertIn("**CONTRADICTION**", text)


class LibcurlTable(Base):
    """The "libcurl 7.88 vs 8.14" table: bench.sh's libcurl 8 pass in
    OUT/libcurl8/ (its own meta and scenarios) beside the main run."""

    def make(self, times=TIMES6):
        out = make_out(self.tmp, times=times)
        l8 = os.path.join(out, "libcurl8")
        shutil.copytree(os.path.join(out, "FIX"), os.path.join(l8, "FIX"))
        write(os.path.join(out, "meta.txt"), "libcurl=7.88.1\ncurl=7.88.1\ncommit=abc\nquick=0\n")
        write(os.path.join(l8, "meta.txt"), "libcurl=8.14.1\ncurl=7.88.1\nlibcurl_dir=/x/lib\n")
        write(os.path.join(l8, "scenarios.txt"), "FIX\n")
        raw = os.path.join(l8, "FIX", "raw")
        # 8.x: the loop twice as slow at m = 4, its records say 8.14.1; the
        # pool's m = 4 refused for descriptors, with the count it measured
        edit_json(os.path.join(raw, "asyncloop-m4", "hf-1.json"), lambda h: h["results"][0].update(
            times=[2 * t for t in times[("asyncloop", 4)]]))
        for line in ("threadpool", "asyncloop"):
            for m in (2, 4):
                recs = os.path.join(raw, "%s-m%d" % (line, m), "records.jsonl")
                with open(recs, encoding="utf-8") as f:
                    rs = [dict(json.loads(l), libcurl="8.14.1") for l in f]
                write(recs, "".join(json.dumps(r) + "\n" for r in rs))
        write(os.path.join(raw, "threadpool-m4", "facts.txt"),
              "batch 1 rc 1 timed_out 0 runs 5 warmup 1\nprobe_rc 2\n")
        write(os.path.join(raw, "threadpool-m4", "probe.err"),
              "*** 4 concurrent transfers need 76 file descriptors (3 each: its connection, libcurl "
              "8.14.1's wakeup eventfd (1), the file it saves), but the hard limit is 20\n")
        return out

    def md(self, out):
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            return f.read()

    def test_table_rows_ratio_claim_and_versions(self):
        md = self.md(self.make())
        self.assertIn("## libcurl 7.88.1 vs 8.14.1", md)
        self.assertIn("`LD_LIBRARY_PATH=/x/lib`", md)
        rows = {tuple(c.strip() for c in l.split("|")[1:4]): l for l in md.splitlines()
                if l.startswith("| FIX |")}
        loop4 = rows[("FIX", "4", "asyncloop")]
        self.assertIn("| 8.14.1 | 1.022 s (6) | 2.00 (", loop4)
        self.assertIn("| 8.x slower |", loop4)
        self.assertIn("| no significant difference |", rows[("FIX", "2", "asyncloop")])
        # curl: the binary's version and the libcurl it loaded, per side
        curl2 = rows[("FIX", "2", "curl")]
        self.assertIn("| curl 7.88.1, libcurl 7.88.1 |", curl2)
        self.assertIn("| curl 7.88.1, libcurl 8.14.1 |", curl2)
        self.assertIn("| not run here |", rows[("FIX", "4", "threadpool")])
        self.assertIn("- FIX threadpool m = 4 with 8.14.1: not run here: 4 concurrent transfers "
                      "need 76 file descriptors (3 each: its connection, libcurl 8.14.1's wakeup "
                      "eventfd (1), the file it saves)", md)

    def test_known_defects_named_for_each_version_loaded(self):
        md = self.md(self.make())
        sec = md.split("## libcurl 7.88.1 vs 8.14.1\n", 1)[1].split("\n## ", 1)[0]
        self.assertIn("Known libcurl defects in the versions this run loaded", sec)
        self.assertIn("- libcurl 7.88.1 can leave HTTP/2 frames", sec)
        self.assertIn("- libcurl 8.14.1 moves every pending transfer back to CONNECT", sec)
        self.assertIn("(curl issue #18017, fixed in 8.16.0)", sec)

    def test_known_defects_by_version_range(self):
        from flagreport import reportmd
        n = lambda v: len(reportmd.libcurl_defects(v))
        self.assertEqual([n(v) for v in ("7.87.0", "7.88.0", "8.0.1", "8.1.0", "8.13.0", "8.14.0",
                                         "8.15.0-DEV", "8.16.0", "9", "garbage", "?")],
                         [0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0])
        self.assertIn("#18017", reportmd.libcurl_defects("8.14.1")[0])

    def test_5_plus_5_runs_make_no_version_claim(self):
        md = self.md(self.make(times=TIMES))
        loop4 = [l for l in md.splitlines() if l.startswith("| FIX | 4 | asyncloop |")][0]
        self.assertIn("| significant on only 5 + 5 runs (the smallest p they can give is 0.0079): more runs "
                      "needed, no claim |", loop4)

    def make_h2c(self):
        """FIX as H2C under libcurl 7.88: the main run's libcurl lines not
        run ("libcurl_not_run"), the libcurl 8 pass with them."""
        why = "libcurl 7.88 cannot multiplex h2c (curl issue #10634): run in the libcurl 8 pass"
        out = self.make()
        raw = os.path.join(out, "FIX", "raw")
        edit_json(os.path.join(raw, "scenario.json"), lambda s: [s.update(libcurl_not_run=why)] + [
            p.update(not_run=why) for p in s["points"]])
        for d in os.listdir(raw):
            if d.endswith(("-m2", "-m4")):
                shutil.rmtree(os.path.join(raw, d))
        return out, why

    def test_h2c_gets_the_pass_as_its_section_with_verdicts(self):
        out, why = self.make_h2c()
        md = self.md(out)
        self.assertIn("## FIX (libcurl 8.14.1)\n", md)
        sec = md.split("## FIX (libcurl 8.14.1)\n", 1)[1].split("\n## ", 1)[0]
        self.assertIn("FIX's libcurl lines with libcurl 8.14.1 loaded: the libcurl 8 pass of this run, "
                      "`libcurl8/FIX/` (%s)." % why, sec)
        # the pass's verdicts (make: its pool's m = 4 refused for descriptors)
        self.assertIn("| 2 | threadpool faster by 1.20×", sec)
        self.assertIn("threadpool did not run m = 4 here", sec)
        self.assertIn("](libcurl8/FIX/elapsed.png)", sec)
        self.assertIn("Data: [libcurl8/FIX/points.json]", sec)
        self.assertTrue(os.path.isfile(os.path.join(out, "libcurl8", "FIX", "plots.gp")))
        with open(os.path.join(out, "verdicts.json"), encoding="utf-8") as f:
            self.assertEqual([v["name"] for v in json.load(f)], ["FIX", "FIX (libcurl 8.14.1)"])

    def test_no_pass_section_where_the_main_run_ran_the_libcurl_lines(self):
        out = self.make()
        self.assertNotIn("## FIX (libcurl", self.md(out))
        with open(os.path.join(out, "verdicts.json"), encoding="utf-8") as f:
            self.assertEqual([v["name"] for v in json.load(f)], ["FIX"])

    def test_no_pass_no_section_and_a_failed_fetch_says_why(self):
        out = make_out(self.tmp)
        self.assertNotIn("libcurl 7.88 vs", self.md(out))
        write(os.path.join(out, "libcurl8.skipped"), "libcurl 8 could not be fetched\n")
        self.assertIn("## libcurl 7.88 vs 8.14\n\nNot run: libcurl 8 could not be fetched", self.md(out))

    def test_resolve_libcurl8_takes_the_reduced_set(self):
        path = os.path.join(self.tmp, "L.json")
        write(path, json.dumps({
            "desc": "d", "server": {"delay_ms": {"min": 0, "max": 0}, "error_rate": 0},
            "codeset": "a", "repeat": 2, "timeout_s": 30, "point_limit_s": 60, "concur": [1, 10, 50],
            "runs": 10, "warmup": 1, "variants": ["asyncloop-x2"], "python": {"concur": [10], "runs": 2},
            "libcurl8": {"concur": [10], "runs": 5, "max_runs": 5, "variants": []}}))
        s = report.resolve(path, python_root=self.tmp, libcurl8=True)
        self.assertEqual(sorted({(p["line"], p["m"], p["runs"]) for p in s["points"]}),
                         [("asyncloop", 10, 5), ("curl", 10, 5), ("threadpool", 10, 5)])
        self.assertNotIn("libcurl8", report.resolve(path, python_root=self.tmp))
        write(os.path.join(self.tmp, "bench", "A.json"), json.dumps({"libcurl8": {}}))
        write(os.path.join(self.tmp, "bench", "B.json"), json.dumps({}))
        self.assertEqual(report.libcurl8_scenarios(os.path.join(self.tmp, "bench")), ["A"])
        with self.assertRaises(report.ReportError):
            report.resolve(os.path.join(self.tmp, "bench", "B.json"), libcurl8=True)


class ScenarioSets(Base):
    """bench.sh --set: membership is declared in each scenario's own file."""

    def bench(self, files):
        d = os.path.join(self.tmp, "bench")
        for name, body in files.items():
            write(os.path.join(d, name + ".json"), json.dumps(body))
        return d

    def test_sets_in_bench_order(self):
        d = self.bench({"TLS": {"sets": ["default", "tls"]}, "C10K": {"sets": ["default", "book"]},
                        "LOCAL": {"sets": ["book", "default"]}, "H2": {"sets": ["http2"]}})
        self.assertEqual(report.scenario_set(d, "default"), ["LOCAL", "C10K", "TLS"])
        self.assertEqual(report.scenario_set(d, "all"), ["LOCAL", "C10K", "H2", "TLS"])
        self.assertEqual(report.scenario_set(d, "http2"), ["H2"])

    def test_unknown_set_names_the_known_ones(self):
        d = self.bench({"LOCAL": {"sets": ["default"]}})
        with self.assertRaisesRegex(report.ReportError, r"no scenario set 'nope' \(known: all, default\)"):
            report.scenario_set(d, "nope")

    def test_a_scenario_must_declare_its_sets(self):
        for bad in ({}, {"sets": []}, {"sets": "default"}, {"sets": ["Default"]}, {"sets": ["all"]},
                    {"sets": ["a b"]}):
            d = self.bench({"LOCAL": {"sets": ["default"]}, "X": bad})
            with self.assertRaisesRegex(report.ReportError, "scenario X"):
                report.scenario_sets(d)

    def test_every_committed_scenario_is_in_a_set_and_default_is_not_empty(self):
        d = os.path.join(report.ROOT, "bench", "scenarios")
        sets = report.scenario_sets(d)
        self.assertTrue(sets["default"])
        self.assertEqual(sorted(sets["all"]), sorted(f[:-5] for f in os.listdir(d) if f.endswith(".json")))


class Adaptive(Base):
    def test_decided_pair_needs_no_more_runs(self):
        out = make_out(self.tmp, times=TIMES6)  # 6 + 6: a claim with room
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 4), 0)

    def test_claim_without_room_gets_the_runs_it_needs(self):
        # 5 + 5 completely separated: one more run of each gives 6 + 6
        out = make_out(self.tmp)
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 4), 1)
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 2), 1)

    def test_claim_without_room_beyond_max_runs_or_budget_gets_none(self):
        def mut(d, raw):
            edit_json(os.path.join(raw, "scenario.json"), lambda s: s.update(max_runs=5, runs=5))
        out = make_out(self.tmp, mut)
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 4), 0)

        def budget(d, raw):  # one run of each: 0.71 + 0.51 s, more than 1 s
            edit_json(os.path.join(raw, "scenario.json"), lambda s: s.update(adapt_budget_s=1))
        out = make_out(os.path.join(self.tmp, "b"), budget)
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 4), 0)

    def test_m_done_logs_each_line_then_says_how_many_more(self):
        # bench.sh's one call per m: a progress line per point, in the order
        # asked, then more-runs's answer (5 + 5 completely separated: 1)
        raw = os.path.join(make_out(self.tmp), "FIX", "raw")
        got = report.cmd_m_done(raw, 4, ["threadpool", "asyncloop"])
        self.assertEqual(got[:2], [report.cmd_point_line(raw, "threadpool", 4),
                                   report.cmd_point_line(raw, "asyncloop", 4)])
        self.assertRegex(got[0], r"^threadpool m=4: median [0-9.]+ s")
        self.assertEqual(got[2:], ["1"])
        self.assertEqual(report.cmd_m_done(raw, 4, []), ["1"])

    def test_undecided_pair_gets_more_runs(self):
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 4), "hf-1.json"),
                      lambda h: h["results"][0].update(times=[0.50, 0.75, 0.52, 0.72, 0.515]))
        out = make_out(self.tmp, mut)
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 4), 5)

    def test_equal_pair_needs_no_more_runs(self):
        # p >= 0.01, but even the CI's upper bound is far below 1.05
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 4), "hf-1.json"),
                      lambda h: h["results"][0].update(times=[0.701, 0.711, 0.719, 0.706, 0.729]))
        out = make_out(self.tmp, mut)
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 4), 0)

    def test_equal_medians_but_too_noisy_to_see_5_percent_get_more_runs(self):
        # the CI (0.95-1.04) excludes a claim, but a 1.05x difference would
        # not have been detected (1.09x): more runs, aiming at ADAPT_TARGET
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 4), "hf-1.json"),
                      lambda h: h["results"][0].update(times=[0.68, 0.74, 0.71, 0.69, 0.72]))
        out = make_out(self.tmp, mut)
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 4), 5)

    def test_the_report_says_where_the_target_was_missed_and_why(self):
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 4), "hf-1.json"),
                      lambda h: h["results"][0].update(times=[0.68, 0.74, 0.71, 0.69, 0.72]))
        out = make_out(self.tmp, mut)
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertRegex(md, r"Could not detect 1\.05× at m = 4 \(1\.\d\d×\): the adaptive budget "
                         r"\(100 s of extra runs\) ran out\.")
        s = dict(scenario(), max_runs=5)
        v = report.compare([0.700, 0.710, 0.720, 0.705, 0.730], [0.68, 0.74, 0.71, 0.69, 0.72], "threadpool",
                           "asyncloop")
        v["m"] = 4
        self.assertIn("this scenario has no adaptive runs (5 a line)", report.undetected_sentence(s, [v]))
        self.assertIn("the pair reached max_runs (5 a line)",
                      report.undetected_sentence(dict(s, max_runs=5, runs=3), [v]))

    def test_facts_mark_the_adaptive_batches(self):
        path = os.path.join(self.tmp, "facts.txt")
        write(path, "batch 1 rc 0 timed_out 0 runs 2 warmup 1 extra 0\n"
                    "batch 2 rc 0 timed_out 0 runs 2 warmup 0 extra 0\n"
                    "batch 3 rc 0 timed_out 0 runs 5 warmup 0 extra 1\n")
        self.assertEqual([b["extra"] for b in report.read_facts(path)["batches"]], [False, False, True])
        # before issue 24 every batch after the first was an adaptive one
        write(path, "batch 1 rc 0 timed_out 0 runs 5 warmup 1\nbatch 2 rc 0 timed_out 0 runs 5 warmup 0\n")
        self.assertEqual([b["extra"] for b in report.read_facts(path)["batches"]], [False, True])
        write(path, "batch 1 rc 0 timed_out 0 runs 5 warmup 1 extra 2\n")
        with self.assertRaisesRegex(report.ReportError, "extra must be 0 or 1"):
            report.read_facts(path)

    def test_no_more_runs_when_the_budget_is_spent(self):
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 4), "hf-1.json"),
                      lambda h: h["results"][0].update(times=[0.50, 0.75, 0.52, 0.72, 0.515]))
            edit_json(os.path.join(raw, "scenario.json"), lambda s: s.update(adapt_budget_s=1))
        out = make_out(self.tmp, mut)
        self.assertEqual(report.cmd_more_runs(os.path.join(out, "FIX", "raw"), 4), 0)


class OldFormat(Base):
    def test_old_raw_json_reduces_without_pooled_latencies(self):
        out = os.path.join(self.tmp, "old")
        write(os.path.join(out, "scenarios.txt"), "OLD\n")
        write(os.path.join(out, "meta.json"), json.dumps({"cpu": "Old CPU", "commit": "x"}))
        write(os.path.join(out, "OLD", "scenario.json"), json.dumps({
            "name": "OLD", "desc": "old", "codeset": "a", "repeat": 1, "ncodes": 10,
            "requests": 10, "delay_s": 0, "runs": 3, "warmup": 0, "ok_exits": [0],
            "timeout_s": 30, "plots": ["elapsed"], "server_args": "", "concur": [1]}))
        pts = []
        for line, t in (("threadpool", [1.0, 1.1, 1.2]), ("asyncloop", [2.0, 2.1, 2.2])):
            pts.append({"backend": line, "m": 1, "server_started": True, "hyperfine_rc": 0,
                        "timed_out": False, "hyperfine": {"times": t, "exit_codes": [0, 0, 0]},
                        "records": [record(1)] * 3, "stats": {"requests": 30, "peak_in_flight": 1}})
        write(os.path.join(out, "OLD", "raw.json"), json.dumps(pts))
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("Old-format data", md)
        self.assertIn("| 1 | too few runs to test (3 + 3)", md)  # 3 runs cannot reach p < 0.01 (issue 22)
        self.assertIn("| 1 | threadpool | 3 | 1.100 |", md)


def tls_out(tmp, fresh=False, resume=True, mutate=None, times=None):
    """OUT/ with FIX turned into an HTTPS scenario (issue 10): the server's
    settings and /stats carry TLS, each batch's handshakes as a correct run
    would make them (fresh: one per request; keep-alive: m per run), plus
    bench.sh's own /stats read (report.STATS_HANDSHAKES)."""
    def mut(d, raw):
        def scen(s):
            s["server"].update(tls=True, tls_resume=resume)
            s["fresh_connect"] = fresh
            s["tls"] = True
        edit_json(os.path.join(raw, "scenario.json"), scen)
        tls_set = dict(SETTINGS, tls=True, tls_resume=resume)
        edit_json(os.path.join(raw, "server-stats.json"), lambda st: st.update(settings=tls_set))
        for (line, m), ts in (times or TIMES).items():
            per_run = 10 if fresh else m  # 10 requests per run
            hs = (len(ts) + 1) * per_run + report.STATS_HANDSHAKES
            edit_json(os.path.join(d(line, m), "stats-1.json"), lambda st: st.update(
                settings=tls_set, tls_handshakes=hs,
                tls_resumed=0 if fresh or not resume else (len(ts) + 1) * (per_run - 1), tls_failed=0))
        if mutate:
            mutate(d, raw)
    return make_out(tmp, mut, times=times)


class Tls(Base):
    """HTTPS scenarios (issue 10): the server's handshake counters as columns,
    their validity rules, TLS in the settings check, and where the pool's
    second core wins."""

    def scen(self, **extra):
        path = os.path.join(self.tmp, "T.json")
        d = {"desc": "d", "server": {"delay_ms": {"min": 100, "max": 100}, "error_rate": 0, "tls": True},
             "codeset": "a", "repeat": 1, "timeout_s": 30, "point_limit_s": 60, "concur": [10, 100],
             "runs": 5, "warmup": 1}
        d.update(extra)
        write(path, json.dumps(d))
        return path

    def test_resolve_tls_fresh_connect_and_point_runs(self):
        path = self.scen(fresh_connect=True, point_runs=[{"m": 10, "runs": 1, "warmup": 0}])
        edit_json(path, lambda d: d["server"].update(tls_resume=False))
        s = report.resolve(path, python_root=self.tmp)
        sh = report.shell_assignments(s)
        self.assertIn("TLS=1\n", sh)
        self.assertIn("FRESH_CONNECT=1\n", sh)
        self.assertIn("SERVER_ARGS=(--delay 100 --no-tls-resume)\n", sh)
        self.assertIn("'threadpool 10 1 0'", sh)  # point_runs at m = 10
        self.assertIn("'curl 10 1 0'", sh)
        self.assertIn("'threadpool 100 5 1'", sh)
        # --runs means every point
        self.assertIn("'threadpool 10 7 1'", report.shell_assignments(
            report.resolve(path, runs=7, python_root=self.tmp)))

    def test_resolve_plain_and_resumption_default(self):
        path = self.scen()
        edit_json(path, lambda d: d["server"].pop("tls"))
        sh = report.shell_assignments(report.resolve(path, python_root=self.tmp))
        self.assertIn("TLS=0\n", sh)
        self.assertIn("FRESH_CONNECT=0\n", sh)
        # resumption on unless "tls_resume": false: no --no-tls-resume
        sh = report.shell_assignments(report.resolve(self.scen(), python_root=self.tmp))
        self.assertIn("SERVER_ARGS=(--delay 100)\n", sh)

    def test_the_shipped_scenarios_resolve(self):
        for name, fresh, resume in (("TLS", False, True), ("HANDSHAKE", True, False)):
            for quick in (False, True):
                s = report.resolve(os.path.join(report.ROOT, "bench", "scenarios", name + ".json"), quick=quick)
                self.assertEqual((s["tls"], s["fresh_connect"], report.tls_resume(s["server"])),
                                 (True, fresh, resume), name)

    def test_valid_tls_points_and_columns(self):
        for fresh, resume in ((False, True), (True, False), (True, True)):
            out = tls_out(os.path.join(self.tmp, "%s%s" % (fresh, resume)), fresh, resume)
            pts, _ = points(out)
            bad = {k: p["reasons"] for k, p in pts.items() if not p["valid"]}
            self.assertEqual(bad, {}, (fresh, resume))
            t = pts[("asyncloop", 4)]["tls"]
            self.assertEqual(t["per_run"]["handshakes"], 10 if fresh else 4)
            self.assertEqual(t["per_run"]["failed"], 0)
            self.assertEqual(t["runs_counted"], 6)

    def test_table_has_tls_columns_only_for_tls(self):
        out = tls_out(self.tmp)
        report.cmd_report(out)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as fh:
            md = fh.read()
        head = [l for l in md.splitlines() if l.startswith("| m | line |")][0]
        self.assertIn("| TLS handshakes / resumed / failed per run (server) | client CPU s / wall s "
                      "| status |", head)
        sep = md.splitlines()[md.splitlines().index(head) + 1]
        self.assertEqual(sep.count("|"), head.count("|"))
        # asyncloop m = 4, keep-alive with resumption: 4 handshakes a run, 3 resumed;
        # CPU: median user 0.03 + sys 0.02 over a median elapsed of 0.510 s
        row = [l for l in md.splitlines() if l.startswith("| 4 | asyncloop |")][0]
        self.assertTrue(row.endswith("| 4 / 3 / 0 | 0.10 | valid |"), row)
        self.assertIn("session resumption on; keep-alive connections", md)
        plain = make_out(os.path.join(self.tmp, "plain"))
        report.cmd_report(plain)
        with open(os.path.join(plain, "REPORT.md"), encoding="utf-8") as fh:
            self.assertNotIn("TLS handshakes", fh.read())

    def test_failed_handshake_is_invalid(self):
        def mut(d, raw):
            edit_json(os.path.join(d("threadpool", 2), "stats-1.json"), lambda s: s.update(tls_failed=2))
        pts, _ = points(tls_out(self.tmp, mutate=mut))
        p = pts[("threadpool", 2)]
        self.assertFalse(p["valid"])
        self.assertIn("flagserver counted 2 failed TLS handshake(s) in batch 1", p["reasons"])
        self.assertEqual([k for k, q in pts.items() if not q["valid"]], [("threadpool", 2)])

    def test_fresh_connect_with_fewer_handshakes_than_requests_is_invalid(self):
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 4), "stats-1.json"),
                      lambda s: s.update(tls_handshakes=60))  # 59 after bench.sh's own
        pts, _ = points(tls_out(self.tmp, fresh=True, resume=False, mutate=mut))
        self.assertIn("59 TLS handshakes for 60 requests in batch 1: not one per request (--fresh-connect)",
                      pts[("asyncloop", 4)]["reasons"])

    def test_resumed_although_resumption_off_is_invalid(self):
        def mut(d, raw):
            edit_json(os.path.join(d("curl", 4), "stats-1.json"), lambda s: s.update(tls_resumed=5))
        pts, _ = points(tls_out(self.tmp, fresh=True, resume=False, mutate=mut))
        self.assertIn("5 resumed TLS handshake(s) in batch 1 although the server has resumption off",
                      pts[("curl", 4)]["reasons"])
        # with resumption on, resumed handshakes are what the column shows, not an error
        pts, _ = points(tls_out(os.path.join(self.tmp, "on"), fresh=True, resume=True, mutate=mut))
        self.assertTrue(pts[("curl", 4)]["valid"])
        self.assertAlmostEqual(pts[("curl", 4)]["tls"]["per_run"]["resumed"], 5 / 6)

    def test_keep_alive_with_a_handshake_per_request_is_invalid(self):
        def mut(d, raw):
            edit_json(os.path.join(d("threadpool", 4), "stats-1.json"), lambda s: s.update(tls_handshakes=61))
            edit_json(os.path.join(d("asyncloop", 2), "stats-1.json"), lambda s: s.update(tls_handshakes=1))
        pts, _ = points(tls_out(self.tmp, mutate=mut))
        self.assertIn("60 TLS handshakes for 60 requests in batch 1: a handshake per request, not keep-alive",
                      pts[("threadpool", 4)]["reasons"])
        self.assertIn("no TLS handshake counted in batch 1", pts[("asyncloop", 2)]["reasons"])

    def test_stats_without_tls_counters_is_invalid(self):
        def mut(d, raw):
            edit_json(os.path.join(d("threadpool", 2), "stats-1.json"), lambda s: s.pop("tls_handshakes"))
        pts, _ = points(tls_out(self.tmp, mutate=mut))
        self.assertIn("no TLS counters in flagserver's /stats", pts[("threadpool", 2)]["reasons"])

    def test_plain_server_for_a_tls_scenario_and_the_reverse(self):
        def plain_server(d, raw):
            edit_json(os.path.join(d("threadpool", 2), "stats-1.json"),
                      lambda s: s["settings"].update(tls=False))
            edit_json(os.path.join(d("threadpool", 4), "stats-1.json"),
                      lambda s: s["settings"].update(tls_resume=False))
            edit_json(os.path.join(d("asyncloop", 4), "stats-1.json"), lambda s: s["settings"].pop("tls"))
        pts, _ = points(tls_out(self.tmp, mutate=plain_server))
        self.assertIn("server settings differ from the scenario: TLS off (scenario: on)",
                      pts[("threadpool", 2)]["reasons"])
        self.assertIn("server settings differ from the scenario: TLS resumption off (scenario: on)",
                      pts[("threadpool", 4)]["reasons"])
        self.assertIn("server settings differ from the scenario: TLS not reported (scenario: on)",
                      pts[("asyncloop", 4)]["reasons"])
        # a plain scenario against a TLS server (--server-url): skipped with one line
        out = make_out(os.path.join(self.tmp, "plain"))
        stats = os.path.join(self.tmp, "tls-stats.json")
        write(stats, json.dumps({"settings": dict(SETTINGS, tls=True, tls_resume=True)}))
        rc, text = quiet(report.cmd_check_server, os.path.join(out, "FIX", "raw", "scenario.json"), stats)
        self.assertEqual(rc, 1)
        self.assertIn("TLS on (scenario: off)", text)

    def test_second_core_wins_where_threadpool_is_faster(self):
        out = tls_out(self.tmp, times=TIMES6)
        report.cmd_report(out)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as fh:
            md = fh.read()
        self.assertIn("Second core: the pool wins at m = 2 by 1.20× (95% CI ", md)
        self.assertIn("client CPU s per wall s: threadpool 0.05, asyncloop 0.05); elsewhere asyncloop is "
                      "faster at m = 4.", md)
        with open(os.path.join(out, "FIX", "verdict.json"), encoding="utf-8") as fh:
            self.assertIn("the pool wins at m = 2", json.load(fh)["second_core"])

    def test_second_core_wins_nowhere(self):
        def mut(d, raw):  # asyncloop as fast as threadpool at m = 2
            edit_json(os.path.join(d("asyncloop", 2), "hf-1.json"),
                      lambda h: h["results"][0].update(times=[1.001, 1.011, 1.019, 1.006, 1.014, 1.009]))
        pts = list(points(tls_out(self.tmp, mutate=mut, times=TIMES6))[0].values())
        sent = report.second_core_sentence(pts, report.pair_verdicts(pts, resamples=200))
        self.assertEqual(sent, "Second core: the pool's second core wins nowhere in this sweep — threadpool "
                               "is not significantly faster at any m (asyncloop is faster at m = 4; no "
                               "significant difference at m = 2).")

    def test_plain_scenario_has_no_second_core_sentence(self):
        out = make_out(self.tmp)
        report.cmd_report(out)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as fh:
            self.assertNotIn("Second core", fh.read())


class Disk(Base):
    """DISK (issue 12): a scenario may save on the build directory's file
    system, the report names each scenario's file system, and a scenario with
    "compare_to_curl" holds every design against curl --parallel."""

    def scen(self, **extra):
        path = os.path.join(self.tmp, "D.json")
        d = {"desc": "d", "server": {"delay_ms": {"min": 0, "max": 0}, "error_rate": 0},
             "codeset": "a", "repeat": 1, "timeout_s": 30, "point_limit_s": 60, "concur": [10],
             "runs": 3, "warmup": 0}
        d.update(extra)
        write(path, json.dumps(d))
        return path

    def test_output_dir_is_resolved_for_bench_sh(self):
        s = report.resolve(self.scen(), python_root=self.tmp)
        self.assertEqual(s["output_dir"], "default")
        self.assertIn("OUTPUT_DIR=default\n", report.shell_assignments(s))
        s = report.resolve(self.scen(output_dir="build"), python_root=self.tmp)
        self.assertIn("OUTPUT_DIR=build\n", report.shell_assignments(s))
        with self.assertRaises(report.ReportError):
            report.resolve(self.scen(output_dir="/tmp"), python_root=self.tmp)

    def test_the_real_disk_scenario_resolves(self):
        s = report.resolve(os.path.join(HERE, "..", "..", "bench", "scenarios", "DISK.json"), python_root=self.tmp)
        self.assertEqual(s["output_dir"], "build")
        self.assertTrue(s["compare_to_curl"])
        self.assertEqual(s["concur"], [10, 20, 50, 100, 200])

    def report_md(self, target=None, curl_runs=None, save_txt="dir /b/bench-disk/FIX\nfs ext4\n"):
        def mut(d, raw):
            def f(sc):
                sc["compare_to_curl"] = True
                if target is not None:
                    sc["target_vs_curl"] = target
            edit_json(os.path.join(raw, "scenario.json"), f)
            if save_txt is not None:
                write(os.path.join(raw, "save.txt"), save_txt)
            if curl_runs is not None:
                edit_json(os.path.join(d("curl", 2), "hf-1.json"), lambda h: h["results"][0].update(
                    times=h["results"][0]["times"][:curl_runs],
                    exit_codes=[0] * curl_runs))
        out = make_out(self.tmp, mut)
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        return md, load_json_file(os.path.join(out, "FIX", "verdict.json"))

    def test_each_design_against_curl(self):
        md, v = self.report_md()
        # m = 2: threadpool 1.010 / curl 1.110, asyncloop 1.210 / 1.110;
        # m = 4: threadpool 0.710 / 0.610, asyncloop 0.510 / 0.610
        self.assertIn("| 2 | threadpool | 0.91× curl's time (95% CI", md)
        self.assertRegex(md, r"\| 2 \| threadpool \| 0\.91× [^|]*5\+5 runs\) \| met \|")
        self.assertRegex(md, r"\| 2 \| asyncloop \| 1\.09× [^|]* \| missed \|")
        self.assertRegex(md, r"\| 4 \| threadpool \| 1\.16× [^|]* \| missed \|")
        self.assertRegex(md, r"\| 4 \| asyncloop \| 0\.84× [^|]* \| met \|")
        self.assertIn("threadpool met at m = 2, missed at m = 4; asyncloop met at m = 4, missed at m = 2.", md)
        self.assertEqual([(r["m"], r["line"], r["status"]) for r in v["vs_curl"]],
                         [(2, "threadpool", "met"), (2, "asyncloop", "missed"),
                          (4, "threadpool", "missed"), (4, "asyncloop", "met")])

    def test_target_moves_the_line(self):
        md, v = self.report_md(target=1.2)  # every ratio's CI is below 1.2
        self.assertEqual({r["status"] for r in v["vs_curl"]}, {"met"})
        self.assertIn("target ≤ 1.20×", md)

    def test_few_runs_decide_nothing(self):
        def pt(line, times):
            return {"line": line, "m": 10, "valid": True, "times": times}
        fast, slow = [0.5, 0.51, 0.52, 0.53, 0.54], [1.0, 1.01, 1.02, 1.03, 1.04]
        rs = report.vs_curl([pt("threadpool", fast), pt("asyncloop", fast[:4]), pt("curl", slow)], 1.0)
        self.assertEqual([r["status"] for r in rs], ["met", "undecided"])  # 5 + 5 runs, 4 + 5
        rs = report.vs_curl([pt("threadpool", slow), pt("curl", fast)], 1.0)
        self.assertEqual(rs[0]["status"], "missed")
        rs = report.vs_curl([pt("threadpool", slow), pt("curl", [1.0, 1.05, 0.98, 1.02, 1.03])], 1.0)
        self.assertEqual(rs[0]["status"], "undecided")  # the CI straddles 1.0
        rs = report.vs_curl([pt("threadpool", slow)], 1.0)
        self.assertEqual(rs, [])  # no curl point: nothing to compare

    def test_scenarios_without_it_have_no_curl_table(self):
        out = make_out(self.tmp)
        report.cmd_report(out)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertNotIn("Against curl --parallel", md)
        self.assertNotIn("downloads saved on: ", md.split("## FIX")[1])  # no save.txt: no line
        self.assertNotIn("vs_curl", load_json_file(os.path.join(out, "FIX", "verdict.json")))

    def test_header_names_the_file_system(self):
        md, _ = self.report_md()
        self.assertIn("- downloads saved on: ext4 (`/b/bench-disk/FIX`)", md.split("## FIX")[1])


def load_json_file(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


if __name__ == "__main__":
    unittest.main()
