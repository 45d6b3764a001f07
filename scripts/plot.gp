# plot.gp -- one flagbench plot: a metric against concur_req (m), log x, one
# line per series with min-max error bars, optionally the ideal bound.
# Called by scripts/bench-report.sh, which passes with -e:
#   term      "pngcairo", "png" or "svg"        out    output file
#   ttl       title                             ylab   y-axis label
#   dir       directory of the .dat files       series space-separated series names
#   metrics   space-separated metric names; file DIR/METRIC-SERIES.dat holds
#             "m median min max" per line; metric 1 solid, metric 2 dashed
#   mlabels   legend suffix per metric ("" when one metric), '_' for space
#   logy      1 for a log y axis                xmin, xmax  x range
#   ideal     "" or a .dat file "m seconds" drawn as the ideal bound
#   mlist     space-separated m values of the sweep, the x tics

if (term eq "svg") {
    set terminal svg size 900,560 dynamic enhanced font "sans,12" background "white"
} else {
    if (term eq "pngcairo") {
        set terminal pngcairo size 900,560 enhanced font "sans,11"
    } else {
        set terminal png size 900,560
    }
}
set output out

set title ttl
set xlabel "concur\\_req m (transfers in flight, log scale)"
set ylabel ylab
set logscale x
set xrange [xmin:xmax]
if (logy) { set logscale y } else { set yrange [0:*] }
set grid xtics ytics mxtics lc rgb "#dddddd"
set key outside below center horizontal box
set format x "%g"
# a tic at every m of the sweep
set xtics ()
do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
set mxtics 10
set bars small

color(s) = (s eq "threadpool") ? "#1f77b4" : (s eq "asyncloop") ? "#d62728" : "#555555"
marker(s) = (s eq "threadpool") ? 7 : (s eq "asyncloop") ? 5 : 9
# Series side by side around each m, so overlapping error bars stay readable.
nser = words(series)
shift(i) = 1.0 + 0.06 * (i - (nser + 1) / 2.0)
label(j, s) = (words(mlabels) > 0) ? sprintf("%s %s", s, word(mlabels, j)) : s
file(j, s) = sprintf("%s/%s-%s.dat", dir, word(metrics, j), s)

if (strlen(ideal) > 0) {
    plot ideal using 1:2 with lines lw 2 lc rgb "#2ca02c" dt 3 title "ideal: ceil(N/m) × delay", \
         for [j=1:words(metrics)] for [i=1:nser] file(j, word(series, i)) \
             using ($1 * shift(i)):2:3:4 with yerrorlines lw 2 pt marker(word(series, i)) ps 1 \
             dt j lc rgb color(word(series, i)) title label(j, word(series, i))
} else {
    plot for [j=1:words(metrics)] for [i=1:nser] file(j, word(series, i)) \
             using ($1 * shift(i)):2:3:4 with yerrorlines lw 2 pt marker(word(series, i)) ps 1 \
             dt j lc rgb color(word(series, i)) title label(j, word(series, i))
}
