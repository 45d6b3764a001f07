#!/usr/bin/env python3
"""Fixture tests of the "HTTP/1.1 against HTTP/2 under loss" section (issue
21): LOSSY and LOSSY-H2 paired by design and m, which protocol is faster per
design by the rule of every claim (Mann-Whitney, the ratio, room), one line
when only one of the two ran or one was not run here, and the verdicts in
verdicts.json for `report.py compare`.

Each test builds an OUT with FIX (HTTP/1.1) and FIX2 (HTTP/2, "h1_peer" FIX)
from test_report.py's valid fixture, both over the same lossy lab measured
as set, with HTTP/2 making asyncloop 1.25 times as fast and threadpool 1.2
times as slow, and checks what the report concludes.
Run: python3 tests/report/test_lossy.py -v
"""
import json
import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_report import TIMES, TIMES6, Base, edit_json, make_out, quiet, write  # noqa: E402
from test_h2 import to_h2  # noqa: E402
from test_net import LAB, NET  # noqa: E402
from flagreport import api as report  # noqa: E402  (test_report put scripts/ on the path)
from flagreport import h2table, lossy  # noqa: E402

BENCH = os.path.join(HERE, "..", "..", "bench", "scenarios")
SPEED = {"asyncloop": 1 / 1.25, "threadpool": 1.2}  # HTTP/2's time over HTTP/1.1's


def lossy_out(tmp, times=TIMES6, speed=None, net2=None, which=("FIX", "FIX2")):
    """OUT with FIX (HTTP/1.1) and FIX2 (h2c, h1_peer FIX) over the lab NET
    (FIX2 over NET changed by NET2), the runs of FIX2 FIX's times SPEED[line]."""
    speed = SPEED if speed is None else speed

    def lab(raw):
        write(os.path.join(raw, "netlab.txt"), "".join("%s=%s\n" % kv for kv in LAB.items()))

    def mut1(d, raw):
        edit_json(os.path.join(raw, "scenario.json"), lambda s: s.update(net=dict(NET)))
        lab(raw)

    def mut2(d, raw):
        to_h2(d, raw)
        edit_json(os.path.join(raw, "scenario.json"), lambda s: s.update(
            name="FIX2", h1_peer="FIX", net=dict(NET, **(net2 or {}))))
        lab(raw)
        for name in os.listdir(raw):
            line = name.rsplit("-m", 1)[0]
            if line in speed:
                edit_json(os.path.join(raw, name, "hf-1.json"), lambda h: h["results"][0].update(
                    times=[t * speed[line] for t in h["results"][0]["times"]]))

    out = make_out(tmp, mut1, times=times)
    o2 = make_out(os.path.join(tmp, "o2"), mut2, times=times)
    os.rename(os.path.join(o2, "FIX"), os.path.join(out, "FIX2"))
    for n in ("FIX", "FIX2"):
        if n not in which:
            shutil.rmtree(os.path.join(out, n))
    write(os.path.join(out, "scenarios.txt"), "".join(n + "\n" for n in which))
    return out


def section(out, names=("FIX", "FIX2"), benchdir=None):
    return lossy.loss_section(out, list(names), resamples=200, benchdir=benchdir or BENCH)


