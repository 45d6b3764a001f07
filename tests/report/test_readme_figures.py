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

# (phrase in README.md, file under results/ (or, for a named set's committed
# run, under results-sets/SET/, written "results-sets/SET/FILE"), [regular
# expressions, each matching one line of that file])
FIGURES = [
    ("On one core it serves 0.52× nginx's request rate", "server/README.md",
     [r"^flagserver / nginx = \*\*0\.52\*\*\.$"]),
    ("loop is faster at m = 500 (1.58×), 1,000 (3.62×) and 2,000 (8.52×), each on 6 + 6 runs", "REPORT.md",
     [r"^\| 500 \| asyncloop faster by 1\.58× .*6\+6 runs", r"^\| 1000 \| asyncloop faster by 3\.62× .*6\+6 runs",
      r"^\| 2000 \| asyncloop faster by 8\.52× .*6\+6 runs"]),
    ("the loop finishes in 0.602 s (83% of the ideal 0.5 s) over 10 connections with 35.7 MiB, the pool in "
     "2.179 s over 1,000 connections", "REPORT.md",
     [r"^\| 1000 \| asyncloop \| 6 \| 0\.602 \| .*\| 83% \| .*\| 35\.7 \| .*\| 10 \| 1164 / 2892 / 0 \|",
      r"^\| 1000 \| threadpool \| 6 \| 2\.179 \| .*\| 169\.9 \| .*\| 1000 \| 1164 / 2892 / 0 \|"]),
    ("h2load, the rig's ceiling that saves nothing, takes 0.571 s", "REPORT.md",
     [r"^\| 1000 \| h2load \(rig ceiling, saves no files\) \| 5 \| 0\.571 "]),
    ("HTTP/2 makes the loop 1.35× faster; for the pool no significant difference", "REPORT.md",
     [r"^\| asyncloop \| 500 \| .*HTTP/2 faster by 1\.35× ", r"^\| threadpool \| 500 \| .*\| no significant difference "]),
    ("takes 6.2 s at m = 1,000", "REPORT.md", [r"^\| 1000 \| py-asyncio \| 1 \| (6\.1[5-9]\d|6\.2[0-4]\d) \| .*\| 1 \| 1164 / 2892 / 0 \|"]),
    ("the loop takes 0.584 s at m = 1,000 against 0.602 s with 7.88", "REPORT.md",
     [r"^\| H2-DELAY \| 1000 \| asyncloop \| 7\.88\.1 \| 0\.602 s \(6\) \| 8\.14\.1 \| 0\.584 s \(5\) \| "
      r".*no significant difference"]),
    ("in DELAY (each could have detected 1.05×); the loop is faster at m = 500, by 1.16×", "REPORT.md",
     [r"^\| 20 \| no significant difference \(could detect ≥ 1\.05×; threadpool's median lower by 1\.00×, 95% CI 1\.00–1\.01; p = 0\.6905",
      r"^\| 200 \| no significant difference \(could detect ≥ 1\.05×; asyncloop's median lower by 1\.02×, 95% CI 0\.99–1\.03; p = 0\.2222",
      r"^\| 500 \| asyncloop faster by 1\.16× .*10\+10 runs"]),
    ("In ERROR the loop is faster only at m = 200, by 1.07×", "REPORT.md",
     [r"^\| 200 \| asyncloop faster by 1\.07× .*6\+6 runs"]),
    ("81% of the ideal bound at m = 10 and 88–89% at m = 100", "REPORT.md",
     [r"^\| 10 \| threadpool \| 5 \| 3\.416 \| .*\| 81% \|", r"^\| 10 \| asyncloop \| 5 \| 3\.416 \| .*\| 81% \|",
      r"^\| 10 \| curl \| 5 \| 3\.428 \| .*\| 81% \|", r"^\| 100 \| threadpool \| 5 \| 0\.689 \| .*\| 88% \|",
      r"^\| 100 \| asyncloop \| 5 \| 0\.681 \| .*\| 89% \|", r"^\| 100 \| curl \| 5 \| 0\.685 \| .*\| 89% \|"]),
    ("by 1.07× (no significant difference, committed)", "REPORT.md",
     [r"^\| 500 \| no significant difference \(could detect ≥ 1\.20×; asyncloop's median lower by 1\.07×.*10\+10 runs"]),
    ("at m = 1,000 the loop's median is 1.30× lower, on 5 + 5 runs only", "REPORT.md",
     [r"^\| 1000 \| significant on only 5 \+ 5 runs .*asyncloop's median lower by 1\.30×",
      r"^\| 100 \| no significant difference \(could detect ≥ 1\.06×; asyncloop's median lower by 1\.01×"]),
    ("the loop needs 53% less memory (101.4 MiB against 216.3 MiB)", "REPORT.md",
     [r"^\| 4000 \| asyncloop \| 1 \| .*\| 101\.4 \|", r"^\| 4000 \| threadpool \| 1 \| .*\| 216\.3 \|"]),
    ("one loop takes 5.16 s (58% of the ideal 3 s), `--multis 16` 4.12 s", "REPORT.md",
     [r"^\| 10000 \| asyncloop \| 1 \| 5\.1[5-6]\d \| .*\| 58% \|",
      r"^\| 10000 \| asyncloop multi×16 \| 1 \| 4\.12\d \|"]),
    ("the loop is faster at every m from 2 to 500, by 1.13× (m = 10) to 1.42× (m = 500)", "REPORT.md",
     [r"^\| 2 \| asyncloop faster by 1\.35× ", r"^\| 5 \| asyncloop faster by 1\.17× ",
      r"^\| 10 \| asyncloop faster by 1\.13× ", r"^\| 20 \| asyncloop faster by 1\.22× ",
      r"^\| 50 \| asyncloop faster by 1\.26× ", r"^\| 100 \| asyncloop faster by 1\.32× ",
      r"^\| 200 \| asyncloop faster by 1\.31× ", r"^\| 500 \| asyncloop faster by 1\.42× ",
      r"Asyncloop is faster at m = 2, 5, 10, 20, 50, 100, 200, 500; no significant difference at m = 1 "]),
    ("19,562 requests/s at m = 10", "REPORT.md", [r"Best design in this scenario: asyncloop \(19562 requests/s at m = 10\)"]),
    ("has the lower median, not significantly", "REPORT.md",
     [r"^\| 200 \| asyncloop\+save1 \| no significant difference "]),
    ("the save thread takes 0.480 s at m = 50 against the plain loop's 0.416 s, and the io_uring line "
     "(`--save-uring`) 0.521 s", "REPORT.md",
     [r"^\| 50 \| asyncloop\+save1 \| 10 \| 0\.480 \|", r"^\| 50 \| asyncloop \| 10 \| 0\.416 \|",
      r"^\| 50 \| asyncloop\+uring \| 10 \| 0\.521 \|"]),
    ("peaks at 17,464 requests/s", "REPORT.md", [r"asyncloop\+uring 17464 requests/s"]),
    ("the pool takes 0.42× and the loop 0.37× curl --parallel's time at m = 10", "REPORT.md",
     [r"^\| 10 \| threadpool \| 0\.42× curl's time", r"^\| 10 \| asyncloop \| 0\.37× curl's time"]),
    ("the loop is faster at m = 10 (1.12×), 20 (1.15×), 100 (1.41×) and 200 (1.52×)", "REPORT.md",
     [r"^\| 10 \| asyncloop faster by 1\.12× ", r"^\| 20 \| asyncloop faster by 1\.15× ",
      r"^\| 100 \| asyncloop faster by 1\.41× ", r"^\| 200 \| asyncloop faster by 1\.52× "]),
    ("`--save-uring` takes 0.41× curl's time at m = 10 and 0.58× at m = 50", "REPORT.md",
     [r"^\| 10 \| asyncloop\+uring \| 0\.41× curl's time", r"^\| 50 \| asyncloop\+uring \| 0\.58× curl's time"]),
    ("loop takes 9.7 s against 5.2 s, `--multis 16` 4.2 s against 4.1 s; 8.14 needs less memory (124 MiB "
     "against 186 MiB)", "REPORT.md",
     [r"^\| C10K \| 10000 \| asyncloop \| 7\.88\.1 \| 5\.1[5-9]\d s \(1\) \| 8\.14\.1 \| 9\.7[0-4]\d s \(1\) \|.*186 MiB → 124 MiB",
      r"^\| C10K \| 10000 \| asyncloop multi×16 \| 7\.88\.1 \| 4\.1[0-4]\d s \(1\) \| 8\.14\.1 \| 4\.2[0-4]\d s \(1\) \|"]),
    ("the C pool does 10.75× the requests/s", "REPORT.md", [r"^\| threadpool / py-threadpool \| .*\| 10\.75× \|$"]),
    ("the C loop 5.49× asyncio + aiohttp", "REPORT.md", [r"^\| asyncloop / py-asyncio \| .*\| 5\.49× \|$"]),
    ("all four take 21.3–22.2 s, and the C loop needs 41.0 MiB against py-asyncio's 103.4 MiB", "REPORT.md",
     [r"^\| 1000 \| threadpool \| 1 \| 21\.4[5-9]\d \|", r"^\| 1000 \| asyncloop \| 1 \| 21\.3[0-4]\d \| .*\| 41\.0 \|",
      r"^\| 1000 \| py-asyncio \| 1 \| 22\.2[0-4]\d \| .*\| 103\.4 \|", r"^\| 1000 \| py-threadpool \| 1 \| 22\.1\d\d \|"]),
    ("DISK m = 10 (the pool 1.15× faster then, 15 + 15 runs, 95% CI 1.03–1.30; the loop 1.12× faster now, "
     "10 + 10, CI 1.09–1.18)", "REPORT.md",
     [r"^\| 10 \| asyncloop faster by 1\.12× \(95% CI 1\.09–1\.18, p = 1\.1e-05, 10\+10 runs\)"]),
    # the committed runs of the other sets (results-sets/)
    ("the loop is faster than the pool at m = 10 (1.21×) and 500 (2.13×), with no significant difference at "
     "m = 1 and 100, and 3.10× at m = 1,000 on 5 + 5 runs only", "results-sets/http2/REPORT.md",
     [r"^\| 10 \| asyncloop faster by 1\.21× .*10\+10 runs", r"^\| 500 \| asyncloop faster by 2\.13× .*6\+6 runs",
      r"^\| 1 \| no significant difference \(could detect ≥ 1\.30×; asyncloop",
      r"^\| 100 \| no significant difference \(could detect ≥ 1\.73×",
      r"^\| 1000 \| significant on only 5 \+ 5 runs .*asyncloop's median lower by 3\.10×"]),
    ("(14,178 against 9,461 requests/s at m = 10)", "results-sets/http2/REPORT.md",
     [r"^\| 10 \| asyncloop \| 10 \| 0\.547 \| .*\| 14178 \|", r"^\| 10 \| curl --http2 \| 5 \| 0\.820 \| .*\| 9461 \|"]),
    ("the loop is faster at every m, by 1.06× (m = 1) to 1.68× (m = 500)", "results-sets/http2/REPORT.md",
     [r"^\| 1 \| asyncloop faster by 1\.06× .*6\+6 runs", r"^\| 10 \| asyncloop faster by 1\.40× ",
      r"^\| 100 \| asyncloop faster by 1\.45× ", r"^\| 500 \| asyncloop faster by 1\.68× .*6\+6 runs"]),
    ("takes 3.529 s (85% of the ideal 3 s) over 100 connections with 159.6 MiB (114 MiB with libcurl 8.14.1); "
     "h2load, which saves nothing, reaches 94%", "results-sets/http2/REPORT.md",
     [r"^\| 10000 \| asyncloop \| 1 \| 3\.529 \| .*\| 85% \| .*\| 159\.6 \| .*\| 100 \| 5820 / 14460 / 0 \|",
      r"^\| C10K-H2 \| 10000 \| asyncloop \| 7\.88\.1 \| 3\.529 s \(1\) \| 8\.14\.1 \| .*160 MiB → 114 MiB",
      r"^\| 10000 \| h2load \(rig ceiling, saves no files\) \| 1 \| 3\.178 \| .*\| 94% \|"]),
    ("(WAN-FRESH) the loop is faster at m = 100 (1.08×) and 500 (1.50×)", "results-sets/net/REPORT.md",
     [r"^\| 100 \| asyncloop faster by 1\.08× .*6\+6 runs", r"^\| 500 \| asyncloop faster by 1\.50× .*6\+6 runs"]),
    ("both at 91–92% of the bound at m = 10", "results-sets/net/REPORT.md",
     [r"^\| 10 \| threadpool \| 5 \| 2\.696 \| .*\| 92% \|", r"^\| 10 \| asyncloop \| 5 \| 2\.720 \| .*\| 91% \|"]),
    ("(LOSSY-H2) the pool is faster at m = 10 (1.12×) and 50 (1.27×)", "results-sets/net/REPORT.md",
     [r"^\| 10 \| threadpool faster by 1\.12× .*6\+6 runs", r"^\| 50 \| threadpool faster by 1\.27× .*6\+6 runs"]),
    ("from m = 100 the loop is faster (1.61×; 2.48× at m = 500), over 1 and 4 connections against the pool's "
     "100 and 388", "results-sets/net/REPORT.md",
     [r"^\| 100 \| asyncloop faster by 1\.61× ", r"^\| 500 \| asyncloop faster by 2\.48× .*10\+10 runs",
      r"^\| asyncloop \| 100 \| 0\.02 s \| 305 / 339 \| 100 / 1 \|", r"^\| asyncloop \| 500 \| 0\.02 s \| 287 / 488 \| 388 / 4 \|",
      r"^\| threadpool \| 500 \| 0\.02 s \| 260 / 197 \| 388 / 388 \|"]),
    ("the loop is faster over HTTP/1.1 at m = 50 (1.28×) and over HTTP/2 at m = 100 (1.11×), the pool over "
     "HTTP/2 at m = 10 (1.09×)", "results-sets/net/REPORT.md",
     [r"^\| asyncloop \| 50 \| .*\| HTTP/1\.1 faster by 1\.28× ", r"^\| asyncloop \| 100 \| .*\| HTTP/2 faster by 1\.11× ",
      r"^\| threadpool \| 10 \| .*\| HTTP/2 faster by 1\.09× "]),
]


def readme_text():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return " ".join(f.read().split())


def results_path(name):
    if name.startswith("results-sets/"):
        return os.path.join(ROOT, name)
    return os.path.join(ROOT, "results", name)


def results_lines(name):
    with open(results_path(name), encoding="utf-8") as f:
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
                where = name if name.startswith("results-sets/") else "results/" + name
                out.append("README.md says %r, but %s has no line matching %r" % (phrase, where, pat))
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
