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
    ("In TLS the loop is faster at m = 2 (1.40×)", "REPORT.md",
     [r"^\| 2 \| asyncloop faster by 1\.40× "]),
    ("held only 212 of its 1,000 permits' handshakes in flight and still matched the pool's 889",
     "REPORT.md", [r"^\| 1000 \| asyncloop \| 5 \| .*\| 212 \| 1164 / 0 / 0 \|",
                   r"^\| 1000 \| threadpool \| 5 \| .*\| 889 \| 1164 / 0 / 0 \|"]),
    ("the loop needs 55% less memory (97 MiB against 214 MiB)", "REPORT.md",
     [r"^\| 4000 \| asyncloop \| 1 \| .*\| 96\.9 \|", r"^\| 4000 \| threadpool \| 1 \| .*\| 213\.5 \|"]),
    ("one loop takes 5.2 s (57% of the ideal 3 s)", "REPORT.md",
     [r"^\| 10000 \| asyncloop \| 1 \| 5\.2\d\d \| .*\| 57% \|"]),
    ("the loop is faster at m = 2 (1.39×;", "REPORT.md",
     [r"^\| 2 \| asyncloop faster by 1\.39× "]),
    ("21,053 requests/s at best", "REPORT.md", [r"asyncloop\+save1 21053 requests/s"]),
    ("the plain loop takes 10.8 s against 5.2 s", "REPORT.md",
     [r"^\| C10K \| 10000 \| asyncloop \| 7\.88\.1 \| 5\.2\d\d s \(1\) \| 8\.14\.1 \| 10\.8\d\d s \(1\) \|"]),
    ("the C pool does 12.3× the requests/s", "REPORT.md", [r"^\| threadpool / py-threadpool \| .*\| 12\.[23]\d× \|$"]),
    ("the C loop 4.5× asyncio + aiohttp", "REPORT.md", [r"^\| asyncloop / py-asyncio \| .*\| 4\.[45]\d× \|$"]),
    ("the C loop needs 39.3 MiB against py-asyncio's 94.2 MiB", "REPORT.md",
     [r"^\| 1000 \| asyncloop \| 1 \| .*\| 39\.3 \|", r"^\| 1000 \| py-asyncio \| 1 \| .*\| 94\.2 \|"]),
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
