# Decision timeline of every agent run: one lane per rank, a bar where the
# agent asked for a replacement, a dot where it kept the buffer.
# gnuplot -e "fmt='png'; dat='decisions.dat'; out='decisions.png'; common='plots/common.gp'" plots/decisions.gp
load common
stats dat using 2 nooutput
n = STATS_blocks
R = STATS_max + 1                              # ranks
live = "($6 == 0)"

eval begin(n, 2, 720, 160 + 40 * (R < 16 ? R : 16), 70, 35, "Agent decisions over training, one lane per rank")
eval note("x: the step a decision took effect before (dropped, not asked: the step it was posted at). Fallback: the agent's answer was invalid or missing.")
set xlabel "training step"
set ylabel "rank"
set yrange [-0.6:R - 0.3]
set ytics 1
set grid noytics
set offsets graph 0.02, graph 0.02, 0, 0
do for [i = 0:n - 1] {
  set title panel(i) font ",10"
  if (i == 0) { eval keyright } else { unset key }
  plot dat index i using 1:($3 == 0 && @live ? $2 : NaN) with points pt 7 ps 0.5 lc rgb "#9a9a9a" notitle, \
       '' index i using 1:($3 == 1 && @live ? $2 - 0.35 : NaN):(0):(0.7) with vectors nohead lw 2.5 lc rgb "#4c78a8" notitle, \
       '' index i using 1:($4 == 1 ? $2 : NaN) with points pt 9 ps 1.4 lc rgb "#e15759" notitle, \
       '' index i using 1:($6 == 1 ? $2 : NaN) with points pt 6 ps 1.1 lc rgb "#f28e2b" notitle, \
       '' index i using 1:($6 == 2 ? $2 : NaN) with points pt 4 ps 0.9 lc rgb "#b07aa1" notitle, \
       NaN with points pt 7 ps 0.5 lc rgb "#9a9a9a" title "keep the buffer", \
       NaN with lines lw 2.5 lc rgb "#4c78a8" title "replace", \
       NaN with points pt 9 ps 1.4 lc rgb "#e15759" title "fallback used", \
       NaN with points pt 6 ps 1.1 lc rgb "#f28e2b" title "dropped (stale)", \
       NaN with points pt 4 ps 0.9 lc rgb "#b07aa1" title "not asked (model busy)"
}
unset multiplot
