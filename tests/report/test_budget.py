#!/usr/bin/env python3
"""`report.py budget` (the estimate of a scenario set's run time) and the
time a scenario took (bench.sh's RAW/wall.txt) in REPORT.md, on fixtures.

The estimate takes each point's time of a run from a results folder (its
points.json, or the raw hyperfine exports where a folder has only raw/, as
the libcurl 8 pass does); these tests change those times and check that the
estimate moves by exactly the runs they multiply, mark what it had to guess,
and show a recorded wall time. Run: python3 tests/report/test_budget.py -v
"""
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from flagreport import cli  # noqa: E402
from flagreport.scenarios import resolve  # noqa: E402
from flagreport.text import wall_line  # noqa: E402

BENCH = os.path.join(ROOT, "bench", "scenarios")


def budget(results, set_name):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = cli.cmd_budget(results, False, set_name, BENCH)
    return rc, buf.getvalue()


def total_s(out):
    m = re.search(r"\*\*total\*\*.*\*\*(\d+) s = ", out)
    assert m, out
    return int(m.group(1))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Budget(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="flagbench-budget.")
        self.disk = resolve(os.path.join(BENCH, "DISK.json"), quick=False,
                            python_root=os.path.join(ROOT, "peers", "python"))
        self.points = [p for p in self.disk["points"] if not p["not_run"]]

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def results(self, name, t, requests=None):
        """RESULTS/DISK/points.json: every point's runs take T s."""
        out = os.path.join(self.tmp, name)
        pts = [{"line": p["line"], "m": p["m"], "requests": requests or self.disk["requests"],
                "times": [t] * 4} for p in self.points]
        write(os.path.join(out, "DISK", "points.json"), json.dumps(pts))
        return out

    def test_the_estimate_moves_by_the_runs_it_multiplies(self):
        rc1, one = budget(self.results("r1", 1.0), "disk")
        rc2, two = budget(self.results("r2", 2.0), "disk")
        self.assertEqual((rc1, rc2), (0, 0))
        runs = sum(p["runs"] + p["warmup"] for p in self.points)
        self.assertGreater(runs, 0)
        self.assertAlmostEqual(total_s(two) - total_s(one), runs, delta=1)
        self.assertNotIn("guessed", one)
        self.assertIn("| DISK | threadpool | 10 | %d + %d | 1.00 |" % (self.points[0]["runs"],
                                                                   self.points[0]["warmup"]), one)

    def test_times_are_scaled_to_the_requests_of_a_run_now(self):
        # the earlier run made half the requests a run makes now: twice the time
        _, half = budget(self.results("h", 1.0, requests=self.disk["requests"] // 2), "disk")
        self.assertIn("| DISK | threadpool | 10 | %d + %d | 2.00 |" % (self.points[0]["runs"],
                                                                   self.points[0]["warmup"]), half)

    def test_without_times_every_point_is_marked_guessed(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        rc, out = budget(empty, "disk")
        self.assertEqual(rc, 0)
        self.assertEqual(out.count("(guessed)"), len(self.points))
        self.assertIn("%d point(s) have no time in %s" % (len(self.points), empty), out)

    def test_raw_hyperfine_exports_when_there_is_no_points_json(self):
        out = os.path.join(self.tmp, "raw")
        raw = os.path.join(out, "DISK", "raw")
        write(os.path.join(raw, "scenario.json"), json.dumps({"requests": self.disk["requests"]}))
        for p in self.points:
            for k in (1, 2):
                write(os.path.join(raw, "%s-m%d" % (p["line"], p["m"]), "hf-%d.json" % k),
                      json.dumps({"results": [{"times": [3.0, 3.0]}]}))
        _, text = budget(out, "disk")
        self.assertNotIn("guessed", text)
        self.assertIn("| DISK | curl | 10 | %d + %d | 3.00 |" % (self.points[3]["runs"],
                                                             self.points[3]["warmup"]), text)

    def test_the_recorded_wall_time_is_shown_and_summed(self):
        out = self.results("w", 1.0)
        write(os.path.join(out, "DISK", "raw", "wall.txt"), "seconds 151\n")
        _, text = budget(out, "disk")
        self.assertIn("last run 151 s", text)
        self.assertIn("took 151 s = 2.5 min", text)

    def test_a_pair_run_together_counts_once(self):
        out = os.path.join(self.tmp, "pair")
        for n in ("LOCAL", "LOCAL-SPLIT", "C10K", "C10K-SPLIT"):
            write(os.path.join(out, n, "raw", "wall.txt"), "seconds 100\ntogether %s\n" % (
                "LOCAL LOCAL-SPLIT" if n.startswith("LOCAL") else "C10K C10K-SPLIT"))
        _, text = budget(out, "placement")
        self.assertIn("took 200 s", text)
        self.assertIn("; it has no libcurl 8 pass of LOCAL, C10K.", text)
        self.assertIn("last run 100 s (with LOCAL-SPLIT)", text)

    def test_the_default_set_includes_the_libcurl8_pass(self):
        _, text = budget(os.path.join(self.tmp, "none"), "default")
        self.assertIn("| **LOCAL (libcurl 8)** |", text)
        _, text = budget(os.path.join(self.tmp, "none"), "disk")
        self.assertNotIn("libcurl 8", text)
        # any set: H2C's libcurl lines run in the pass only
        _, text = budget(os.path.join(self.tmp, "none"), "http2")
        self.assertIn("| **H2C (libcurl 8)** |", text)


class WallLine(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="flagbench-wall.")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_lines(self):
        sdir = os.path.join(self.tmp, "LOCAL")
        os.makedirs(os.path.join(sdir, "raw"))
        self.assertIsNone(wall_line(sdir))
        write(os.path.join(sdir, "raw", "wall.txt"), "seconds 579\n")
        self.assertEqual(wall_line(sdir), "- time: 579 s (server, adaptive runs and set-up included)")
        write(os.path.join(sdir, "raw", "wall.txt"), "seconds 900\ntogether LOCAL LOCAL-SPLIT\n")
        self.assertEqual(wall_line(sdir), "- time: 900 s for it and LOCAL-SPLIT together "
                         "(server, adaptive runs and set-up included)")
        write(os.path.join(sdir, "raw", "wall.txt"), "seconds lots\n")
        self.assertIsNone(wall_line(sdir))


if __name__ == "__main__":
    unittest.main()
