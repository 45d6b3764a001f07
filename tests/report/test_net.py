#!/usr/bin/env python3
"""Fixture tests of the networked scenarios in flagreport (issue 21): the
rules that make a point INVALID when the network lab's self-measurement
(raw/netlab.txt) is off its settings, the ideal bound with handshake round
trips, the report's set-against-measured lines, and the "net" and "sets"
keys of a scenario file.

Each test starts from test_report.py's valid fixture (two m, 10 requests a
run, a 100 ms delay), makes it a networked scenario with a lab that measured
as set, changes one measured figure, and checks the verdict on it.
Run: python3 tests/report/test_net.py -v
"""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_report import Base, edit_json, make_out, points, quiet, scenario, write  # noqa: E402
from flagreport import api as report  # noqa: E402  (test_report put scripts/ on the path)
from flagreport import net  # noqa: E402

ROOT = os.path.join(HERE, "..", "..")
NET = {"rtt_ms": 20, "jitter_ms": 2, "loss": 0.01, "rate_mbit": 10}
# What netlab.sh measure prints for NET on a lab that is as set.
LAB = {"set_rtt_ms": "20", "set_jitter_ms": "2", "set_loss_c2s": "0.01", "set_loss_s2c": "0.01",
       "set_rate_mbit": "10", "tcp_congestion_control": "bbr",
       "rtt_samples": "50", "rtt_median_ms": "20.4", "rtt_p10_ms": "19.0", "rtt_p90_ms": "22.1",
       "c2s_packets": "10000", "c2s_lost": "101", "c2s_loss_interval99": "75-127",
       "s2c_packets": "10000", "s2c_lost": "96", "s2c_loss_interval99": "75-127",
       "bulk_bytes": "6000000", "goodput_mbit": "9.55", "wire_mbit": "9.99",
       "delayer_c2s_cpu_ns_per_packet": "7500", "delayer_s2c_cpu_ns_per_packet": "8100",
       "delayer_c2s_late_us_mean": "210", "delayer_s2c_late_us_mean": "190"}


def net_out(tmp, lab=None, net_settings=None, **scen):
    """The fixture made a networked scenario; LAB's changes written into
    raw/netlab.txt (lab=False: no netlab.txt at all)."""
    def mut(d, raw):
        edit_json(os.path.join(raw, "scenario.json"),
                  lambda s: s.update(dict(scen, net=dict(NET, **(net_settings or {})))))
        if lab is not False:
            kv = dict(LAB, **(lab or {}))
            write(os.path.join(raw, "netlab.txt"), "".join("%s=%s\n" % (k, v) for k, v in kv.items()))
    return make_out(tmp, mut)


def broken(p, rule="net_lab_as_set"):
    return [b["reason"] for b in p["broken"] if b["rule"] == rule]


