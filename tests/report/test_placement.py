#!/usr/bin/env python3
"""Fixture tests of the placement setting (issue 24): the split of the CPUs
a run may use, the rule that makes a point INVALID when flagserver or a
client ran outside its CPU set or left no record of it, REPORT.md's
placement line and its section pairing a scenario with its -SPLIT twin, and
the twins' scenario files.

The points start from test_report.py's valid fixture (two m, 10 requests a
run, 5 runs + 1 warmup). Run: python3 tests/report/test_placement.py -v
"""
import json
import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_report import TIMES, TIMES6, Base, edit_json, make_out, points, write  # noqa: E402
from flagreport import api as report  # noqa: E402  (test_report put scripts/ on the path)

BENCH = os.path.join(HERE, "..", "..", "bench", "scenarios")


def rules(p):
    return [b["rule"] for b in p["broken"]]


def place(sdir, placement, server="0", client="1", allowed="0-1", scale=None, runs=5):
    """Makes the scenario in SDIR one bench.sh ran with PLACEMENT: the
    setting in scenario.json, raw/placement.txt, and every point's CPU
    records as a faithful run writes them (SCALE: {(line, m): factor} on
    its times)."""
    raw = os.path.join(sdir, "raw")
    edit_json(os.path.join(raw, "scenario.json"), lambda s: s.update(placement=placement))
    text = "placement %s\nallowed %s\n" % (placement, allowed)
    if placement == "split":
        text += "server %s\nclient %s\n" % (server, client)
    write(os.path.join(raw, "placement.txt"), text)
    srv, cli = (server, client) if placement == "split" else (allowed, allowed)
    for (line, m) in TIMES:
        pdir = os.path.join(raw, "%s-m%d" % (line, m))
        write(os.path.join(pdir, "server-cpus.txt"), "batch 1 start %s\nbatch 1 end %s\n" % (srv, srv))
        write(os.path.join(pdir, "client-cpus.txt"), "%s\n" % cli * (runs + 1))  # the runs + 1 warmup
        if scale and (line, m) in scale:
            k = scale[(line, m)]
            edit_json(os.path.join(pdir, "hf-1.json"),
                      lambda h: h["results"][0].update(times=[t * k for t in h["results"][0]["times"]]))


def split_out(tmp, mutate=None, placement="split"):
    """OUT/ with FIX run PLACEMENT; mutate(pdir_of, raw) after."""
    out = make_out(tmp)
    place(os.path.join(out, "FIX"), placement)
    if mutate:
        raw = os.path.join(out, "FIX", "raw")
        mutate(lambda line, m: os.path.join(raw, "%s-m%d" % (line, m)), raw)
    return out


class CpuSets(unittest.TestCase):
    def test_parse_and_format(self):
        self.assertEqual(report.parse_cpus("0-3,8,10-11"), frozenset({0, 1, 2, 3, 8, 10, 11}))
        self.assertEqual(report.fmt_cpus({0, 1, 2, 5, 7, 8}), "0-2,5,7-8")
        for bad in ("", "x", "3-1", "1,", "-1", None):
            self.assertIsNone(report.parse_cpus(bad), bad)

    def test_split_two_cpus_one_each(self):
        self.assertEqual(report.split_cpus({0, 1}), ({0}, {1}, ""))

    def test_split_larger_machine_one_server_cpu_in_four(self):
        srv, cli, why = report.split_cpus(set(range(8)))
        self.assertEqual((sorted(srv), sorted(cli), why), ([0, 1], [2, 3, 4, 5, 6, 7], ""))
        srv, cli, _ = report.split_cpus({0, 1, 2})
        self.assertEqual((sorted(srv), sorted(cli)), ([0], [1, 2]))

    def test_split_uses_the_cpus_allowed_not_the_machine(self):
        # a container limited to CPUs 2 and 5 of a larger machine
        self.assertEqual(report.cpu_split_assignments("2,5"),
                         "CPUS_ALLOWED=2,5\nSERVER_CPUS=2\nCLIENT_CPUS=5\nSPLIT_WHY=''\n")

    def test_one_cpu_is_not_run_here(self):
        srv, cli, why = report.split_cpus({3})
        self.assertEqual((srv, cli), (None, None))
        self.assertEqual(why, "needs 2 CPUs (this run may use only CPU 3)")
        self.assertIn("SPLIT_WHY='needs 2 CPUs", report.cpu_split_assignments("3"))

    def test_not_a_cpu_list_is_an_error(self):
        with self.assertRaises(report.ReportError):
            report.cpu_split_assignments("all")


