#!/usr/bin/env python3
"""report.py -- flagbench's one report program (Python 3 standard library only).

The thin entry point of the package scripts/flagreport/ (one room per
concern; see its __init__.py). scripts/bench.sh starts processes and copies
files; everything that reads, checks, reduces or decides lives there:

  resolve SCEN.json --out FILE [--quick] [--concur L] [--runs N]
                     [--python-root DIR] [--python-unavailable WHY] [--libcurl8]
        the scenario after --quick/--concur/--runs, written to FILE as JSON and
        printed as shell assignments for bench.sh (a setting is declared once,
        in bench/scenarios/NAME.json; a line once, in bench/lines.json)
  libcurl8-scenarios BENCHDIR            the scenarios with a "libcurl8" section
                                         (bench.sh's libcurl 8 pass, --libcurl8)
  scenario-set BENCHDIR [NAME]           the scenarios of set NAME (bench.sh
                                         --set; "default" is the default run,
                                         "all" every scenario); without NAME
                                         every set and its scenarios
  curl-config RESOLVED BASE_URL DIR      the reference line's curl --config
  check-server RESOLVED STATS            exit 1 (one line why) when a running
                                         server's /stats settings differ
  dataset DIR --out FILE                 the dataset's manifest (the size of
                                         every flag file), for the bytes rule
  more-runs RAWDIR M                     how many more runs the pair at m needs
  point-line RAWDIR LINE M               one line of progress for a point
  m-done RAWDIR M [LINE...]              bench.sh's call when m is done: the
                                         point-line of each LINE, then more-runs
  meta OUT                               OUT/meta.txt -> OUT/meta.json
  report OUT                             points.json, .dat, plots.gp, REPORT.md
  compare OUT1 OUT2                      both runs' claims side by side; exit 1
                                         when one m has opposite claims
  budget [--results DIR] [--set NAME]    a set's run time (the default run's
                                         unless told), estimated from
                                         DIR/*/raw.json timings

Exit status: 0 done; 1 bad or damaged input (one line on stderr naming the
file), or compare's contradiction; 2 usage. The raw layout: docs/bench.md.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from flagreport.base import ReportError  # noqa: E402

try:
    from flagreport.cli import main  # noqa: E402  (reads bench/lines.json)
except ReportError as e:
    print("report.py: %s" % e, file=sys.stderr)
    sys.exit(1)

if __name__ == "__main__":
    sys.exit(main())
