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
    ("in ERROR the loop is faster only at m = 200, by 1.09×", "REPORT.md",
     [r"^\| 200 \| asyncloop faster by 1\.09× "]),
    ("the loop is faster at m = 500 by 1.07×", "REPORT.md",
     [r"^\| 500 \| asyncloop faster by 1\.07× "]),
    ("in TLS the loop is faster at m = 2 (1.21×)", "REPORT.md",
     [r"^\| 2 \| asyncloop faster by 1\.21× "]),
    ("held only 216 of its 1,000 permits' handshakes in flight against the pool's 998",
     "REPORT.md", [r"^\| 1000 \| asyncloop \| 5 \| 1\.217 .*\| 216 \| 1164 / 0 / 0 \|",
                   r"^\| 1000 \| threadpool \| 5 \| 1\.331 .*\| 998 \| 1164 / 0 / 0 \|"]),
    ("the loop needs 54% less memory (99.9 MiB against 217.7 MiB)", "REPORT.md",
     [r"^\| 4000 \| asyncloop \| 1 \| .*\| 99\.9 \|", r"^\| 4000 \| threadpool \| 1 \| .*\| 217\.7 \|"]),
    ("one loop takes 5.98 s (50% of the ideal 3 s)", "REPORT.md",
     [r"^\| 10000 \| asyncloop \| 1 \| 5\.98\d \| .*\| 50% \|"]),
    ("the loop is faster at m = 2 (1.51×), 100 (1.33×) and 200 (1.18×), the pool at m = 20 (1.15×)",
     "REPORT.md", [r"^\| 2 \| asyncloop faster by 1\.51× ", r"^\| 100 \| asyncloop faster by 1\.33× ",
                   r"^\| 200 \| asyncloop faster by 1\.18× ", r"^\| 20 \| threadpool faster by 1\.15× "]),
    ("19,476 requests/s at m = 100", "REPORT.md", [r"asyncloop\+save1 19476 requests/s at m = 100"]),
    ("peaks at 12,296 requests/s", "REPORT.md", [r"asyncloop\+uring 12296 requests/s"]),
    ("the pool is faster than the loop at m = 10 (1.39×) and 20 (1.21×)", "REPORT.md",
     [r"^\| 10 \| threadpool faster by 1\.39× ", r"^\| 20 \| threadpool faster by 1\.21× "]),
    ("`--save-uring` takes 1.00× curl's time at m = 10 and 1.35× at m = 50", "REPORT.md",
     [r"^\| 10 \| asyncloop\+uring \| 1\.00× curl's time", r"^\| 50 \| asyncloop\+uring \| 1\.35× curl's time"]),
    ("the plain loop takes 16.5 s against 6.0 s", "REPORT.md",
     [r"^\| C10K \| 10000 \| asyncloop \| 7\.88\.1 \| 5\.98\d s \(1\) \| 8\.14\.1 \| 16\.5\d\d s \(1\) \|"]),
    ("the C pool does 13.91× the requests/s", "REPORT.md", [r"^\| threadpool / py-threadpool \| .*\| 13\.91× \|$"]),
    ("the C loop 5.93× asyncio + aiohttp", "REPORT.md", [r"^\| asyncloop / py-asyncio \| .*\| 5\.93× \|$"]),
    ("the C loop needs 40.6 MiB against py-asyncio's 103.1 MiB", "REPORT.md",
     [r"^\| 1000 \| asyncloop \| 1 \| .*\| 40\.6 \|", r"^\| 1000 \| py-asyncio \| 1 \| .*\| 103\.1 \|"]),
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
