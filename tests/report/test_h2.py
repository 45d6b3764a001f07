#!/usr/bin/env python3
"""Fixture tests of issue 20's benchmark rules: a point is INVALID when
flagserver's counters (or a client's record) show a request over another
protocol than the scenario's, or more connections than the line's bound
(bench/lines.json); the HTTP/2 scenarios resolve with their lines and
"not run here" reasons; the "HTTP/1.1 against HTTP/2" table.

Each test starts from test_report.py's valid fixture turned into an h2c
scenario (flagserver --http2 --h2-max-streams 100; records and /stats with
the HTTP/2 counters), changes one thing and checks what the report concludes.
Run: python3 tests/report/test_h2.py -v
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_report import Base, SETTINGS, TIMES6, edit_json, make_out, points, write  # noqa: E402
from flagreport import api as report  # noqa: E402  (test_report put scripts/ on the path)
from flagreport import h2table, lines, scenarios  # noqa: E402

BENCH = os.path.join(HERE, "..", "..", "bench", "scenarios")
H2_SETTINGS = dict(SETTINGS, http2=True, h2_max_streams=100)


def to_h2(d, raw, proto="h2c"):
    """The fixture as an HTTP/2 scenario whose every point is valid: the
    pool opens m connections a run, the loop one (ceil(m / 100))."""
    edit_json(os.path.join(raw, "scenario.json"), lambda s: (
        s.update(protocol=proto, h2_max_streams=100),
        s["server"].update(http2=True, h2_max_streams=100)))
    edit_json(os.path.join(raw, "server-stats.json"), lambda st: st.update(settings=H2_SETTINGS))
    for name in os.listdir(raw):
        pdir = os.path.join(raw, name)
        if not os.path.isdir(pdir):
            continue
        line, m = name.rsplit("-m", 1)
        m = int(m)
        per_run = m if line == "threadpool" else 1
        with open(os.path.join(pdir, "hf-1.json"), encoding="utf-8") as f:
            runs = len(json.load(f)["results"][0]["times"]) + 1  # and the warmup
        edit_json(os.path.join(pdir, "stats-1.json"), lambda st: st.update(
            settings=H2_SETTINGS, requests_by_protocol={proto: 10 * runs},
            connections_by_protocol={proto: runs * per_run}, streams=10 * runs,
            peak_streams_per_connection=1 if line == "threadpool" else m))
        rp = os.path.join(pdir, "records.jsonl")
        if os.path.exists(rp):
            with open(rp, encoding="utf-8") as f:
                recs = [json.loads(x) for x in f]
            for r in recs:
                r.update(protocol=proto, connections=per_run, http2=True,
                         streams=1 if line == "threadpool" else m)
            write(rp, "".join(json.dumps(r) + "\n" for r in recs))


def rules(p):
    return [b["rule"] for b in p["broken"]]


class Rules(Base):
    def h2_points(self, mutate=None, proto="h2c"):
        def mut(d, raw):
            to_h2(d, raw, proto)
            if mutate:
                mutate(d, raw)
        return points(make_out(self.tmp, mut))[0]

    def assert_broken(self, pts, key, rule, words):
        p = pts[key]
        self.assertFalse(p["valid"], p)
        self.assertIn(rule, rules(p), p["broken"])
        self.assertTrue(any(words in b["reason"] for b in p["broken"] if b["rule"] == rule), p["broken"])
        others = {k: q["broken"] for k, q in pts.items() if k != key and q["broken"]}
        self.assertEqual(others, {})

    def test_h2_fixture_is_valid(self):
        pts = self.h2_points()
        self.assertEqual({k: p["broken"] for k, p in pts.items() if p["broken"]}, {})
        self.assertEqual(pts[("asyncloop", 4)]["server_connections"], 1)
        self.assertEqual(pts[("threadpool", 4)]["server_connections"], 4)
        self.assertEqual(pts[("curl", 4)]["connections"], 1)  # flagserver's count for curl
        self.assertEqual(pts[("asyncloop", 4)]["peak_streams_per_connection"], 4)

    def test_server_counted_a_request_over_another_protocol(self):
        pts = self.h2_points(lambda d, raw: edit_json(
            os.path.join(d("asyncloop", 4), "stats-1.json"),
            lambda st: st.update(requests_by_protocol={"h2c": 59, "http/1.1": 1})))
        self.assert_broken(pts, ("asyncloop", 4), "protocol", "another protocol than h2c in batch 1: 1 http/1.1")

    def test_a_record_says_another_protocol(self):
        # the server's counters agree with the scenario, the client does not
        def mut(d, raw):
            p = os.path.join(d("threadpool", 2), "records.jsonl")
            with open(p, encoding="utf-8") as f:
                recs = [json.loads(x) for x in f]
            recs[3]["protocol"] = "http/1.1"
            write(p, "".join(json.dumps(r) + "\n" for r in recs))
        self.assert_broken(self.h2_points(mut), ("threadpool", 2), "protocol",
                           "a client record says it spoke http/1.1, the scenario is h2c")

    def test_http2_scenario_needs_the_protocol_counters(self):
        pts = self.h2_points(lambda d, raw: edit_json(
            os.path.join(d("curl", 2), "stats-1.json"), lambda st: st.pop("requests_by_protocol")))
        self.assert_broken(pts, ("curl", 2), "protocol", "no requests_by_protocol")

    def test_http1_scenario_with_an_h2_request(self):
        pts, _ = points(make_out(self.tmp, lambda d, raw: edit_json(
            os.path.join(d("threadpool", 4), "stats-1.json"),
            lambda st: st.update(requests_by_protocol={"http/1.1": 50, "h2": 10}))))
        self.assert_broken(pts, ("threadpool", 4), "protocol", "10 h2")

    def test_http1_scenario_without_counters_is_valid(self):
        # an older flagserver (no requests_by_protocol) over HTTP/1.1: nothing to check
        pts, _ = points(make_out(self.tmp))
        self.assertTrue(all(p["valid"] for p in pts.values()))

    def test_loop_over_more_connections_than_its_cap(self):
        # ceil(4 / 100) = 1 connection a run; flagserver saw 2 a run
        pts = self.h2_points(lambda d, raw: edit_json(
            os.path.join(d("asyncloop", 4), "stats-1.json"),
            lambda st: st.update(connections_by_protocol={"h2c": 12})))
        self.assert_broken(pts, ("asyncloop", 4), "connections_bound",
                           "12 h2c connections in batch 1 (6 runs), more than the line's bound of 1 a run")

    def test_loop_record_over_its_cap(self):
        def mut(d, raw):
            p = os.path.join(d("asyncloop", 2), "records.jsonl")
            with open(p, encoding="utf-8") as f:
                recs = [json.loads(x) for x in f]
            recs[5]["connections"] = 2
            write(p, "".join(json.dumps(r) + "\n" for r in recs))
        self.assert_broken(self.h2_points(mut), ("asyncloop", 2), "connections_bound",
                           "a run opened 2 connections, more than the line's bound of 1")

    def test_pool_at_its_bound_is_valid_and_over_it_is_not(self):
        pts = self.h2_points(lambda d, raw: edit_json(
            os.path.join(d("threadpool", 2), "stats-1.json"),
            lambda st: st.update(connections_by_protocol={"h2c": 13})))
        self.assert_broken(pts, ("threadpool", 2), "connections_bound", "bound of 2 a run")

    def test_server_without_http2_for_an_h2_scenario(self):
        pts = self.h2_points(lambda d, raw: edit_json(
            os.path.join(d("asyncloop", 2), "stats-1.json"),
            lambda st: st.update(settings=dict(SETTINGS, http2=False))))
        self.assert_broken(pts, ("asyncloop", 2), "server_settings", "HTTP/2 off (scenario: on)")

    def test_server_with_another_stream_limit(self):
        pts = self.h2_points(lambda d, raw: edit_json(
            os.path.join(d("asyncloop", 2), "stats-1.json"),
            lambda st: st.update(settings=dict(H2_SETTINGS, h2_max_streams=1))))
        self.assert_broken(pts, ("asyncloop", 2), "server_settings", "h2_max_streams 1 (scenario: 100)")


class Lines(unittest.TestCase):
    def test_connection_bounds(self):
        self.assertEqual(lines.h2_conn_bound("threadpool", 500, 100), 500)
        self.assertEqual(lines.h2_conn_bound("asyncloop", 1000, 100), 10)
        self.assertEqual(lines.h2_conn_bound("asyncloop", 1001, 100), 11)
        self.assertEqual(lines.h2_conn_bound("asyncloop-x2", 10, 100), 2)
        self.assertEqual(lines.h2_conn_bound("asyncloop-multi16", 10000, 100), 16 * 7)
        self.assertEqual(lines.h2_conn_bound("h2load", 2000, 100), 20)
        self.assertIsNone(lines.h2_conn_bound("curl", 10, 100))

    def test_h2load_never_more_than_m_in_flight(self):
        for m in (1, 10, 99, 100, 101, 250, 1000, 2000, 9999, 10000):
            c, mm = lines.h2load_shape(m, 100)
            self.assertLessEqual(c * mm, m)
            self.assertLessEqual(mm, 100)
            self.assertEqual(c, -(-m // 100))

    def test_line_options_by_protocol(self):
        self.assertEqual(lines.line_args("curl-h2", "h2c"), "--http2-prior-knowledge")
        self.assertEqual(lines.line_args("asyncloop-x2", "h2"), "--loops 2 --http2")
        self.assertEqual(lines.line_args("asyncloop-x2", "http/1.1"), "--loops 2")

    def test_a_line_speaking_h2_needs_a_bound(self):
        with self.assertRaises(report.ReportError) as e:
            lines.check_http2({"id": "x", "protocols": ["h2"]}, "lines.json: line 1", "x")
        self.assertIn("needs h2_conn_bound", str(e.exception))
        with self.assertRaises(report.ReportError):
            lines.check_http2({"id": "x", "protocols": ["h3"]}, "lines.json: line 1", "x")


class Resolve(unittest.TestCase):
    def res(self, name, **kw):
        return scenarios.resolve(os.path.join(BENCH, name + ".json"), **kw)

    def by(self, s):
        return {(p["line"], p["m"]): p["not_run"] for p in s["points"]}

    def test_h2_lines_and_server(self):
        s = self.res("H2")
        self.assertEqual(s["protocol"], "h2")
        self.assertEqual(s["server_args"][-3:], ["--http2", "--h2-max-streams", "100"])
        pts = self.by(s)
        self.assertNotIn(("curl", 100), pts)  # curl --http2 measures HTTP/2
        self.assertIsNone(pts[("curl-h2", 100)])
        self.assertEqual(pts[("curl-h2", 500)], "curl's --parallel-max is limited to 300")
        self.assertIsNone(pts[("h2load", 1000)])
        self.assertEqual(pts[("py-threadpool", 10)], "requests has no HTTP/2")
        self.assertIn("--http2", scenarios.shell_assignments(s))

    def test_http1_scenarios_keep_their_lines(self):
        lines_of = {p["line"] for p in self.res("TLS")["points"]}
        self.assertIn("curl", lines_of)
        self.assertFalse(lines_of & {"curl-h2", "h2load"})
        self.assertNotIn("--http2", scenarios.server_args(self.res("TLS")["server"]))

    def test_h2c_runs_libcurl_lines_only_with_libcurl_8(self):
        old = self.by(self.res("H2C", libcurl_version="7.88.1"))
        self.assertIn("curl issue #10634", old[("asyncloop", 100)])
        self.assertIn("curl issue #10634", old[("curl-h2", 100)])
        self.assertIsNone(old[("h2load", 100)])  # no libcurl in h2load
        new = self.by(self.res("H2C", libcurl_version="8.14.1"))
        self.assertIsNone(new[("asyncloop", 100)])
        self.assertIsNone(self.by(self.res("H2C", libcurl8=True))[("threadpool", 100)])

    def test_every_http2_scenario_is_in_the_http2_set_with_a_quick_section(self):
        for name in ("H2", "H2-DELAY", "C10K-H2", "H2C"):
            s = self.res(name, quick=True)
            self.assertIn("http2", s["sets"], name)
            self.assertTrue(s["quick"])
        # The default run carries the structural case: H2-DELAY, where the
        # loop multiplexes and the pool opens a connection per transfer.
        self.assertIn("default", self.res("H2-DELAY")["sets"])

    def test_protocol_must_match_the_server(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "BAD.json")
            with open(os.path.join(BENCH, "H2.json"), encoding="utf-8") as f:
                doc = json.load(f)
            doc["server"]["http2"] = False
            write(p, json.dumps(doc))
            with self.assertRaises(report.ReportError) as e:
                scenarios.resolve(p)
            self.assertIn("wants a server with \"http2\": true", str(e.exception))
            doc["server"]["http2"] = True
            doc["protocol"] = "h2c"
            write(p, json.dumps(doc))
            with self.assertRaises(report.ReportError):
                scenarios.resolve(p)


class Table(Base):
    def two(self, h2_delay=100, times=TIMES6):
        """OUT with FIX (HTTP/1.1) and FIX2 (h2c, h1_peer FIX), 6 runs a
        point unless told."""
        out = make_out(self.tmp, times=times)
        src = os.path.join(out, "FIX")
        other = os.path.join(self.tmp, "o2")
        os.makedirs(other)

        def mut(d, raw):
            to_h2(d, raw)
            edit_json(os.path.join(raw, "scenario.json"), lambda s: (
                s.update(name="FIX2", h1_peer="FIX", delay_s=h2_delay / 1000),
                s["server"].update(delay_ms={"min": h2_delay, "max": h2_delay})))
            for name in os.listdir(raw):
                if name.startswith("asyncloop-m"):  # HTTP/2's loop: 1.5 times as fast (above the bound)
                    edit_json(os.path.join(raw, name, "hf-1.json"), lambda h: h["results"][0].update(
                        times=[t / 1.5 for t in h["results"][0]["times"]]))
        o2 = make_out(other, mut, times=times)
        os.rename(os.path.join(o2, "FIX"), os.path.join(out, "FIX2"))
        write(os.path.join(out, "scenarios.txt"), "FIX\nFIX2\n")
        self.assertTrue(os.path.isdir(src))
        return out

    def test_table_rows_with_the_significance_rule(self):
        out = self.two()
        text = h2table.h2_section(out, ["FIX", "FIX2"], resamples=200)
        self.assertIn("## HTTP/1.1 against HTTP/2", text)
        self.assertIn("### FIX2 against FIX", text)
        rows = [ln for ln in text.splitlines() if ln.startswith("| asyncloop |") or ln.startswith("| threadpool |")]
        self.assertEqual(len(rows), 4, text)  # two designs at two m
        loop4 = [ln for ln in rows if ln.startswith("| asyncloop | 4 |")][0]
        self.assertIn("HTTP/2 faster by 1.50×", loop4)
        self.assertIn("| 4 / 1 |", loop4)  # connections a run: HTTP/1.1 m, HTTP/2 one
        pool4 = [ln for ln in rows if ln.startswith("| threadpool | 4 |")][0]
        self.assertIn("no significant difference", pool4)

    def test_other_request_counts_compare_over_the_bound(self):
        """DELAY (676 requests) against H2-DELAY (4,056) at m = 500: 2 and 9
        rounds of 0.1 s. A pool equally close to its bound over both takes
        1.7x each bound; per request that would read "HTTP/2 faster by
        1.33x" (the rounding of the last round), over the bound it is no
        difference, and a loop 1.3x closer over HTTP/2 is 1.3x faster."""
        s1 = {"delay_s": 0.1, "requests": 676}
        s2 = {"delay_s": 0.1, "requests": 4056}
        spread = [0.98, 0.99, 1.0, 1.01, 1.02, 1.03]
        pts1 = [{"line": "threadpool", "m": 500, "valid": True, "ideal_s": 0.2, "times": [0.34 * f for f in spread]},
                {"line": "asyncloop", "m": 500, "valid": True, "ideal_s": 0.2, "times": [0.26 * f for f in spread]}]
        pts2 = [{"line": "threadpool", "m": 500, "valid": True, "ideal_s": 0.9,
                 "times": [1.53 * f for f in reversed(spread)]},
                {"line": "asyncloop", "m": 500, "valid": True, "ideal_s": 0.9,
                 "times": [0.9 * f for f in reversed(spread)]}]
        rows = {r["line"]: r for r in h2table.h2_rows(s1, pts1, s2, pts2, resamples=200)}
        self.assertIn("no significant difference", rows["threadpool"]["claim"])
        self.assertIn("HTTP/2 faster by 1.30×", rows["asyncloop"]["claim"])
        self.assertTrue(all(r["over_bound"] for r in rows.values()))
        # without a bound (no delay) the times per request compare
        for p in pts1 + pts2:
            p["ideal_s"] = None
        rows = {r["line"]: r for r in h2table.h2_rows(s1, pts1, s2, pts2, resamples=200)}
        self.assertIn("HTTP/2 faster by 1.33×", rows["threadpool"]["claim"])
        self.assertFalse(any(r["over_bound"] for r in rows.values()))

    def test_other_delays_are_not_compared(self):
        text = h2table.h2_section(self.two(h2_delay=1000), ["FIX", "FIX2"], resamples=200)
        self.assertIn("Not compared: the delays differ", text)
        self.assertNotIn("| asyncloop |", text)

    def test_no_section_without_an_http2_scenario(self):
        self.assertEqual(h2table.h2_section(make_out(self.tmp), ["FIX"], resamples=200), "")

    def test_report_md_holds_the_table(self):
        out = self.two()
        self.assertEqual(report.cmd_report(out), 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            self.assertIn("## HTTP/1.1 against HTTP/2", f.read())


if __name__ == "__main__":
    unittest.main()