class LabRules(Base):
    """A point is INVALID when the lab measured before its scenario was not
    the network the scenario set."""

    def assert_all(self, out, invalid, words=""):
        pts, _ = points(out)
        for key, p in pts.items():
            if invalid:
                self.assertFalse(p["valid"], key)
                self.assertTrue(broken(p), p["broken"])
                self.assertTrue(any(words in r for r in broken(p)), broken(p))
            else:
                self.assertEqual(p["broken"], [], key)
                self.assertTrue(p["valid"], key)
        return pts

    def test_lab_as_set_breaks_no_rule(self):
        self.assert_all(net_out(self.tmp), invalid=False)

    def test_rtt_within_2_ms_holds(self):
        # 10% of 20 ms is 2 ms: the larger allowance, 2 ms, holds
        self.assert_all(net_out(self.tmp, {"rtt_median_ms": "21.9"}), invalid=False)

    def test_rtt_off_by_more_than_2_ms_at_20(self):
        self.assert_all(net_out(self.tmp, {"rtt_median_ms": "22.5"}), invalid=True, words="round trip 22.5 ms")

    def test_rtt_off_by_more_than_10_percent_at_200(self):
        out = net_out(self.tmp, {"rtt_median_ms": "178"}, {"rtt_ms": 200})
        self.assert_all(out, invalid=True, words="off the setting 200 ms by more than 20 ms")

    def test_rtt_within_10_percent_at_200(self):
        self.assert_all(net_out(self.tmp, {"rtt_median_ms": "219"}, {"rtt_ms": 200}), invalid=False)

    def test_loss_above_its_interval(self):
        # 1% of 10,000: the 99% interval is 75-127
        self.assert_all(net_out(self.tmp, {"s2c_lost": "140"}), invalid=True,
                        words="lost 140 of 10000 datagrams server to client, outside the 99% interval 75–127")

    def test_loss_below_its_interval(self):
        self.assert_all(net_out(self.tmp, {"c2s_lost": "0"}), invalid=True, words="client to server")

    def test_loss_where_none_was_set(self):
        self.assert_all(net_out(self.tmp, {"c2s_lost": "1"}, {"loss": 0}), invalid=True,
                        words="outside the 99% interval 0–0")

    def test_rate_off_by_more_than_10_percent(self):
        self.assert_all(net_out(self.tmp, {"wire_mbit": "8.9"}), invalid=True, words="rate 8.9 Mbit/s")
        self.assert_all(net_out(self.tmp, {"wire_mbit": "11.2"}), invalid=True, words="rate 11.2 Mbit/s")

    def test_rate_within_10_percent_holds(self):
        self.assert_all(net_out(self.tmp, {"wire_mbit": "9.1"}), invalid=False)

    def test_no_rate_set_needs_no_wire_rate(self):
        out = net_out(self.tmp, {"wire_mbit": "nan"}, {"rate_mbit": 0})
        self.assert_all(out, invalid=False)

    def test_congestion_control_as_set_holds(self):
        out = net_out(self.tmp, {"tcp_congestion_control": "reno", "tcp_congestion_control_server": "reno"},
                      {"cc": "reno"})
        self.assert_all(out, invalid=False)

    def test_congestion_control_not_as_set(self):
        # the server's namespace kept the host's bbr
        out = net_out(self.tmp, {"tcp_congestion_control": "reno", "tcp_congestion_control_server": "bbr"},
                      {"cc": "reno"})
        self.assert_all(out, invalid=True, words="server namespace ran congestion control bbr, not the setting reno")
        out = net_out(self.tmp, {}, {"cc": "reno"})  # not read back at all
        self.assert_all(out, invalid=True, words="client namespace ran congestion control bbr")

    def test_unmeasured_lab_is_invalid(self):
        self.assert_all(net_out(self.tmp, lab=False), invalid=True, words="not measured (no raw/netlab.txt)")

    def test_missing_measurement_is_invalid(self):
        self.assert_all(net_out(self.tmp, {"rtt_median_ms": ""}), invalid=True, words="round trip was not measured")
        self.assert_all(net_out(self.tmp, {"s2c_packets": "x"}), invalid=True, words="loss server to client")

    def test_loopback_scenario_ignores_a_stray_netlab_txt(self):
        def mut(d, raw):
            write(os.path.join(raw, "netlab.txt"), "rtt_median_ms=999\n")
        pts, _ = points(make_out(self.tmp, mut))
        self.assertEqual({k: p["broken"] for k, p in pts.items() if p["broken"]}, {})

    def test_interval_agrees_with_the_labs(self):
        # netlab/measure.py computes the interval netlab.sh prints; the
        # report computes its own: they must agree
        for n, p in ((10000, 0.01), (10000, 0.001), (10000, 0.0), (2000, 0.2)):
            got = subprocess.run([sys.executable, os.path.join(ROOT, "netlab", "measure.py"), "interval",
                                  str(n), repr(p), "0.99"], capture_output=True, text=True, check=True)
            self.assertEqual(tuple(int(x) for x in got.stdout.split()), net.binomial_interval(n, p), (n, p))


