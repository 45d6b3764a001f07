#!/usr/bin/env python3
"""README.md's figures against the committed results they cite (issue 22).

A curated list, not free text: each entry is a phrase README.md quotes and
the lines of results/ that hold its figure. The test fails when README no
longer says the phrase (update the entry with the text) or when the results
no longer hold the figure (a new run: update README's figure, then the
entry). Whitespace in README is collapsed, so a phrase may span lines.
Run: python3 tests/report/test_readme_figures.py -v
"""
import os
import re
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# (phrase in README.md, file under results/, [regular expressions, each
# matching one line of that file])
FIGURES = [
    ("On one core it serves 0.52× nginx's request rate", "server/README.md",
     [r"^flagserver / nginx = \*\*0\.52\*\*\.$"]),
    ("loop is faster at m = 500 (1.60×), 1,000 (3.41×) and 2,000 (8.53×)", "REPORT.md",
     [r"^\| 500 \| asyncloop faster by 1\.60× ", r"^\| 1000 \| asyncloop faster by 3\.41× ",
      r"^\| 2000 \| asyncloop faster by 8\.53× "]),
    ("the loop finishes in 0.581 s (86% of the ideal 0.5 s) over 10 connections with 35.6 MiB, the pool in "
     "1.984 s over 1,000 connections", "REPORT.md",
     [r"^\| 1000 \| asyncloop \| 5 \| 0\.581 \| .*\| 86% \| .*\| 35\.6 \| .*\| 10 \| 1164 / 2892 / 0 \|",
      r"^\| 1000 \| threadpool \| 5 \| 1\.984 \| .*\| 170\.3 \| .*\| 1000 \| 1164 / 2892 / 0 \|"]),
    ("h2load, the rig's ceiling that saves nothing, takes 0.544 s", "REPORT.md",
     [r"^\| 1000 \| h2load \(rig ceiling, saves no files\) \| 5 \| 0\.544 "]),
    ("HTTP/2 makes the loop 1.84× faster and the pool 1.13×", "REPORT.md",
     [r"^\| asyncloop \| 500 \| .*HTTP/2 faster by 1\.84× ", r"^\| threadpool \| 500 \| .*HTTP/2 faster by 1\.13× "]),
    ("the loop takes 0.558 s at m = 1,000 against 0.581 s with 7.88", "REPORT.md",
     [r"^\| H2-DELAY \| 1000 \| asyncloop \| 7\.88\.1 \| 0\.581 s \(5\) \| 8\.14\.1 \| 0\.558 s \(5\) \| .*no significant difference"]),
    ("in ERROR the loop is faster only at m = 200, by 1.09×", "REPORT.md",
     [r"^\| 200 \| asyncloop faster by 1\.09× "]),
    ("the loop is faster at m = 500 by 1.06×", "REPORT.md",
     [r"^\| 500 \| asyncloop faster by 1\.06× "]),
    ("the loop is faster at m = 100 (1.07×), no significant difference at m = 300 and 1,000", "REPORT.md",
     [r"^\| 100 \| asyncloop faster by 1\.07× "]),
    ("the loop needs 53% less memory (101.5 MiB against 216.5 MiB)", "REPORT.md",
     [r"^\| 4000 \| asyncloop \| 1 \| .*\| 101\.5 \|", r"^\| 4000 \| threadpool \| 1 \| .*\| 216\.5 \|"]),
    ("one loop takes 6.26 s (48% of the ideal 3 s), `--multis 16` 4.19 s", "REPORT.md",
     [r"^\| 10000 \| asyncloop \| 1 \| 6\.26\d \| .*\| 48% \|",
      r"^\| 10000 \| asyncloop multi×16 \| 1 \| 4\.19\d \|"]),
    ("the loop is faster at m = 2 (1.20×) and 500 (1.16×)", "REPORT.md",
     [r"^\| 2 \| asyncloop faster by 1\.20× ", r"^\| 500 \| asyncloop faster by 1\.16× "]),
    ("18,546 requests/s at m = 50", "REPORT.md", [r"asyncloop\+save1 18546 requests/s at m = 50"]),
    ("peaks at 14,729 requests/s", "REPORT.md", [r"asyncloop\+uring 14729 requests/s"]),
    ("the pool takes 0.40× and the loop 0.42× curl --parallel's time at m = 10", "REPORT.md",
     [r"^\| 10 \| threadpool \| 0\.40× curl's time", r"^\| 10 \| asyncloop \| 0\.42× curl's time"]),
    ("the loop faster at m = 200 (1.58×)", "REPORT.md", [r"^\| 200 \| asyncloop faster by 1\.58× "]),
    ("`--save-uring` takes 0.49× curl's time at m = 10 and 0.47× at m = 50", "REPORT.md",
     [r"^\| 10 \| asyncloop\+uring \| 0\.49× curl's time", r"^\| 50 \| asyncloop\+uring \| 0\.47× curl's time"]),
    ("the plain loop takes 16.4 s against 6.3 s", "REPORT.md",
     [r"^\| C10K \| 10000 \| asyncloop \| 7\.88\.1 \| 6\.2[5-9]\d s \(1\) \| 8\.14\.1 \| 16\.[34]\d\d s \(1\) \|"]),
    ("the C pool does 16.70× the requests/s", "REPORT.md", [r"^\| threadpool / py-threadpool \| .*\| 16\.70× \|$"]),
    ("the C loop 5.26× asyncio + aiohttp", "REPORT.md", [r"^\| asyncloop / py-asyncio \| .*\| 5\.26× \|$"]),
    ("the C loop needs 40.8 MiB against py-asyncio's 103.6 MiB", "REPORT.md",
     [r"^\| 1000 \| asyncloop \| 1 \| .*\| 40\.8 \|", r"^\| 1000 \| py-asyncio \| 1 \| .*\| 103\.6 \|"]),
]


def readme_text():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return " ".join(f.read().split())


def results_lines(name):
    with open(os.path.join(ROOT, "results", name), encoding="utf-8") as f:
        return f.read().splitlines()


def drift(readme, figures, lines_of):
    """The entries of FIGURES that README or the results no longer hold,
    one sentence each."""
    out = []
    for phrase, name, patterns in figures:
        if phrase not in readme:
            out.append("README.md no longer says %r" % phrase)
            continue
        lines = lines_of(name)
        for pat in patterns:
            if not any(re.search(pat, l) for l in lines):
                out.append("README.md says %r, but results/%s has no line matching %r" % (phrase, name, pat))
    return out


class ReadmeFigures(unittest.TestCase):
    def test_readme_quotes_the_committed_results(self):
        self.assertEqual(drift(readme_text(), FIGURES, results_lines), [])

    def test_a_figure_the_results_do_not_hold_is_caught(self):
        # the drift issue 22 found: README said 0.61× while results say 0.52
        readme = readme_text().replace("0.52× nginx's", "0.61× nginx's")
        bad = drift(readme, [("On one core it serves 0.61× nginx's request rate", "server/README.md",
                              [r"^flagserver / nginx = \*\*0\.61\*\*\.$"])], results_lines)
        self.assertEqual(len(bad), 1)
        self.assertIn("results/server/README.md has no line matching", bad[0])

    def test_a_phrase_the_readme_dropped_is_caught(self):
        bad = drift("nothing here", FIGURES[:1], results_lines)
        self.assertEqual(bad, ["README.md no longer says %r" % FIGURES[0][0]])


if __name__ == "__main__":
    unittest.main()
