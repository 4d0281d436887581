# Buffer hit rate over the training steps, one line per policy.
# gnuplot -e "fmt='png'; dat='hit_rate.dat'; out='hit_rate.png'; common='plots/common.gp'; pols='none lru ...'" plots/hit_rate.gp
load common
stats dat using 1 nooutput
n = STATS_blocks
np = words(pols)
bel(c) = word(pols, c - 1) eq "belady"
PCOL(c) = pcolor(c - 1, word(pols, c - 1))
PT(c) = (c - 2) % 12 + 1       # distinct markers: identical curves stay visible
PS(c) = bel(c) ? 0 : 1.1       # (belady: a line without markers)

eval begin(n, 2, 640, 380, 70, 50, "Buffer hit rate over training: share of remote input rows served by the buffer")
eval note("Per step: hits / remote input rows, summed over ranks (and seeds), then over a centred moving window.\\nnone has no buffer (0 %). Belady: the offline optimum's hit rate over the whole run (a constant).")
set xlabel "training step (all epochs)"
set ylabel "hit rate (%)"
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
do for [i = 0:n - 1] {
  set title panel(i)
  if (i == 0) { eval keyright } else { unset key }
  stats dat index i using 1 nooutput
  PI = STATS_records > 20 ? int(STATS_records / 10) : 2
  plot for [c = 2:np + 1] dat index i using 1:(100 * column(c)) with lines lw bel(c) ? 2.5 : 1.6 dt 1 + bel(c) lc rgb PCOL(c) notitle, \
       for [c = 2:np + 1] '' index i using 1:(100 * column(c)) every PI::((c - 2) * PI / np) with points pt PT(c) ps PS(c) lc rgb PCOL(c) notitle, \
       for [c = 2:np + 1] NaN with linespoints lw 1.6 dt 1 + bel(c) pt PT(c) ps PS(c) lc rgb PCOL(c) title word(pols, c - 1)
}
unset multiplot