class IdealBound(Base):
    """The ideal bound of a networked scenario pays the handshakes' round
    trips (docs/netlab.md): N = 10 requests, R = 20 ms, D = 100 ms."""

    def s(self, **kw):
        s = dict(scenario(), net=dict(NET, rate_mbit=0))
        s.update(kw)
        return s

    def test_keep_alive(self):
        # one TCP round trip, then ceil(10 / 4) = 3 rounds of R + D
        self.assertAlmostEqual(net.ideal_s(self.s(), 4), 0.02 + 3 * 0.12)

    def test_keep_alive_tls(self):
        self.assertAlmostEqual(net.ideal_s(self.s(tls=True), 4), 2 * 0.02 + 3 * 0.12)

    def test_http2_is_keep_alive(self):
        self.assertAlmostEqual(net.ideal_s(self.s(tls=True, http2=True), 4), 2 * 0.02 + 3 * 0.12)

    def test_fresh_connection_tls(self):
        # every request: TCP, TLS 1.3, the request's own round trip, the delay
        self.assertAlmostEqual(net.ideal_s(self.s(tls=True, fresh_connect=True), 4), 3 * (3 * 0.02 + 0.1))

    def test_fresh_connection_plain(self):
        self.assertAlmostEqual(net.ideal_s(self.s(fresh_connect=True), 10), 2 * 0.02 + 0.1)

    def test_rate_bounds_the_bytes(self):
        # 1,250,000 bytes at 10 Mbit/s take 1 s, more than the round trips;
        # none of them leaves before the handshake, a round trip and the delay
        s = self.s(net=dict(NET), _expect_bytes=1250000)
        self.assertAlmostEqual(net.ideal_s(s, 10), 2 * 0.02 + 0.1 + 1.0)
        s["_expect_bytes"] = 1000  # and less than three rounds of them
        self.assertAlmostEqual(net.ideal_s(s, 4), 0.02 + 3 * 0.12)

    def test_bytes_after_tls_round_trip(self):
        # over TLS the first byte waits one more round trip, with a new
        # connection per request as with keep-alive
        for kw in ({}, {"fresh_connect": True}):
            s = self.s(net=dict(NET), _expect_bytes=1250000, tls=True, **kw)
            self.assertAlmostEqual(net.ideal_s(s, 10), 3 * 0.02 + 0.1 + 1.0, msg=kw)

    def test_bytes_term_at_least_the_single_request(self):
        # at m >= N the bytes term is the lone request's path plus the
        # transmission: never below the round-trip term, whatever B
        for b in (1, 1000, 10 ** 6):
            s = self.s(net=dict(NET), _expect_bytes=b)
            self.assertGreaterEqual(net.ideal_s(s, 10), 0.02 + 0.12)
            self.assertAlmostEqual(net.ideal_s(s, 10), 2 * 0.02 + 0.1 + 8 * b / 10e6)

    def test_loopback_unchanged(self):
        self.assertAlmostEqual(net.ideal_s(scenario(), 4), 0.3)
        self.assertIsNone(net.ideal_s(dict(scenario(), delay_s=0), 4))

    def test_points_efficiency_uses_it(self):
        pts, _ = points(net_out(self.tmp, net_settings={"rate_mbit": 0}))
        p = pts[("asyncloop", 4)]
        self.assertAlmostEqual(p["ideal_s"], 0.02 + 3 * 0.12)
        self.assertAlmostEqual(p["efficiency"], (0.02 + 3 * 0.12) / p["elapsed"]["median"])

    def test_plot_draws_it(self):
        out = net_out(self.tmp, net_settings={"rate_mbit": 0})
        self.assertEqual(quiet(report.cmd_report, out)[0], 0)
        with open(os.path.join(out, "FIX", "ideal.dat"), encoding="utf-8") as f:
            rows = dict(line.split() for line in f)
        self.assertAlmostEqual(float(rows["4"]), 0.38)
        self.assertAlmostEqual(float(rows["6"]), 0.02 + 2 * 0.12)


