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
    ("loop is faster at m = 500 (1.85×), 1,000 (3.95×) and 2,000 (9.56×), each on 6 + 6 runs", "REPORT.md",
     [r"^\| 500 \| asyncloop faster by 1\.85× .*6\+6 runs", r"^\| 1000 \| asyncloop faster by 3\.95× .*6\+6 runs",
      r"^\| 2000 \| asyncloop faster by 9\.56× .*6\+6 runs"]),
    ("the loop finishes in 0.614 s (81% of the ideal 0.5 s) over 10 connections with 35.7 MiB, the pool in "
     "2.422 s over 1,000 connections", "REPORT.md",
     [r"^\| 1000 \| asyncloop \| 6 \| 0\.614 \| .*\| 81% \| .*\| 35\.7 \| .*\| 10 \| 1164 / 2892 / 0 \|",
      r"^\| 1000 \| threadpool \| 6 \| 2\.422 \| .*\| 169\.6 \| .*\| 1000 \| 1164 / 2892 / 0 \|"]),
    ("h2load, the rig's ceiling that saves nothing, takes 0.579 s", "REPORT.md",
     [r"^\| 1000 \| h2load \(rig ceiling, saves no files\) \| 5 \| 0\.579 "]),
    ("HTTP/2 makes the loop 1.74× faster; for the pool no significant difference", "REPORT.md",
     [r"^\| asyncloop \| 500 \| .*HTTP/2 faster by 1\.74× ", r"^\| threadpool \| 500 \| .*\| no significant difference "]),
    ("takes 7.7 s at m = 1,000", "REPORT.md", [r"^\| 1000 \| py-asyncio \| 1 \| (7\.6[5-9]\d|7\.7[0-4]\d) \| .*\| 1 \| 1164 / 2892 / 0 \|"]),
    ("the loop takes 0.644 s at m = 1,000 against 0.614 s with 7.88", "REPORT.md",
     [r"^\| H2-DELAY \| 1000 \| asyncloop \| 7\.88\.1 \| 0\.614 s \(6\) \| 8\.14\.1 \| 0\.644 s \(5\) \| "
      r".*no significant difference"]),
    ("DELAY (each could have detected 1.05–1.10×)", "REPORT.md",
     [r"^\| 20 \| no significant difference \(could detect ≥ 1\.05×; threadpool's median lower by 1\.00×, 95% CI 1\.00–1\.01; p = 0\.0952",
      r"^\| 500 \| no significant difference \(could detect ≥ 1\.10×; threadpool's median lower by 1\.02×"]),
    ("in ERROR the loop is faster only at m = 200, by 1.12×", "REPORT.md",
     [r"^\| 200 \| asyncloop faster by 1\.12× .*6\+6 runs"]),
    ("81% of the ideal bound at m = 10 and 88–89% at m = 100", "REPORT.md",
     [r"^\| 10 \| threadpool \| 5 \| 3\.432 \| .*\| 81% \|", r"^\| 10 \| asyncloop \| 5 \| 3\.431 \| .*\| 81% \|",
      r"^\| 10 \| curl \| 5 \| 3\.441 \| .*\| 81% \|", r"^\| 100 \| threadpool \| 5 \| 0\.688 \| .*\| 88% \|",
      r"^\| 100 \| asyncloop \| 5 \| 0\.691 \| .*\| 88% \|", r"^\| 100 \| curl \| 5 \| 0\.682 \| .*\| 89% \|"]),
    ("by 1.06× (no significant difference, committed)", "REPORT.md",
     [r"^\| 500 \| no significant difference \(could detect ≥ 1\.18×; asyncloop's median lower by 1\.06×.*10\+10 runs"]),
    ("no significant difference at m = 100, 300 and 1,000 (the two runs before had the loop 1.09× faster at m = 100",
     "REPORT.md", [r"^\| 100 \| no significant difference \(could detect ≥ 1\.10×; asyncloop's median lower by 1\.05×"]),
    ("the loop needs 53% less memory (101.5 MiB against 216.7 MiB)", "REPORT.md",
     [r"^\| 4000 \| asyncloop \| 1 \| .*\| 101\.5 \|", r"^\| 4000 \| threadpool \| 1 \| .*\| 216\.7 \|"]),
    ("one loop takes 5.28 s (57% of the ideal 3 s), `--multis 16` 4.18 s", "REPORT.md",
     [r"^\| 10000 \| asyncloop \| 1 \| 5\.27[5-9] \| .*\| 57% \|",
      r"^\| 10000 \| asyncloop multi×16 \| 1 \| 4\.18\d \|"]),
    ("the loop is faster at m = 2 (1.21×) and 200 (1.17×)", "REPORT.md",
     [r"^\| 2 \| asyncloop faster by 1\.21× ", r"^\| 200 \| asyncloop faster by 1\.17× "]),
    ("18,327 requests/s at m = 200", "REPORT.md", [r"asyncloop\+save1 18327 requests/s at m = 200"]),
    ("peaks at 16,865 requests/s", "REPORT.md", [r"asyncloop\+uring 16865 requests/s"]),
    ("takes 0.470 s at m = 50 against the save thread's 0.433 s", "REPORT.md",
     [r"^\| 50 \| asyncloop\+save1 \| 10 \| 0\.433 \|", r"^\| 50 \| asyncloop\+uring \| 10 \| 0\.470 \|"]),
    ("the pool takes 0.34× and the loop 0.40× curl --parallel's time at m = 10", "REPORT.md",
     [r"^\| 10 \| threadpool \| 0\.34× curl's time", r"^\| 10 \| asyncloop \| 0\.40× curl's time"]),
    ("the pool is faster at m = 10 (1.15×), the loop at m = 100 (1.25×) and 200 (1.49×)", "REPORT.md",
     [r"^\| 10 \| threadpool faster by 1\.15× ", r"^\| 100 \| asyncloop faster by 1\.25× ",
      r"^\| 200 \| asyncloop faster by 1\.49× "]),
    ("`--save-uring` takes 0.35× curl's time at m = 10 and 0.48× at m = 50", "REPORT.md",
     [r"^\| 10 \| asyncloop\+uring \| 0\.35× curl's time", r"^\| 50 \| asyncloop\+uring \| 0\.48× curl's time"]),
    ("loop takes 9.2 s against 5.3 s, `--multis 16` 4.0 s against 4.2 s", "REPORT.md",
     [r"^\| C10K \| 10000 \| asyncloop \| 7\.88\.1 \| 5\.2[5-9]\d s \(1\) \| 8\.14\.1 \| 9\.2\d\d s \(1\) \|",
      r"^\| C10K \| 10000 \| asyncloop multi×16 \| 7\.88\.1 \| 4\.1[5-9]\d s \(1\) \| 8\.14\.1 \| (3\.9[5-9]|4\.0[0-4])\d s \(1\) \|"]),
    ("the C pool does 15.02× the requests/s", "REPORT.md", [r"^\| threadpool / py-threadpool \| .*\| 15\.02× \|$"]),
    ("the C loop 6.31× asyncio + aiohttp", "REPORT.md", [r"^\| asyncloop / py-asyncio \| .*\| 6\.31× \|$"]),
    ("all four take 21.3–22.2 s, and the C loop needs 41.0 MiB against py-asyncio's 103.1 MiB", "REPORT.md",
     [r"^\| 1000 \| threadpool \| 1 \| 21\.2[5-9]\d \|", r"^\| 1000 \| asyncloop \| 1 \| 21\.2[5-9]\d \| .*\| 41\.0 \|",
      r"^\| 1000 \| py-asyncio \| 1 \| 22\.1[5-9]\d \| .*\| 103\.1 \|", r"^\| 1000 \| py-threadpool \| 1 \| 21\.8\d\d \|"]),
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
