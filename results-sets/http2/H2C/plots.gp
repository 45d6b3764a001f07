# plots.gp -- written by scripts/report.py; run in this directory:
#   gnuplot -e "PNGTERM='set terminal pngcairo size 900,560 enhanced font \"sans,11\"'" plots.gp
if (!exists("PNGTERM")) PNGTERM = "set terminal png size 900,560"
set grid xtics ytics mxtics lc rgb "#dddddd"
# the legend right of the plot: below it, it covered the x axis label
set key outside right top vertical box
set format x "%g"
set mxtics 10
set bars small
mlist = '1 10 100 500'
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'elapsed.png'
unset title
set label 1 'H2C: elapsed time vs concur\_req (7760 requests, no delay; median of 5 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'elapsed time per run (s), median, bars min–max'
unset logscale; set logscale x; set autoscale
set xrange [0.666667:750]
set logscale y
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'elapsed-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)', 'elapsed-py-asyncio.dat' using 1:2:3:4 with yerrorlines lw 2 pt 4 ps 1.3 lc rgb '#ff7f0e' title 'py-asyncio'
set output
if ('svg' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'elapsed.svg'
unset title
set label 1 'H2C: elapsed time vs concur\_req (7760 requests, no delay; median of 5 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'elapsed time per run (s), median, bars min–max'
unset logscale; set logscale x; set autoscale
set xrange [0.666667:750]
set logscale y
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'elapsed-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)', 'elapsed-py-asyncio.dat' using 1:2:3:4 with yerrorlines lw 2 pt 4 ps 1.3 lc rgb '#ff7f0e' title 'py-asyncio'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'requests_per_s.png'
unset title
set label 1 'H2C: throughput vs concur\_req (7760 requests, no delay; median of 5 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'requests per second (404s count)'
unset logscale; set logscale x; set autoscale
set xrange [0.666667:750]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'requests_per_s-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)', 'requests_per_s-py-asyncio.dat' using 1:2:3:4 with yerrorlines lw 2 pt 4 ps 1.3 lc rgb '#ff7f0e' title 'py-asyncio'
set output
if ('svg' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'requests_per_s.svg'
unset title
set label 1 'H2C: throughput vs concur\_req (7760 requests, no delay; median of 5 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'requests per second (404s count)'
unset logscale; set logscale x; set autoscale
set xrange [0.666667:750]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'requests_per_s-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)', 'requests_per_s-py-asyncio.dat' using 1:2:3:4 with yerrorlines lw 2 pt 4 ps 1.3 lc rgb '#ff7f0e' title 'py-asyncio'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'cpu.png'
unset title
set label 1 'H2C: CPU time vs concur\_req (7760 requests, no delay; median of 5 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'CPU s (user + sys) per 1,000 requests'
unset logscale; set logscale x; set autoscale
set xrange [0.666667:750]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'cpu-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)', 'cpu-py-asyncio.dat' using 1:2:3:4 with yerrorlines lw 2 pt 4 ps 1.3 lc rgb '#ff7f0e' title 'py-asyncio'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'rss.png'
unset title
set label 1 'H2C: peak memory vs concur\_req (7760 requests, no delay; median of 5 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'peak RSS of the client (MiB)'
unset logscale; set logscale x; set autoscale
set xrange [0.666667:750]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'rss-py-asyncio.dat' using 1:2:3:4 with yerrorlines lw 2 pt 4 ps 1.3 lc rgb '#ff7f0e' title 'py-asyncio'
set output