class Report(Base):
    def test_set_against_measured_and_the_delayers_cost(self):
        out = net_out(self.tmp, {"rtt_median_ms": "25"})
        self.assertEqual(quiet(report.cmd_report, out)[0], 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("- network lab: set RTT 20 ms, jitter ±2 ms, loss 0.01 each way, rate 10 Mbit/s, "
                      "congestion control the host's\n", md)
        self.assertIn("RTT median 25 ms (p10 19, p90 22.1, 50 connects); lost 101 of 10000 client→server", md)
        self.assertIn("wire rate 9.99 Mbit/s (payload 9.55)", md)
        self.assertIn("7.5 µs CPU per packet client→server, 8.1 server→client", md)
        self.assertIn("- the lab as set: NO (the lab's measured round trip 25 ms", md)
        self.assertIn("- ideal bound: max((1 + 0) × 0.02 s + ceil(N / m) × (0.02 s + 0.1 s)", md)
        self.assertIn("; (2 + 0) × 0.02 s + 0.1 s + 8 × B / 10 Mbit/s: no response byte before a handshake, "
                      "a round trip and the delay, then all of them through the bottleneck)\n", md)


    def test_where_the_bottleneck_sits(self):
        for at, words in (("receiver", "rate 10 Mbit/s (its queue on the receiver's way in: a drop is a loss "
                                       "to TCP), congestion control"),
                          ("sender", "rate 10 Mbit/s (its queue on the sender's way out, where TCP takes a drop "
                                     "for local congestion: no ifb driver here), congestion control"),
                          (None, "rate 10 Mbit/s, congestion control")):
            out = net_out(os.path.join(self.tmp, str(at)), {"rate_at": at} if at else None)
            self.assertEqual(quiet(report.cmd_report, out)[0], 0)
            with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
                self.assertIn(words, f.read(), at)

    def test_what_the_network_changed(self):
        out = net_out(self.tmp, net_settings={"rate_mbit": 0})
        self.assertEqual(quiet(report.cmd_report, out)[0], 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("What the network changed: over loopback the ideal bound at m = 4 is 0.3 s (ceil(N / m) "
                      "× the delay); a 20 ms round trip, ±2 ms of jitter, 1% loss each way raises it to 0.38 s "
                      "(the handshakes' and each request's round trips), and there threadpool reached 54% of it "
                      "(0.71 s), asyncloop 75% (0.51 s).", md)

    def test_no_valid_point_no_claim(self):
        out = net_out(self.tmp, {"rtt_median_ms": "40"})
        self.assertEqual(quiet(report.cmd_report, out)[0], 0)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            self.assertIn("no m has a valid point of both designs, so nothing can be said of it", f.read())


class Resolve(Base):
    def scen(self, **kw):
        with open(os.path.join(ROOT, "bench", "scenarios", "WAN.json"), encoding="utf-8") as f:
            d = json.load(f)
        d.update(kw)
        path = os.path.join(self.tmp, "X.json")
        write(path, json.dumps(d))
        return path

    def test_net_scenarios_resolve(self):
        for name in ("WAN", "WAN-FRESH", "LOSSY", "LOSSY-H2", "THIN"):
            for quick in (False, True):
                s = report.resolve(os.path.join(ROOT, "bench", "scenarios", name + ".json"), quick=quick)
                self.assertIn("net", s["sets"], name)
                self.assertTrue(s["net"]["rtt_ms"] > 0, name)

    def test_shell_gets_the_lab_settings(self):
        sh = report.shell_assignments(report.resolve(self.scen()))
        self.assertIn("NET=1\n", sh)
        self.assertIn("NET_ARGS=(--rtt 50 --jitter 5 --loss 0 --rate 100)\n", sh)
        with open(os.path.join(ROOT, "bench", "scenarios", "WAN.json"), encoding="utf-8") as f:
            net = dict(json.load(f)["net"], cc="reno")
        sh = report.shell_assignments(report.resolve(self.scen(net=net)))
        self.assertIn("NET_ARGS=(--rtt 50 --jitter 5 --loss 0 --rate 100 --cc reno)\n", sh)
        sh = report.shell_assignments(report.resolve(os.path.join(ROOT, "bench", "scenarios", "DELAY.json")))
        self.assertIn("NET=0\n", sh)
        self.assertIn("NET_ARGS=()\n", sh)

    def test_http2_scenario(self):
        s = report.resolve(os.path.join(ROOT, "bench", "scenarios", "LOSSY-H2.json"))
        self.assertIn("--http2", s["server_args"])
        sh = report.shell_assignments(s)
        self.assertIn("PROTOCOL=h2\n", sh)
        self.assertIn("[asyncloop]=--http2 ", sh)
        why = {p["not_run"] for p in s["points"] if p["line"] == "py-threadpool"}
        self.assertEqual(why, {"requests has no HTTP/2"})

    def test_bad_net_settings(self):
        for net_bad, words in (({"rtt": 50}, "unknown \"net\" key 'rtt'"),
                               ({"loss": 2}, "loss must be a number from 0 to 1"),
                               ({"rtt_ms": "50"}, "rtt_ms must be a number"),
                               ({"rate_mbit": True}, "rate_mbit must be a number"),
                               ({"rtt_ms": 50, "cc": "Reno;"}, "cc must be a congestion control's name"),
                               ({"rtt_ms": 50, "cc": 1}, "cc must be a congestion control's name"),
                               ([50], "\"net\" must be an object")):
            with self.assertRaises(report.ReportError) as e:
                report.resolve(self.scen(net=net_bad))
            self.assertIn(words, str(e.exception))

    def test_sets(self):
        self.assertEqual(report.resolve(self.scen(sets=["net", "default"]))["sets"], ["net", "default"])
        for bad in ("net", [1], ["a b"], []):
            with self.assertRaises(report.ReportError) as e:
                report.resolve(self.scen(sets=bad))
            self.assertIn("sets must be a non-empty list of short names", str(e.exception))

    def test_http2_setting_checked_against_stats(self):
        s = report.resolve(os.path.join(ROOT, "bench", "scenarios", "LOSSY-H2.json"))
        st = {"settings": {"delay_ms": {"min": 20, "max": 20}, "error_rate": 0, "tls": True,
                           "tls_resume": True, "http2": False}}
        self.assertIn("HTTP/2 off (scenario: on)", report.settings_mismatch(s, st))
        st["settings"].update(http2=True, h2_max_streams=100)
        self.assertIsNone(report.settings_mismatch(s, st))


if __name__ == "__main__":
    unittest.main()
