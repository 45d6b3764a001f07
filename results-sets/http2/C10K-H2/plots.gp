# plots.gp -- written by scripts/report.py; run in this directory:
#   gnuplot -e "PNGTERM='set terminal pngcairo size 900,560 enhanced font \"sans,11\"'" plots.gp
if (!exists("PNGTERM")) PNGTERM = "set terminal png size 900,560"
set grid xtics ytics mxtics lc rgb "#dddddd"
# the legend right of the plot: below it, it covered the x axis label
set key outside right top vertical box
set format x "%g"
set mxtics 10
set bars small
mlist = '1000 10000'
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'elapsed.png'
unset title
set label 1 'C10K-H2: elapsed time vs concur\_req (20280 requests, 1000 ms delay; median of 1 run)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'elapsed time per run (s), median, bars min–max'
unset logscale; set logscale x; set autoscale
set xrange [666.667:15000]
set logscale y
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'ideal.dat' using 1:2 with lines lw 2 lc rgb '#2ca02c' dt 3 title 'ideal: ceil(N/m) × delay', 'elapsed-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'elapsed-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'elapsed-asyncloop-multi16.dat' using 1:2:3:4 with yerrorlines lw 2 pt 3 ps 1.3 lc rgb '#e377c2' title 'asyncloop multi×16', 'elapsed-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)'
set output
if ('svg' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'elapsed.svg'
unset title
set label 1 'C10K-H2: elapsed time vs concur\_req (20280 requests, 1000 ms delay; median of 1 run)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'elapsed time per run (s), median, bars min–max'
unset logscale; set logscale x; set autoscale
set xrange [666.667:15000]
set logscale y
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'ideal.dat' using 1:2 with lines lw 2 lc rgb '#2ca02c' dt 3 title 'ideal: ceil(N/m) × delay', 'elapsed-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'elapsed-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'elapsed-asyncloop-multi16.dat' using 1:2:3:4 with yerrorlines lw 2 pt 3 ps 1.3 lc rgb '#e377c2' title 'asyncloop multi×16', 'elapsed-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'requests_per_s.png'
unset title
set label 1 'C10K-H2: throughput vs concur\_req (20280 requests, 1000 ms delay; median of 1 run)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'requests per second (404s count)'
unset logscale; set logscale x; set autoscale
set xrange [666.667:15000]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'requests_per_s-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'requests_per_s-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'requests_per_s-asyncloop-multi16.dat' using 1:2:3:4 with yerrorlines lw 2 pt 3 ps 1.3 lc rgb '#e377c2' title 'asyncloop multi×16', 'requests_per_s-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)'
set output
if ('svg' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'requests_per_s.svg'
unset title
set label 1 'C10K-H2: throughput vs concur\_req (20280 requests, 1000 ms delay; median of 1 run)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'requests per second (404s count)'
unset logscale; set logscale x; set autoscale
set xrange [666.667:15000]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'requests_per_s-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'requests_per_s-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'requests_per_s-asyncloop-multi16.dat' using 1:2:3:4 with yerrorlines lw 2 pt 3 ps 1.3 lc rgb '#e377c2' title 'asyncloop multi×16', 'requests_per_s-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'cpu.png'
unset title
set label 1 'C10K-H2: CPU time vs concur\_req (20280 requests, 1000 ms delay; median of 1 run)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'CPU s (user + sys) per 1,000 requests'
unset logscale; set logscale x; set autoscale
set xrange [666.667:15000]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'cpu-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'cpu-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'cpu-asyncloop-multi16.dat' using 1:2:3:4 with yerrorlines lw 2 pt 3 ps 1.3 lc rgb '#e377c2' title 'asyncloop multi×16', 'cpu-h2load.dat' using 1:2:3:4 with yerrorlines lw 2 pt 2 ps 1.3 lc rgb '#000000' title 'h2load (rig ceiling, saves no files)'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'rss.png'
unset title
set label 1 'C10K-H2: peak memory vs concur\_req (20280 requests, 1000 ms delay; median of 1 run)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'peak RSS of the client (MiB)'
unset logscale; set logscale x; set autoscale
set xrange [666.667:15000]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'rss-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'rss-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'rss-asyncloop-multi16.dat' using 1:2:3:4 with yerrorlines lw 2 pt 3 ps 1.3 lc rgb '#e377c2' title 'asyncloop multi×16'
set output
@PNGTERM
set output 'latency.png'
unset title
set label 1 'C10K-H2: request latency percentiles at m = 1000 (pooled over the timed runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'percentile (log scale of 1/(1-q))'
set ylabel 'latency (ms, log scale)'
unset logscale; set autoscale; set logscale xy; set xrange [2:1000]
set yrange [873.36:3056.59]; set mytics 1
set ytics ('1000' 1000, '1500' 1500, '2000' 2000, '3000' 3000)
set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000)
plot 'latency-threadpool.dat' using 1:3 with lines lw 2 lc rgb '#1f77b4' title 'threadpool', 'latency-asyncloop.dat' using 1:3 with lines lw 2 lc rgb '#d62728' title 'asyncloop'
set output
