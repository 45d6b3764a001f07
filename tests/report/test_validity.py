#!/usr/bin/env python3
"""Fixture tests of flagreport's validity rules against a lying server
(issue 19, case 4) and of every number read and every damaged file (case 7).

Each test starts from test_report.py's valid fixture (two m, 10 requests a
run, a 100 ms delay), changes what a lying server or a damaged file would,
and checks that the point is INVALID naming the rule it broke, or that the
program stops with one line naming the file and exit status 1.
Run: python3 tests/report/test_validity.py -v
"""
import json
import math
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_report import Base, edit_json, make_out, points, record, write  # noqa: E402
from flagreport import api as report  # noqa: E402  (test_report put scripts/ on the path)

REPORT_PY = os.path.join(HERE, "..", "..", "scripts", "report.py")


def rules(p):
    return [b["rule"] for b in p["broken"]]


def write_records(path, recs):
    write(path, "".join(json.dumps(r) + "\n" for r in recs))


def recs_of(m, **kw):
    """The fixture's six records (one warmup) with fields changed."""
    return [dict(record(m), cpu_user_s=0.01 * i, **kw) for i in range(6)]


class LyingServer(Base):
    """Case 4: a server that claims the scenario's settings and counts
    requests correctly, but answers at once with small 200s."""

    def check_rule(self, mutate, key, rule, words=""):
        pts, _ = points(make_out(self.tmp, mutate))
        p = pts[key]
        self.assertFalse(p["valid"], p)
        self.assertIn(rule, rules(p), p["broken"])
        if words:
            self.assertTrue(any(words in b["reason"] for b in p["broken"] if b["rule"] == rule),
                            p["broken"])
        return pts

    def test_base_fixture_breaks_no_rule(self):
        pts, _ = points(make_out(self.tmp))
        self.assertEqual({k: p["broken"] for k, p in pts.items() if p["broken"]}, {})

    def test_faster_than_the_ideal_bound(self):
        # m = 2, 10 requests of 100 ms: at least ceil(10 / 2) x 0.1 = 0.5 s
        def mut(d, raw):
            edit_json(os.path.join(d("asyncloop", 2), "hf-1.json"),
                      lambda h: h["results"][0].update(times=[0.03, 0.031, 0.032, 0.03, 0.03]))
        pts = self.check_rule(mut, ("asyncloop", 2), "not_faster_than_ideal",
                              "below the ideal bound 0.500 s")
        self.assertTrue(all(p["valid"] for k, p in pts.items() if k != ("asyncloop", 2)))

    def test_at_the_bound_within_tolerance_is_valid(self):
        # 1% below the bound: the stated tolerance (2%) lets it pass
        def mut(d, raw):
            edit_json(os.path.join(d("threadpool", 2), "hf-1.json"),
                      lambda h: h["results"][0].update(times=[0.495, 0.5, 0.51, 0.52, 0.53]))
        pts, _ = points(make_out(self.tmp, mut))
        self.assertTrue(pts[("threadpool", 2)]["valid"], pts[("threadpool", 2)]["broken"])
        self.assertEqual(report.BOUND_TOLERANCE, 0.02)

    def test_peak_in_flight_cannot_explain_the_time(self):
        # m = 4 runs in 0.7-0.73 s: fine for 4 in flight (0.3 s), impossible
        # for a peak of 1 (10 x 0.1 s = 1 s)
        def mut(d, raw):
            edit_json(os.path.join(d("threadpool", 4), "stats-1.json"),
                      lambda s: s.update(peak_in_flight=1))
        pts = self.check_rule(mut, ("threadpool", 4), "peak_explains_elapsed",
                              "peak_in_flight 1 cannot explain a run of 0.700 s")
        self.assertEqual(rules(pts[("threadpool", 4)]), ["peak_explains_elapsed"])

    def test_ok_not_found_split_of_the_codes(self):
        # every code answered 200: 10 / 0 where the codes imply 7 / 3
        def mut(d, raw):
            write_records(os.path.join(d("asyncloop", 4), "records.jsonl"), recs_of(4, ok=10, not_found=0))
        pts = self.check_rule(mut, ("asyncloop", 4), "ok_not_found_split",
                              "10 ok / 0 not found, the codes and the dataset imply 7 / 3")
        self.assertEqual(rules(pts[("asyncloop", 4)]), ["ok_not_found_split"])

    def test_ok_not_found_split_counted_by_the_server_for_curl(self):
        def mut(d, raw):
            edit_json(os.path.join(d("curl", 2), "stats-1.json"),
                      lambda s: s.update(by_status={"200": 60}))
        self.check_rule(mut, ("curl", 2), "ok_not_found_split", "batch 1 (flagserver)")

    def test_split_of_a_real_codeset_from_the_dataset(self):
        # -e: the 676 codes AA..ZZ; data/country_codes.txt holds 194 flags
        self.assertEqual(report.expected_split("e", 1), (194, 482))
        self.assertEqual(report.expected_split("a", 2), (388, 0))

    def test_bytes_less_than_the_dataset_holds(self):
        def manifest(d, raw):
            # 7 flags of 14 bytes: a run of the fixture's codes holds 98 bytes
            codes = report.scenario_codes("a")[:7]
            write(os.path.join(raw, "dataset.json"), json.dumps({"sizes": {c: 14 for c in codes}}))

        pts, _ = points(make_out(self.tmp, manifest))
        self.assertTrue(all(p["valid"] for p in pts.values()))  # 100 bytes >= 98

        def mut(d, raw):
            manifest(d, raw)
            write_records(os.path.join(d("threadpool", 2), "records.jsonl"), recs_of(2, bytes=64))
        self.check_rule(mut, ("threadpool", 2), "bytes_match_dataset",
                        "run 1 received 64 bytes, less than the 98")

    def test_the_lie_of_issue_19_names_every_rule(self):
        # at once, 200 for every code, 64 bytes each, one in flight
        def mut(d, raw):
            codes = report.scenario_codes("a")[:7]
            write(os.path.join(raw, "dataset.json"), json.dumps({"sizes": {c: 14 for c in codes}}))
            for line in ("threadpool", "asyncloop"):
                edit_json(os.path.join(d(line, 4), "hf-1.json"),
                          lambda h: h["results"][0].update(times=[0.012, 0.011, 0.013, 0.012, 0.012]))
                edit_json(os.path.join(d(line, 4), "stats-1.json"),
                          lambda s: s.update(peak_in_flight=1, by_status={"200": 60}))
                write_records(os.path.join(d(line, 4), "records.jsonl"),
                              recs_of(4, ok=10, not_found=0, bytes=640))
        out = make_out(self.tmp, mut)
        pts, _ = points(out)
        for line in ("threadpool", "asyncloop"):
            self.assertEqual(set(rules(pts[(line, 4)])),
                             {"not_faster_than_ideal", "peak_explains_elapsed", "ok_not_found_split"})
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("[not_faster_than_ideal]", md)
        self.assertIn("[peak_explains_elapsed]", md)
        self.assertIn("**2 point(s) INVALID**", md)
        self.assertNotIn("asyncloop faster", md)
        line = report.cmd_point_line(os.path.join(out, "FIX", "raw"), "asyncloop", 4)
        self.assertIn("INVALID", line)
        self.assertIn("[ok_not_found_split]", line)

    def test_committed_results_break_no_rule(self):
        # every rule holds for the real measurements of results/
        res = os.path.join(report.ROOT, "results")
        for name in report.scenario_names(res):
            _, pts, _ = report.load_scenario_points(os.path.join(res, name))
            new = [(p["line"], p["m"], p["broken"]) for p in pts
                   if any(b["rule"] in ("not_faster_than_ideal", "peak_explains_elapsed",
                                        "ok_not_found_split", "bytes_match_dataset",
                                        "numbers_in_range") for b in p["broken"])]
            self.assertEqual(new, [], name)


