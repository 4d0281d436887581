# Rows moved by the lookahead policy against its window K, with Belady (the
# offline optimum) and vip (its prior alone) as lines.
# gnuplot -e "fmt='png'; dat='lookahead.dat'; out='lookahead.png'; common='plots/common.gp'" plots/lookahead.gp
load common
stats dat using 1 nooutput
n = STATS_blocks
eval begin(n, 2, 640, 400, 70, 50, "Rows moved against the lookahead window K (fetched + preloaded, all ranks)")
eval note("lookahead: Belady inside the window of K sampled-ahead steps, the VIP probability beyond it; labels: its rows / Belady's.\\nBelady: offline optimum over the whole run (trace replay); vip: the static top-VIP buffer.")
set xlabel "K (steps sampled ahead)"
set ylabel "rows moved (millions)"
set logscale x 2
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
do for [i = 0:n - 1] {
  set title panel(i)
  if (i == 0) { eval keyright } else { unset key }
  plot dat index i using ($1 > 0 ? $1 : 0.5):($2 / 1e6) with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "lookahead", \
       '' index i using ($1 > 0 ? $1 : 0.5):($3 / 1e6) with lines dt 2 lw 2 lc rgb "black" title "Belady", \
       '' index i using ($1 > 0 ? $1 : 0.5):($4 / 1e6) with lines dt 3 lw 2 lc rgb "#d62728" title "vip", \
       '' index i using ($1 > 0 ? $1 : 0.5):($2 / 1e6):($3 > 0 ? sprintf("%.3f", $2 / $3) : "") with labels offset 0, 0.9 font ',9' notitle
}
unset multiplot
