"""Plot data (.dat files) and the gnuplot script (plots.gp) of one
scenario; bench-report.sh runs gnuplot on it."""

import math
import os

from .base import plural, write_text
from .lines import ALL_LINES, COLOR, C_LINES, MARKER, show
from .net import ideal_s
from .stats import percentile


def latency_m(s, pts):
    """The representative m of the latency plot: the scenario's latency_m when
    its C points are valid, else the largest m where both C lines are."""
    valid = {(p["line"], p["m"]) for p in pts if p["valid"] and p["_pooled"]}
    want = s.get("latency_m")
    if want and all((l, want) in valid for l in C_LINES):
        return want
    both = [m for m in sorted({m for (_, m) in valid}) if all((l, m) in valid for l in C_LINES)]
    return both[-1] if both else None


def latency_curve(pooled, npoints=60):
    """(x, q, ms) with x = 1 / (1 - q) log-spaced from 2 (p50) to 1000 (p99.9)."""
    out = []
    for i in range(npoints + 1):
        x = 2 * (500 ** (i / npoints))
        q = 1 - 1 / x
        out.append((x, q, percentile(pooled, q)))
    return out


def log_tics(lo, hi):
    """Tic values for a log axis from lo to hi (lo > 0): 1, 2, 5 times a
    power of ten, or finer (1, 1.5, 2, 3, 5, 7) when the range holds fewer
    than four of those."""
    for steps in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        tics = [k * 10 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
                for k in steps if lo <= k * 10 ** e <= hi]
        if len(tics) >= 4:
            break
    return tics