class BadNumbers(Base):
    """Case 7: a value out of its range makes its point INVALID, naming it;
    nothing is computed from it."""

    def bad(self, mutate, key, words):
        out = make_out(self.tmp, mutate)
        pts, _ = points(out)
        p = pts[key]
        self.assertFalse(p["valid"])
        self.assertEqual(set(rules(p)), {"numbers_in_range"}, p["broken"])
        self.assertTrue(any(words in r for r in p["reasons"]), p["reasons"])
        for k in ("requests_per_s", "efficiency", "rss_kb", "cpu_user_per_1k", "latency_ms"):
            self.assertIsNone(p[k], k)
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        # the bad value shows only where the status names it
        rest = "\n".join(l for l in md.splitlines() if "**INVALID**" not in l)
        self.assertNotIn("nan", rest.lower())
        return rest

    def times(self, line, m, ts):
        def mut(d, raw):
            edit_json(os.path.join(d(line, m), "hf-1.json"), lambda h: h["results"][0].update(times=ts))
        return mut

    def test_negative_elapsed_times(self):
        md = self.bad(self.times("asyncloop", 2, [-0.74, -0.75, -0.76, -0.74, -0.75]), ("asyncloop", 2),
                      "hf-1.json: run time -0.74 is outside (0, 300] (s)")
        self.assertNotIn("-95%", md)
        self.assertNotIn("lower by -", md)

    def test_one_nan_time(self):
        self.bad(self.times("threadpool", 4, [0.7, math.nan, 0.72, 0.705, 0.73]), ("threadpool", 4),
                 "run time nan is not a finite number")

    def test_a_time_of_1e308(self):
        md = self.bad(self.times("asyncloop", 4, [1e308, 0.51, 0.52, 0.505, 0.515]), ("asyncloop", 4),
                      "run time 1e+308 is outside (0, 300]")
        self.assertNotIn("0" * 30, md)

    def test_nan_rss_in_a_record(self):
        def mut(d, raw):
            recs = recs_of(2)
            recs[3]["max_rss_kb"] = math.nan
            write_records(os.path.join(d("threadpool", 2), "records.jsonl"), recs)
        self.bad(mut, ("threadpool", 2), "records.jsonl run 4: max_rss_kb nan is not a finite number")

    def test_negative_cpu_in_a_record(self):
        def mut(d, raw):
            write_records(os.path.join(d("asyncloop", 2), "records.jsonl"), recs_of(2, cpu_sys_s=-7.396))
        md = self.bad(mut, ("asyncloop", 2), "cpu_sys_s -7.396 is outside [0,")
        self.assertNotIn("-7.396 |", md)

    def test_a_count_that_is_not_an_integer(self):
        def mut(d, raw):
            write_records(os.path.join(d("asyncloop", 4), "records.jsonl"), recs_of(4, ok="7"))
        self.bad(mut, ("asyncloop", 4), "ok '7' is not an integer")

    def test_a_record_that_is_not_an_object(self):
        def mut(d, raw):
            write(os.path.join(d("asyncloop", 4), "records.jsonl"), "[1, 2]\n" * 6)
        self.bad(mut, ("asyncloop", 4), "records.jsonl run 1: not a JSON object")

    def test_negative_server_counter(self):
        def mut(d, raw):
            edit_json(os.path.join(d("curl", 4), "stats-1.json"), lambda s: s.update(peak_in_flight=-3))
        self.bad(mut, ("curl", 4), "stats-1.json: peak_in_flight -3 is outside [0,")

    def test_negative_latency(self):
        def mut(d, raw):
            lat = ["1000.000"] * 10 + ["-5"] + ["2.0"] * 49
            write(os.path.join(d("threadpool", 4), "latencies.txt"), "\n".join(lat) + "\n")
        self.bad(mut, ("threadpool", 4), "latencies.txt: latency -5.0 ms on line 11")


