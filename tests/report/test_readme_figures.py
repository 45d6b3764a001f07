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
    ("loop is faster at m = 500 (1.58×), 1,000 (3.60×) and 2,000 (7.17×), each on 6 + 6 runs", "REPORT.md",
     [r"^\| 500 \| asyncloop faster by 1\.58× .*6\+6 runs", r"^\| 1000 \| asyncloop faster by 3\.60× .*6\+6 runs",
      r"^\| 2000 \| asyncloop faster by 7\.17× .*6\+6 runs"]),
    ("the loop finishes in 0.578 s (87% of the ideal 0.5 s) over 10 connections with 35.7 MiB, the pool in "
     "2.082 s over 1,000 connections", "REPORT.md",
     [r"^\| 1000 \| asyncloop \| 6 \| 0\.578 \| .*\| 87% \| .*\| 35\.7 \| .*\| 10 \| 1164 / 2892 / 0 \|",
      r"^\| 1000 \| threadpool \| 6 \| 2\.082 \| .*\| 170\.7 \| .*\| 1000 \| 1164 / 2892 / 0 \|"]),
    ("h2load, the rig's ceiling that saves nothing, takes 0.560 s", "REPORT.md",
     [r"^\| 1000 \| h2load \(rig ceiling, saves no files\) \| 5 \| 0\.560 "]),
    ("HTTP/2 makes the loop 1.84× faster and the pool 1.14×", "REPORT.md",
     [r"^\| asyncloop \| 500 \| .*HTTP/2 faster by 1\.84× ", r"^\| threadpool \| 500 \| .*HTTP/2 faster by 1\.14× "]),
    ("takes 6.3 s at m = 1,000", "REPORT.md", [r"^\| 1000 \| py-asyncio \| 1 \| 6\.3\d\d \| .*\| 1 \| 1164 / 2892 / 0 \|"]),
    ("the loop takes 0.561 s at m = 1,000 against 0.578 s with 7.88", "REPORT.md",
     [r"^\| H2-DELAY \| 1000 \| asyncloop \| 7\.88\.1 \| 0\.578 s \(6\) \| 8\.14\.1 \| 0\.561 s \(5\) \| "
      r".*no significant difference"]),
    ("in ERROR the loop is faster only at m = 200, by 1.09×", "REPORT.md",
     [r"^\| 200 \| asyncloop faster by 1\.09× .*6\+6 runs"]),
    ("m = 10 to 100 could have detected 1.05×, m = 500 only 1.23×", "REPORT.md",
     [r"^\| 500 \| no significant difference \(could detect ≥ 1\.23×"]),
    ("the loop is faster at m = 100 (1.09×, as in the run before), no significant difference at m = 300 and 1,000",
     "REPORT.md", [r"^\| 100 \| asyncloop faster by 1\.09× .*10\+10 runs"]),
    ("the loop needs 53% less memory (101.6 MiB against 215.1 MiB)", "REPORT.md",
     [r"^\| 4000 \| asyncloop \| 1 \| .*\| 101\.6 \|", r"^\| 4000 \| threadpool \| 1 \| .*\| 215\.1 \|"]),
    ("one loop takes 5.46 s (55% of the ideal 3 s), `--multis 16` 4.10 s", "REPORT.md",
     [r"^\| 10000 \| asyncloop \| 1 \| 5\.46\d \| .*\| 55% \|",
      r"^\| 10000 \| asyncloop multi×16 \| 1 \| 4\.10\d \|"]),
    ("the loop is faster at m = 2 (1.25×), 50 (1.16×) and 200 (1.36×)", "REPORT.md",
     [r"^\| 2 \| asyncloop faster by 1\.25× ", r"^\| 50 \| asyncloop faster by 1\.16× ",
      r"^\| 200 \| asyncloop faster by 1\.36× "]),
    ("17,455 requests/s at m = 200", "REPORT.md", [r"asyncloop\+save1 17455 requests/s at m = 200"]),
    ("peaks at 12,226 requests/s", "REPORT.md", [r"asyncloop\+uring 12226 requests/s"]),
    ("takes 0.697 s at m = 50 against the save thread's 0.566 s", "REPORT.md",
     [r"^\| 50 \| asyncloop\+save1 \| 10 \| 0\.566 \|", r"^\| 50 \| asyncloop\+uring \| 10 \| 0\.697 \|"]),
    ("the pool takes 0.40× and the loop 0.41× curl --parallel's time at m = 10", "REPORT.md",
     [r"^\| 10 \| threadpool \| 0\.40× curl's time", r"^\| 10 \| asyncloop \| 0\.41× curl's time"]),
    ("the pool is faster at m = 20 (1.23×)", "REPORT.md", [r"^\| 20 \| threadpool faster by 1\.23× "]),
    ("`--save-uring` takes 0.44× curl's time at m = 10 and 0.46× at m = 50", "REPORT.md",
     [r"^\| 10 \| asyncloop\+uring \| 0\.44× curl's time", r"^\| 50 \| asyncloop\+uring \| 0\.46× curl's time"]),
    ("loop takes 10.4 s against 5.5 s, `--multis 16` 4.1 s against 4.1 s", "REPORT.md",
     [r"^\| C10K \| 10000 \| asyncloop \| 7\.88\.1 \| 5\.4[5-9]\d s \(1\) \| 8\.14\.1 \| 10\.[34]\d\d s \(1\) \|",
      r"^\| C10K \| 10000 \| asyncloop multi×16 \| 7\.88\.1 \| 4\.1\d\d s \(1\) \| 8\.14\.1 \| 4\.0[5-9]\d s \(1\) \|"]),
    ("the C pool does 12.61× the requests/s", "REPORT.md", [r"^\| threadpool / py-threadpool \| .*\| 12\.61× \|$"]),
    ("the C loop 4.91× asyncio + aiohttp", "REPORT.md", [r"^\| asyncloop / py-asyncio \| .*\| 4\.91× \|$"]),
    ("the C pool, the C loop and py-asyncio take 21.3–22.6 s, py-threadpool 29.1 s, and the C loop needs 41.0 MiB "
     "against py-asyncio's 103.1 MiB", "REPORT.md",
     [r"^\| 1000 \| threadpool \| 1 \| 21\.4\d\d \|", r"^\| 1000 \| asyncloop \| 1 \| 21\.3\d\d \| .*\| 41\.0 \|",
      r"^\| 1000 \| py-asyncio \| 1 \| 22\.6\d\d \| .*\| 103\.1 \|", r"^\| 1000 \| py-threadpool \| 1 \| 29\.0\d\d \|"]),
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