def write_plot_data(sdir, s, pts):
    """The .dat files and plots.gp of one scenario; returns the plot names."""
    for fn in os.listdir(sdir):
        if fn.endswith((".dat", ".png", ".svg")) or fn in ("plots.gp", "plots.txt"):
            os.remove(os.path.join(sdir, fn))
    metrics = {
        "elapsed": lambda p: (p["elapsed"]["median"], p["elapsed"]["min"], p["elapsed"]["max"]),
        "requests_per_s": lambda p: (p["requests_per_s"], s["requests"] / p["elapsed"]["max"],
                                     s["requests"] / p["elapsed"]["min"]),
        "rss": lambda p: (p["rss_kb"] / 1024,) * 3 if p["rss_kb"] else None,
        "cpu": lambda p: ((p["cpu_user_per_1k"] + p["cpu_sys_per_1k"]),) * 3
        if p["cpu_user_per_1k"] is not None and p["cpu_sys_per_1k"] is not None else None,
    }
    series = {}
    for metric, get in metrics.items():
        for line in ALL_LINES:
            rows = []
            for p in sorted((p for p in pts if p["line"] == line and p["valid"]), key=lambda p: p["m"]):
                v = get(p)
                if v and v[0] is not None:
                    rows.append("%d %.6g %.6g %.6g" % ((p["m"],) + tuple(v)))
            if rows:
                write_text(os.path.join(sdir, "%s-%s.dat" % (metric, line)), "\n".join(rows) + "\n")
                series.setdefault(metric, []).append(line)
    ms = sorted({p["m"] for p in pts})
    if (s["delay_s"] > 0 or s.get("net")) and ms:
        rows = []
        for m in range(max(1, int(ms[0] / 1.5)), int(ms[-1] * 1.5) + 1):
            rows.append("%d %.6g" % (m, ideal_s(s, m) or 0))
        write_text(os.path.join(sdir, "ideal.dat"), "\n".join(rows) + "\n")
    lm = latency_m(s, pts)
    lat_lines = []
    lat_ms = []
    if lm:
        for p in pts:
            if p["m"] == lm and p["valid"] and p["_pooled"]:
                curve = latency_curve(p["_pooled"])
                lat_ms += [c[2] for c in curve if c[2] > 0]
                rows = ["%.6g %.6g %.6g" % c for c in curve]
                write_text(os.path.join(sdir, "latency-%s.dat" % p["line"]),
                           "# x = 1/(1-q)  q  latency_ms  (pooled, m = %d, %d samples)\n" % (lm, len(p["_pooled"]))
                           + "\n".join(rows) + "\n")
                lat_lines.append(p["line"])
    what = "%d requests, %s; median of %s" % (
        s["requests"], "%g ms delay" % (s["delay_s"] * 1000) if s["delay_s"] > 0 else "no delay",
        plural(s["runs"], "run") if s["runs"] == s.get("max_runs", s["runs"])
        else "%d–%d runs" % (s["runs"], s["max_runs"]))
    gp = [GP_HEAD, "mlist = '%s'" % " ".join(str(m) for m in ms)]
    made = []
    wanted = s.get("plots", ["elapsed", "requests_per_s", "cpu", "rss", "latency"])
    labels = {
        "elapsed": ("elapsed time vs concur\\_req", "elapsed time per run (s), median, bars min–max", True),
        "requests_per_s": ("throughput vs concur\\_req", "requests per second (404s count)", True),
        "rss": ("peak memory vs concur\\_req", "peak RSS of the client (MiB)", False),
        "cpu": ("CPU time vs concur\\_req", "CPU s (user + sys) per 1,000 requests", False),
    }
    for metric in ["elapsed", "requests_per_s", "cpu", "rss"]:
        if metric not in series:
            continue
        title, ylab, svg = labels[metric]
        logy = 1 if metric == "elapsed" else 0
        ideal = "ideal.dat" if metric == "elapsed" and (s["delay_s"] > 0 or s.get("net")) else ""
        plots = ", ".join(
            ["'%s' using 1:2 with lines lw 2 lc rgb '#2ca02c' dt 3 title '%s'"
             % (ideal, "ideal: handshakes + ceil(N/m) × (RTT + delay)" if s.get("net") else "ideal: ceil(N/m) × delay")]
            * (1 if ideal else 0)
            # every point at its own m: a sideways offset on a log axis would
            # move it across a step of the ideal bound (issue 22); the lines
            # differ by marker and colour
            + ["'%s-%s.dat' using 1:2:3:4 with yerrorlines lw 2 pt %d ps 1.3 lc rgb '%s' title '%s'"
               % (metric, l, MARKER[l], COLOR[l], show(l)) for l in series[metric]])
        for term in ["png"] + (["svg"] if svg else []):
            gp.append("if ('%s' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' "
                      "background 'white' } else { @PNGTERM }" % term)
            gp.append("set output '%s.%s'" % (metric, term))
            gp.extend(title_lines("%s: %s (%s)" % (s["name"], title, what)))
            gp.append("set xlabel 'concur\\_req m (transfers in flight, log scale)'")
            gp.append("set ylabel '%s'" % ylab)
            gp.append("unset logscale; set logscale x; set autoscale")
            gp.append("set xrange [%g:%g]" % (ms[0] / 1.5, ms[-1] * 1.5))
            gp.append("set logscale y" if logy else "set yrange [0:*]")
            gp.append("set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }")
            gp.append("plot " + plots)
            gp.append("set output")
        if metric in wanted:
            made.append(metric)
    if lat_lines:
        plots = ", ".join("'latency-%s.dat' using 1:3 with lines lw 2 lc rgb '%s' title '%s'"
                          % (l, COLOR[l], show(l)) for l in lat_lines)
        gp.append("@PNGTERM")
        gp.append("set output 'latency.png'")
        gp.extend(title_lines("%s: request latency percentiles at m = %d (pooled over the timed runs)"
                              % (s["name"], lm)))
        gp.append("set xlabel 'percentile (log scale of 1/(1-q))'")
        # a log y axis: the C lines' few ms and Python's hundreds both readable
        gp.append("set ylabel 'latency (ms, log scale)'")
        gp.append("unset logscale; set autoscale; set logscale xy; set xrange [2:1000]")
        if lat_ms:  # the data's own range, not whole decades, with tics a reader can read
            lo, hi = min(lat_ms) / 1.15, max(lat_ms) * 1.15
            gp.append("set yrange [%.6g:%.6g]; set mytics 1" % (lo, hi))
            gp.append("set ytics (%s)" % ", ".join("'%g' %g" % (y, y) for y in log_tics(lo, hi)))
        gp.append("set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000)")
        gp.append("plot " + plots)
        gp.append("set output")
        made.append("latency")
    write_text(os.path.join(sdir, "plots.gp"), "\n".join(gp) + "\n")
    return made, lm


def title_lines(text):
    """A plot's title, centred on the canvas. gnuplot centres `set title` over
    the plot area, which the legend outside on the right makes narrow: a long
    title ran off the canvas's left edge ("AY: elapsed time ..." for
    H2-DELAY). Label 1 is redefined by each plot."""
    return ["unset title", "set label 1 '%s' at screen 0.5, screen 0.965 center" % text, "set tmargin 2.5"]


GP_HEAD = """# plots.gp -- written by scripts/report.py; run in this directory:
#   gnuplot -e "PNGTERM='set terminal pngcairo size 900,560 enhanced font \\"sans,11\\"'" plots.gp
if (!exists("PNGTERM")) PNGTERM = "set terminal png size 900,560"
set grid xtics ytics mxtics lc rgb "#dddddd"
# the legend right of the plot: below it, it covered the x axis label
set key outside right top vertical box
set format x "%g"
set mxtics 10
set bars small"""