class DamagedInput(Base):
    """Case 7: a file that is not what bench.sh writes stops the report with
    one line naming it, exit 1, never a traceback."""

    def run_report(self, out, *args):
        r = subprocess.run([sys.executable, REPORT_PY] + list(args or ["report", out]),
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr

    def damaged(self, mutate, file_words, *args):
        out = make_out(self.tmp, mutate)
        rc, so, se = self.run_report(out, *args)
        self.assertEqual(rc, 1, se)
        self.assertNotIn("Traceback", se)
        self.assertEqual(len(se.strip().splitlines()), 1, se)
        self.assertTrue(se.startswith("report.py: "), se)
        self.assertIn(file_words, se)
        return se

    def test_truncated_latencies_gz(self):
        import gzip

        def mut(d, raw):
            p = os.path.join(d("asyncloop", 2), "latencies.txt")
            with open(p, "rb") as f, gzip.open(p + ".gz", "wb") as g:
                g.write(f.read() * 50)
            os.remove(p)
            with open(p + ".gz", "r+b") as f:
                f.truncate(os.path.getsize(p + ".gz") // 2)
        self.damaged(mut, "asyncloop-m2/latencies.txt.gz does not read")

    def test_latencies_with_a_word(self):
        def mut(d, raw):
            write(os.path.join(d("asyncloop", 2), "latencies.txt"), "1.0\nfast\n")
        self.damaged(mut, "asyncloop-m2/latencies.txt is malformed")

    def test_stats_saved_as_a_json_list(self):
        def mut(d, raw):
            write(os.path.join(d("threadpool", 4), "stats-1.json"), "[1, 2, 3]")
        self.damaged(mut, "threadpool-m4/stats-1.json is not flagserver's /stats: a JSON list")

    def test_server_stats_saved_as_a_json_list(self):
        def mut(d, raw):
            write(os.path.join(raw, "server-stats.json"), "[]")
        self.damaged(mut, "raw/server-stats.json is not flagserver's /stats")

    def test_malformed_facts(self):
        def mut(d, raw):
            write(os.path.join(d("curl", 2), "facts.txt"), "batch one rc 0 timed_out 0 runs 5 warmup 1\n")
        self.damaged(mut, "curl-m2/facts.txt line 1 is malformed")

    def test_facts_with_a_dangling_key(self):
        def mut(d, raw):
            write(os.path.join(d("curl", 2), "facts.txt"), "batch 1 rc 0 timed_out\n")
        self.damaged(mut, "curl-m2/facts.txt line 1 is malformed")

    def test_hyperfine_json_of_another_shape(self):
        def mut(d, raw):
            write(os.path.join(d("threadpool", 2), "hf-1.json"), '{"results": 3}')
        self.damaged(mut, "threadpool-m2/hf-1.json is not hyperfine's --export-json")

    def test_meta_json_a_list(self):
        def mut(d, raw):
            write(os.path.join(os.path.dirname(os.path.dirname(raw)), "meta.json"), "[]")
        self.damaged(mut, "meta.json is not a JSON object")

    def test_damaged_dataset_manifest(self):
        def mut(d, raw):
            write(os.path.join(raw, "dataset.json"), '{"sizes": {"AD": -1}}')
        self.damaged(mut, "raw/dataset.json is not a dataset manifest")

    def test_scenario_json_of_another_shape(self):
        def mut(d, raw):
            edit_json(os.path.join(raw, "scenario.json"), lambda s: s.update(points=3))
        self.damaged(mut, "raw/scenario.json is not a resolved scenario: points")

    def test_point_line_on_damaged_facts(self):
        def mut(d, raw):
            write(os.path.join(d("curl", 2), "facts.txt"), "batch 1 rc x\n")
        out = os.path.join(self.tmp, "out")
        self.damaged(mut, "facts.txt line 1 is malformed", "point-line",
                     os.path.join(out, "FIX", "raw"), "curl", "2")

    def test_damaged_lines_file(self):
        bad = os.path.join(self.tmp, "lines.json")
        for text, words in (("{", "is not JSON"), ('{"lines": []}', "must be a non-empty list"),
                            ('{"lines": [{"id": "a b", "kind": "design"}]}', "id must be"),
                            ('{"lines": [{"id": "x", "kind": "design", "program": "rust", '
                             '"scenarios": "all"}]}', "program must be one of")):
            write(bad, text)
            with self.assertRaises(report.ReportError) as cm:
                report.load_lines(bad)
            self.assertIn(words, str(cm.exception))

    def test_dataset_manifest_of_a_folder(self):
        ds = os.path.join(self.tmp, "ds")
        write(os.path.join(ds, "flags", "ad", "ad.gif"), "GIF89a" + "x" * 100)
        write(os.path.join(ds, "flags", "br", "br.gif"), "GIF89a" + "x" * 10)
        outf = os.path.join(self.tmp, "dataset.json")
        r = subprocess.run([sys.executable, REPORT_PY, "dataset", ds, "--out", outf],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(outf, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["sizes"], {"AD": 106, "BR": 16})
        rc, _, se = self.run_report(None, "dataset", os.path.join(self.tmp, "none"), "--out", outf)
        self.assertEqual(rc, 1)
        self.assertIn("holds no flags", se)


if __name__ == "__main__":
    unittest.main()