class Section(Base):
    def test_a_verdict_per_design_and_the_table(self):
        text, verdicts = section(lossy_out(self.tmp))
        self.assertTrue(text.startswith("## HTTP/1.1 against HTTP/2 under loss\n"), text)
        self.assertIn("### FIX2 against FIX\n", text)
        self.assertIn("Over a 20 ms round trip, ±2 ms jitter, 1% loss each way, 10 Mbit/s, server delay 0.1 s", text)
        self.assertIn("- **threadpool**: HTTP/1.1 is faster wherever a claim is made — HTTP/1.1 is faster at "
                      "m = 2, 4 (by 1.20×).", text)
        self.assertIn("- **asyncloop**: HTTP/2 is faster wherever a claim is made — HTTP/2 is faster at "
                      "m = 2, 4 (by 1.25×).", text)
        rows = [ln for ln in text.splitlines() if ln.startswith("| asyncloop |") or ln.startswith("| threadpool |")]
        self.assertEqual(len(rows), 4, text)
        self.assertIn("HTTP/2 faster by 1.25× (95% CI", [r for r in rows if r.startswith("| asyncloop | 4 |")][0])
        self.assertEqual([v["name"] for v in verdicts], ["FIX2 against FIX: threadpool", "FIX2 against FIX: asyncloop"])
        self.assertEqual([(x["m"], x["winner"]) for x in verdicts[1]["verdicts"]], [(2, "HTTP/2"), (4, "HTTP/2")])

    def test_5_plus_5_runs_need_more_runs_not_a_verdict(self):
        text, verdicts = section(lossy_out(self.tmp, times=TIMES))
        self.assertIn("- **asyncloop**: no claim at any m — more runs needed to claim the significant "
                      "difference at m = 2, 4.", text)
        self.assertIn("significant on only 5 + 5 runs (the smallest p they can give is 0.0079)", text)
        self.assertNotIn("faster by", text)
        self.assertTrue(all(x["winner"] is None for v in verdicts for x in v["verdicts"]))

    def test_no_difference_says_what_it_could_detect(self):
        text, _ = section(lossy_out(self.tmp, speed={}))
        self.assertRegex(text, r"- \*\*threadpool\*\*: no claim at any m — no significant difference at "
                               r"m = 2, 4 \(could detect ≥ 1\.\d\d×\)\.")

    def test_one_protocol_faster_at_one_m_the_other_at_another(self):
        out = lossy_out(self.tmp)
        edit_json(os.path.join(out, "FIX2", "raw", "asyncloop-m2", "hf-1.json"), lambda h: h["results"][0].update(
            times=[t * 1.25 * 1.2 for t in h["results"][0]["times"]]))
        text, _ = section(out)
        self.assertIn("- **asyncloop**: neither protocol is faster throughout — HTTP/2 is faster at m = 4 "
                      "(by 1.25×); HTTP/1.1 is faster at m = 2 (by 1.20×).", text)

    def test_only_one_of_the_two_ran(self):
        d = os.path.join(self.tmp, "bench")
        os.makedirs(d)
        write(os.path.join(d, "FIX2.json"), json.dumps({"protocol": "h2", "h1_peer": "FIX", "net": NET}))
        write(os.path.join(d, "OTHER.json"), json.dumps({"protocol": "h2", "h1_peer": "FIX", "net": dict(NET, loss=0)}))
        text, verdicts = section(lossy_out(self.tmp, which=("FIX",)), names=("FIX",), benchdir=d)
        self.assertEqual(verdicts, [])
        body = text.split("### FIX2 against FIX\n", 1)[1]
        self.assertEqual(body, "Only FIX ran in this run (FIX2 did not): no verdict on HTTP/1.1 against HTTP/2 "
                               "under loss.\n")
        self.assertNotIn("OTHER", text)  # no loss: not a pair of this section
        text, _ = section(lossy_out(os.path.join(self.tmp, "b"), which=("FIX2",)), names=("FIX2",), benchdir=d)
        self.assertIn("Only FIX2 ran in this run (FIX did not): no verdict", text)

    def test_neither_ran_no_section(self):
        self.assertEqual(section(make_out(self.tmp), names=("FIX",)), ("", []))

    def test_a_side_not_run_here(self):
        out = lossy_out(self.tmp)
        write(os.path.join(out, "FIX2", "raw", "skipped.txt"), "needs root for network namespaces\n")
        text, verdicts = section(out)
        self.assertIn("FIX2 was not run here (needs root for network namespaces): no verdict on HTTP/1.1 "
                      "against HTTP/2 under loss.", text)
        self.assertEqual(verdicts, [])

    def test_other_lab_settings_are_not_compared(self):
        text, verdicts = section(lossy_out(self.tmp, net2={"loss": 0.02}))
        self.assertIn("Not compared: the lab settings or the server delays differ", text)
        self.assertNotIn("| asyncloop |", text)
        self.assertEqual(verdicts, [])

    def test_the_plain_http2_table_leaves_the_lossy_pair_to_this_section(self):
        self.assertEqual(h2table.h2_section(lossy_out(self.tmp), ["FIX", "FIX2"], resamples=200), "")

    def test_lossy_h2_names_lossy(self):
        self.assertEqual(lossy.loss_pairs(["LOSSY"], {"LOSSY": {}}, BENCH), [("LOSSY", "LOSSY-H2")])
        self.assertTrue(lossy.is_loss_pair(report.resolve(os.path.join(BENCH, "LOSSY-H2.json"))))


class Whole(Base):
    def test_report_md_and_compare(self):
        a = lossy_out(self.tmp)
        self.assertEqual(report.cmd_report(a), 0)
        with open(os.path.join(a, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("## HTTP/1.1 against HTTP/2 under loss", md)
        self.assertNotIn("## HTTP/1.1 against HTTP/2\n", md)
        b = os.path.join(self.tmp, "b")
        shutil.copytree(a, b)
        rc, text = quiet(report.cmd_compare, a, b)
        self.assertEqual(rc, 0, text)
        self.assertIn("| FIX2 against FIX: asyncloop | 4 | HTTP/2 faster by 1.25×", text)
        edit_json(os.path.join(b, "verdicts.json"), lambda vs: [
            x.update(winner="HTTP/1.1", claim="HTTP/1.1 faster") for v in vs
            if v["name"] == "FIX2 against FIX: asyncloop" for x in v["verdicts"] if x["m"] == 4])
        rc, text = quiet(report.cmd_compare, a, b)
        self.assertEqual(rc, 1)
        self.assertIn("**CONTRADICTION**", text)


if __name__ == "__main__":
    unittest.main()
