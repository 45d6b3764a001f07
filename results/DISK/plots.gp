# plots.gp -- written by scripts/report.py; run in this directory:
#   gnuplot -e "PNGTERM='set terminal pngcairo size 900,560 enhanced font \"sans,11\"'" plots.gp
if (!exists("PNGTERM")) PNGTERM = "set terminal png size 900,560"
set grid xtics ytics mxtics lc rgb "#dddddd"
# the legend right of the plot: below it, it covered the x axis label
set key outside right top vertical box
set format x "%g"
set mxtics 10
set bars small
mlist = '10 20 50 100 200'
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'elapsed.png'
unset title
set label 1 'DISK: elapsed time vs concur\_req (3298 requests, no delay; median of 10–15 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'elapsed time per run (s), median, bars min–max'
unset logscale; set logscale x; set autoscale
set xrange [6.66667:300]
set logscale y
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'elapsed-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'elapsed-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'elapsed-asyncloop+uring.dat' using 1:2:3:4 with yerrorlines lw 2 pt 12 ps 1.3 lc rgb '#7f7f7f' title 'asyncloop+uring', 'elapsed-curl.dat' using 1:2:3:4 with yerrorlines lw 2 pt 9 ps 1.3 lc rgb '#555555' title 'curl'
set output
if ('svg' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'elapsed.svg'
unset title
set label 1 'DISK: elapsed time vs concur\_req (3298 requests, no delay; median of 10–15 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'elapsed time per run (s), median, bars min–max'
unset logscale; set logscale x; set autoscale
set xrange [6.66667:300]
set logscale y
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'elapsed-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'elapsed-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'elapsed-asyncloop+uring.dat' using 1:2:3:4 with yerrorlines lw 2 pt 12 ps 1.3 lc rgb '#7f7f7f' title 'asyncloop+uring', 'elapsed-curl.dat' using 1:2:3:4 with yerrorlines lw 2 pt 9 ps 1.3 lc rgb '#555555' title 'curl'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'requests_per_s.png'
unset title
set label 1 'DISK: throughput vs concur\_req (3298 requests, no delay; median of 10–15 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'requests per second (404s count)'
unset logscale; set logscale x; set autoscale
set xrange [6.66667:300]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'requests_per_s-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'requests_per_s-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'requests_per_s-asyncloop+uring.dat' using 1:2:3:4 with yerrorlines lw 2 pt 12 ps 1.3 lc rgb '#7f7f7f' title 'asyncloop+uring', 'requests_per_s-curl.dat' using 1:2:3:4 with yerrorlines lw 2 pt 9 ps 1.3 lc rgb '#555555' title 'curl'
set output
if ('svg' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'requests_per_s.svg'
unset title
set label 1 'DISK: throughput vs concur\_req (3298 requests, no delay; median of 10–15 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'requests per second (404s count)'
unset logscale; set logscale x; set autoscale
set xrange [6.66667:300]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'requests_per_s-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'requests_per_s-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'requests_per_s-asyncloop+uring.dat' using 1:2:3:4 with yerrorlines lw 2 pt 12 ps 1.3 lc rgb '#7f7f7f' title 'asyncloop+uring', 'requests_per_s-curl.dat' using 1:2:3:4 with yerrorlines lw 2 pt 9 ps 1.3 lc rgb '#555555' title 'curl'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'cpu.png'
unset title
set label 1 'DISK: CPU time vs concur\_req (3298 requests, no delay; median of 10–15 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'CPU s (user + sys) per 1,000 requests'
unset logscale; set logscale x; set autoscale
set xrange [6.66667:300]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'cpu-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'cpu-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'cpu-asyncloop+uring.dat' using 1:2:3:4 with yerrorlines lw 2 pt 12 ps 1.3 lc rgb '#7f7f7f' title 'asyncloop+uring', 'cpu-curl.dat' using 1:2:3:4 with yerrorlines lw 2 pt 9 ps 1.3 lc rgb '#555555' title 'curl'
set output
if ('png' eq 'svg') { set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white' } else { @PNGTERM }
set output 'rss.png'
unset title
set label 1 'DISK: peak memory vs concur\_req (3298 requests, no delay; median of 10–15 runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'concur\_req m (transfers in flight, log scale)'
set ylabel 'peak RSS of the client (MiB)'
unset logscale; set logscale x; set autoscale
set xrange [6.66667:300]
set yrange [0:*]
set xtics (); do for [i=1:words(mlist)] { set xtics add (word(mlist, i) real(word(mlist, i))) }
plot 'rss-threadpool.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' title 'threadpool', 'rss-asyncloop.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'asyncloop', 'rss-asyncloop+uring.dat' using 1:2:3:4 with yerrorlines lw 2 pt 12 ps 1.3 lc rgb '#7f7f7f' title 'asyncloop+uring'
set output
@PNGTERM
set output 'latency.png'
unset title
set label 1 'DISK: request latency percentiles at m = 10 (pooled over the timed runs)' at screen 0.5, screen 0.965 center
set tmargin 2.5
set xlabel 'percentile (log scale of 1/(1-q))'
set ylabel 'latency (ms, log scale)'
unset logscale; set autoscale; set logscale xy; set xrange [2:1000]
set yrange [0.252174:3.17276]; set mytics 1
set ytics ('0.3' 0.3, '0.5' 0.5, '0.7' 0.7, '1' 1, '1.5' 1.5, '2' 2, '3' 3)
set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000)
plot 'latency-threadpool.dat' using 1:3 with lines lw 2 lc rgb '#1f77b4' title 'threadpool', 'latency-asyncloop.dat' using 1:3 with lines lw 2 lc rgb '#d62728' title 'asyncloop', 'latency-asyncloop+uring.dat' using 1:3 with lines lw 2 lc rgb '#7f7f7f' title 'asyncloop+uring'
set output
