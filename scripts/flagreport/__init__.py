"""flagbench's report package (Python 3 standard library only).

scripts/report.py is its entry point; the rooms, one concern each:

  base       ROOT, ReportError, reading JSON and key-value files
  lines      bench/lines.json: the designs and references, declared once
  stats      Mann-Whitney U, bootstrap CI, percentiles, the "faster" and room rules
  scenarios  bench/scenarios/NAME.json resolved; settings checks
  raw        reading a point's raw files (facts, hyperfine, records, latencies)
  validity   every INVALID rule, each a named function the report cites
  ranges     the range of every number read (validity's numbers rule)
  points     one raw point reduced to the table's numbers
  verdicts   pair claims, crossover, best design, against curl
  text       tables and sentences
  plots      plot data and gnuplot scripts
  lossy      HTTP/1.1 against HTTP/2 under loss (LOSSY, LOSSY-H2)
  reportmd   REPORT.md, verdicts.json, the libcurl 8 section
  cli        the subcommands

flagreport.api re-exports the public names of every room (the fixture tests
use it); importing the package itself reads nothing.
"""
