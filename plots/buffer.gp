# Buffer-size sensitivity: hit rate, rows moved relative to none and epoch
# time against the buffer's share of the halo, one line per policy.
# gnuplot -e "fmt='png'; dat='buffer.dat'; out='buffer.png'; common='plots/common.gp'; pols='none static ...'" plots/buffer.gp
load common
stats dat using 1 nooutput
n = STATS_blocks
np = words(pols)
PCOL(i) = pcolor(i + 1, word(pols, i))
C(i, k) = 1 + 3 * (i - 1) + k          # k = 1 hit rate, 2 rows, 3 epoch time

eval begin(3 * n, 3, 520, 380, 70, 50, "Buffer-size sensitivity: the buffer's share of the halo from 5 % to 50 %")
eval note("Left: hit rate. Middle: rows moved (fetched + initial fill) relative to none at the same size. Right: mean epoch time.\\nBelady: the offline optimum's rows (no timings). Means over seeds.")
set xlabel "buffer (% of halo)"
set offsets graph 0.03, graph 0.03, graph 0.08, 0
set xtics (5, 10, 25, 50)
set logscale x
set xrange [3.5:70]
do for [b = 0:n - 1] {
  do for [k = 1:3] {
    set title panel(b) . (k == 1 ? ": hit rate" : k == 2 ? ": rows moved" : ": epoch time")
    set ylabel (k == 1 ? "hit rate (%)" : k == 2 ? "rows moved / none" : "epoch time (s)")
    set yrange [0:*]
    if (b == 0 && k == 1) { eval keyright } else { unset key }
    f = (k == 1 ? 100 : 1)
    plot for [i = 1:np] dat index b using (100 * $1):(f * column(C(i, k))) with linespoints lw 1.8 pt (i - 1) % 12 + 1 ps 1.2 \
         dt 1 + (word(pols, i) eq "belady") lc rgb PCOL(i) title word(pols, i)
  }
}
unset multiplot