class PlacementRule(Base):
    def check_rule(self, mutate, key, words, placement="split"):
        pts, _ = points(split_out(self.tmp, mutate, placement))
        p = pts[key]
        self.assertFalse(p["valid"], p)
        self.assertIn("placement_cpus", rules(p), p["broken"])
        self.assertTrue(any(words in b["reason"] for b in p["broken"] if b["rule"] == "placement_cpus"),
                        p["broken"])
        others = {k: q["broken"] for k, q in pts.items() if k != key and q["broken"]}
        self.assertEqual(others, {})

    def test_faithful_records_break_no_rule(self):
        for placement in ("split", "shared"):
            pts, _ = points(split_out(os.path.join(self.tmp), placement=placement))
            self.assertEqual({k: p["broken"] for k, p in pts.items() if p["broken"]}, {}, placement)
            shutil.rmtree(os.path.join(self.tmp, "out"))

    def test_client_outside_its_set(self):
        def mut(d, raw):
            write(os.path.join(d("asyncloop", 2), "client-cpus.txt"), "1\n1\n0-1\n1\n1\n1\n")
        self.check_rule(mut, ("asyncloop", 2), "a run of the client had CPU 0-1, its set is 1")

    def test_client_record_missing(self):
        def mut(d, raw):
            os.remove(os.path.join(d("threadpool", 4), "client-cpus.txt"))
        self.check_rule(mut, ("threadpool", 4), "no record of the client's CPUs")

    def test_client_record_of_fewer_runs(self):
        def mut(d, raw):
            write(os.path.join(d("curl", 2), "client-cpus.txt"), "1\n" * 5)
        self.check_rule(mut, ("curl", 2), "5 client CPU records, expected one per run: 6")

    def test_server_outside_its_set_at_the_end(self):
        def mut(d, raw):
            write(os.path.join(d("threadpool", 2), "server-cpus.txt"), "batch 1 start 0\nbatch 1 end 0 0-1\n")
        self.check_rule(mut, ("threadpool", 2), "flagserver ran on CPU 0-1 at the end of batch 1, its set is 0")

    def test_server_record_missing_at_the_end(self):
        def mut(d, raw):
            write(os.path.join(d("asyncloop", 4), "server-cpus.txt"), "batch 1 start 0\n")
        self.check_rule(mut, ("asyncloop", 4), "no record of flagserver's CPUs at the end of batch 1")

    def test_server_record_missing(self):
        def mut(d, raw):
            os.remove(os.path.join(d("curl", 4), "server-cpus.txt"))
        self.check_rule(mut, ("curl", 4), "no record of flagserver's CPUs (server-cpus.txt)")

    def test_placement_record_missing(self):
        def mut(d, raw):
            os.remove(os.path.join(raw, "placement.txt"))
        pts, _ = points(split_out(self.tmp, mut))
        for p in pts.values():
            self.assertIn("no record of the CPU sets of placement split (raw/placement.txt)",
                          [b["reason"] for b in p["broken"]])

    def test_split_recorded_as_shared(self):
        # the scenario says split, but bench.sh recorded a shared run
        def mut(d, raw):
            write(os.path.join(raw, "placement.txt"), "placement shared\nallowed 0-1\n")
        pts, _ = points(split_out(self.tmp, mut))
        self.assertTrue(all("placement_cpus" in rules(p) for p in pts.values()))

    def test_shared_client_pinned_narrower_than_allowed(self):
        def mut(d, raw):
            write(os.path.join(d("threadpool", 2), "client-cpus.txt"), "0-1\n" * 5 + "1\n")
        self.check_rule(mut, ("threadpool", 2), "a run of the client had CPU 1, its set is 0-1", "shared")

    def test_external_server_is_not_checked(self):
        # --server-url: shared, the clients recorded, the server not ours to see
        def mut(d, raw):
            write(os.path.join(raw, "placement.txt"), "placement shared\nallowed 0-1\nexternal 1\n")
            for (line, m) in TIMES:
                os.remove(os.path.join(d(line, m), "server-cpus.txt"))
        pts, _ = points(split_out(self.tmp, mut, "shared"))
        self.assertEqual({k: p["broken"] for k, p in pts.items() if p["broken"]}, {})

    def test_data_from_before_placement_is_not_checked(self):
        pts, _ = points(make_out(self.tmp))
        self.assertTrue(all(p["valid"] for p in pts.values()))


