#!/usr/bin/env python3
"""Fixture tests of the plots and words issue 22 asks an expert can read
without a second look: points drawn at their own m (never across a step of
the ideal bound), latency plots on a log y axis with the legend clear of the
axis label, "1 run" and "5 runs", and "too few runs to test (2 + 2)" where
no test could reach p < 0.01.
Run: python3 tests/report/test_plots_words.py -v
"""
import math
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_report import Base, edit_json, make_out  # noqa: E402
from flagreport import api as report  # noqa: E402


def gp_of(out):
    with open(os.path.join(out, "FIX", "plots.gp"), encoding="utf-8") as f:
        return f.read()


def blocks(gp, output):
    """The lines of plots.gp from "set output 'OUTPUT'" to the next "set output"."""
    lines = gp.splitlines()
    i = lines.index("set output '%s'" % output)
    j = lines.index("set output", i)
    return lines[i:j]


class Plots(Base):
    def test_points_drawn_at_their_m_never_across_an_ideal_step(self):
        out = make_out(self.tmp)
        self.assertEqual(report.cmd_report(out), 0)
        plot = [l for l in blocks(gp_of(out), "elapsed.png") if l.startswith("plot ")][0]
        xs = re.findall(r"-\w+\.dat' using (\S+?):", plot)
        self.assertTrue(xs)
        # a sideways factor k draws the point at k*m: C10K's m = 1,000 with
        # 20,280 requests crosses a step at k = 0.965; any k != 1 is refused
        for x in xs:
            self.assertEqual(x, "1", plot)
        n, m = 20280, 1000
        self.assertNotEqual(math.ceil(n / (m * 0.95)), math.ceil(n / m))  # what an offset did

    def test_latency_plot_log_y_and_legend_clear_of_the_label(self):
        out = make_out(self.tmp)
        report.cmd_report(out)
        gp = gp_of(out)
        lat = blocks(gp, "latency.png")
        self.assertTrue(any("set logscale xy" in l for l in lat), lat)
        self.assertTrue(any(l.startswith("set ytics (") for l in lat), lat)
        self.assertIn("set key outside right top vertical", gp)
        self.assertNotIn("set key outside below", gp)

    def test_titles_centred_on_the_canvas(self):
        # `set title` is centred over the plot area, narrowed by the legend on
        # its right: a long title was cut at the canvas's left edge
        out = make_out(self.tmp)
        report.cmd_report(out)
        gp = gp_of(out)
        self.assertNotIn("set title '", gp)
        for output in ["elapsed.png", "latency.png"]:
            label = [l for l in blocks(gp, output) if l.startswith("set label 1 ")]
            self.assertEqual(len(label), 1, output)
            self.assertRegex(label[0], r"^set label 1 'FIX: .*' at screen 0\.5, screen 0\.\d+ center$")

    def test_log_tics_are_readable(self):
        self.assertEqual(report.log_tics(0.3, 30), [0.5, 1, 2, 5, 10, 20])
        self.assertEqual(report.log_tics(90, 160), [90, 100, 120, 150])

    def test_median_of_1_run(self):
        def mut(d, raw):
            edit_json(os.path.join(raw, "scenario.json"), lambda s: s.update(runs=1, max_runs=1))
        out = make_out(self.tmp, mut)
        report.cmd_report(out)
        gp = gp_of(out)
        self.assertIn("median of 1 run)", gp)
        self.assertNotIn("1 runs", gp)

    def test_median_of_a_range_of_runs(self):
        out = make_out(self.tmp)
        report.cmd_report(out)
        self.assertIn("median of 5–10 runs)", gp_of(out))

    def test_plural(self):
        self.assertEqual(report.plural(1, "run"), "1 run")
        self.assertEqual(report.plural(3, "run"), "3 runs")


class TooFewRuns(Base):
    def test_two_and_two_runs_cannot_be_tested(self):
        self.assertAlmostEqual(report.min_p(2, 2), 1 / 3)
        v = report.compare([2.58, 2.60], [1.00, 1.01], "py-threadpool", "py-asyncio")
        self.assertEqual(v["claim"], "too few runs to test (2 + 2)")
        self.assertIsNone(v["winner"])
        text = report.claim_text(v)
        self.assertTrue(text.startswith("too few runs to test (2 + 2) (py-asyncio's median lower by"), text)
        self.assertNotIn("no significant difference", text)

    def test_the_smallest_pair_that_can_be_tested(self):
        self.assertEqual(report.too_few(4, 5), "too few runs to test (4 + 5)")  # p >= 2/126
        self.assertIsNone(report.too_few(5, 5))  # 2/252 < 0.01
        self.assertEqual(report.too_few(1, 1), "too few runs to test (1 + 1)")
        v = report.compare([1.0], [2.0], "threadpool", "asyncloop")
        self.assertEqual(report.claim_text(v), "too few runs to test (1 + 1)")

    def test_the_books_ordering_cannot_be_tested_with_two_runs(self):
        pts = []
        for line, ts in (("py-threadpool", [2.58, 2.60]), ("py-asyncio", [1.00, 1.01]),
                         ("threadpool", [0.5, 0.5]), ("asyncloop", [0.4, 0.4])):
            pts.append({"line": line, "m": 500, "valid": True, "times": ts,
                        "requests_per_s": 676 / ts[0]})
        text = report.python_tables({"name": "X"}, pts)
        self.assertIn("cannot be tested at m = 500: too few runs to test (2 + 2)", text)
        self.assertNotIn("no significant difference", text)

    def test_verdict_sentence_says_too_few(self):
        vs = [dict(report.compare([1.0, 1.1], [2.0, 2.1], "threadpool", "asyncloop"), m=1000)]
        x = report.crossover(vs)
        self.assertEqual((x["none"], x["too_few"]), ([], [1000]))
        s = {"delay_s": 0, "ok_exits": [0]}
        self.assertIn("Too few runs to test at m = 1000", report.verdict_sentences(s, [], vs))


if __name__ == "__main__":
    unittest.main()