class PlacementReport(Base):
    def pair_out(self, scale=None, twin_placement="split", times=TIMES6):
        """OUT/ with FIX (shared) and FIX-SPLIT (TWIN_PLACEMENT; its times
        scaled by SCALE), TIMES the runs of each point (6: room for a claim)."""
        out = make_out(self.tmp, times=times)
        runs = len(next(iter(times.values())))
        place(os.path.join(out, "FIX"), "shared", runs=runs)
        shutil.copytree(os.path.join(out, "FIX"), os.path.join(out, "FIX-SPLIT"))
        twin = os.path.join(out, "FIX-SPLIT")
        edit_json(os.path.join(twin, "raw", "scenario.json"), lambda s: s.update(name="FIX-SPLIT"))
        place(twin, twin_placement, scale=scale, runs=runs)
        write(os.path.join(out, "scenarios.txt"), "FIX\nFIX-SPLIT\n")
        report.cmd_report(out)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            return f.read()

    def test_pairs_per_line_and_m_under_the_rule(self):
        md = self.pair_out({("threadpool", 2): 1.5, ("asyncloop", 4): 0.8})
        self.assertIn("## Placement: flagserver off the clients' cores", md)
        self.assertIn("### FIX against FIX-SPLIT", md)
        self.assertIn("- FIX-SPLIT: placement split: flagserver on CPU 0, the clients (hyperfine and every "
                      "line) on CPU 1 (on this 2-core machine the client gets one core)", md)
        self.assertIn("- FIX: placement shared: flagserver and the clients float over CPU 0-1", md)
        self.assertIn("| 2 | threadpool | 1.009 s (6) | 1.514 s (6) | split slower by 1.50× (95% CI", md)
        self.assertIn("| 4 | asyncloop | 0.511 s (6) | 0.409 s (6) | split faster by 1.25× (95% CI", md)
        self.assertRegex(md, r"\| 2 \| curl \| 1\.109 s \(6\) \| 1\.109 s \(6\) \| no significant difference "
                             r"\(would have detected ≥ \d\.\d\d×;")
        self.assertIn("split faster at 1; split slower at 1; no significant difference at 4", md)
        # the scenario's own header says where it ran
        self.assertIn("## FIX-SPLIT\n", md)
        self.assertEqual(md.count("placement split: flagserver on CPU 0"), 2)

    def test_consecutive_pair_says_drift_lands_on_one_side(self):
        md = self.pair_out()
        self.assertIn("The two ran one after the other, not interleaved", md)
        self.assertNotIn("The two ran together", md)

    def test_interleaved_pair_says_so(self):
        # bench.sh's run_pair writes raw/paired.txt into both folders
        def paired(mutual):
            out = os.path.join(self.tmp, "out")
            write(os.path.join(out, "FIX", "raw", "paired.txt"), "with FIX-SPLIT\n")
            write(os.path.join(out, "FIX-SPLIT", "raw", "paired.txt"), "with %s\n" % mutual)
            report.cmd_report(out)
            with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
                return f.read()
        self.pair_out()
        md = paired("FIX")
        self.assertIn("The two ran together: at each m, batches of each line shared then split", md)
        self.assertNotIn("one after the other", md)
        # one side's record alone (or naming another scenario) is not a pair
        self.assertIn("The two ran one after the other, not interleaved", paired("OTHER"))

    def test_five_and_five_runs_make_no_claim(self):
        # the room rule (issue 24) holds here as everywhere: complete
        # separation on 5 + 5 runs is "more runs needed", never a claim
        md = self.pair_out({("threadpool", 2): 1.5, ("asyncloop", 4): 0.8}, times=TIMES)
        self.assertIn("| 2 | threadpool | 1.010 s (5) | 1.515 s (5) | significant on only 5 + 5 runs (the "
                      "smallest p they can give is 0.0079): more runs needed, no claim (shared's median lower "
                      "by 1.50×", md)
        self.assertIn("more runs needed at 2; no significant difference at 4", md)
        self.assertNotIn("split faster", md)

    def test_no_pair_no_section(self):
        out = make_out(self.tmp)
        place(os.path.join(out, "FIX"), "split")
        report.cmd_report(out)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            self.assertNotIn("## Placement", f.read())

    def test_twin_run_shared_is_not_compared(self):
        md = self.pair_out(twin_placement="shared")
        self.assertIn("No comparison: FIX ran shared and FIX-SPLIT ran shared", md)
        self.assertNotIn("split faster", md)

    def test_twin_not_run_here(self):
        out = make_out(self.tmp)
        place(os.path.join(out, "FIX"), "shared")
        s = report.load_json(os.path.join(out, "FIX", "raw", "scenario.json"))
        write(os.path.join(out, "FIX-SPLIT", "raw", "scenario.json"),
              json.dumps(dict(s, name="FIX-SPLIT", placement="split")))
        write(os.path.join(out, "FIX-SPLIT", "raw", "server.txt"), "started 0\n")
        write(os.path.join(out, "FIX-SPLIT", "raw", "skipped.txt"), "placement split needs 2 CPUs (this run "
              "may use only CPU 0)\n")
        write(os.path.join(out, "scenarios.txt"), "FIX\nFIX-SPLIT\n")
        report.cmd_report(out)
        with open(os.path.join(out, "REPORT.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("No comparison: FIX-SPLIT was not run here (placement split needs 2 CPUs", md)


class Twins(unittest.TestCase):
    """LOCAL-SPLIT and C10K-SPLIT are LOCAL and C10K with placement split:
    nothing else may differ (but the description, the sets, the libcurl 8
    section of the default run, and no Python line under --quick)."""

    def test_twins_repeat_their_scenario(self):
        for base in ("LOCAL", "C10K"):
            a = report.load_json(os.path.join(BENCH, base + ".json"))
            b = report.load_json(os.path.join(BENCH, base + "-SPLIT.json"))
            self.assertEqual(b.get("placement"), "split")
            self.assertEqual(a.get("placement", "shared"), "shared")
            drop = ("desc", "sets", "placement", "libcurl8", "quick")
            self.assertEqual({k: v for k, v in a.items() if k not in drop},
                             {k: v for k, v in b.items() if k not in drop}, base)
            # --quick: the same, but no Python line (1 run each: no comparison)
            self.assertEqual(dict(a["quick"], python={}), b["quick"], base)

    def test_sets(self):
        self.assertEqual(report.scenario_set(BENCH, "placement"), ["LOCAL", "LOCAL-SPLIT", "C10K", "C10K-SPLIT"])
        self.assertNotIn("LOCAL-SPLIT", report.scenario_set(BENCH, "default"))
        self.assertIn("C10K-SPLIT", report.scenario_set(BENCH, "all"))

    def test_resolve_and_override(self):
        p = os.path.join(BENCH, "LOCAL-SPLIT.json")
        self.assertEqual(report.resolve(p, quick=True)["placement"], "split")
        self.assertEqual(report.resolve(p, quick=True, placement="shared")["placement"], "shared")
        s = report.resolve(os.path.join(BENCH, "LOCAL.json"), quick=True, placement="split")
        self.assertIn("PLACEMENT=split", report.shell_assignments(s))
        with self.assertRaises(report.ReportError):
            report.placement_setting({"placement": "pinned"}, "X")


if __name__ == "__main__":
    unittest.main()
