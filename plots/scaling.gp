# Epoch time against the number of ranks, one line per policy.
# gnuplot -e "fmt='png'; dat='scaling.dat'; out='scaling.png'; common='plots/common.gp'; pols='none lru ...'" plots/scaling.gp
load common
stats dat using 1 nooutput
n = STATS_blocks
np = words(pols)
npl = np - (word(pols, np) eq "belady")      # belady: no timings
PCOL(c) = pcolor(c - 1, word(pols, c - 1))
# smallest and largest time: ms when all are under a second, a log time axis when they span more than 20x
range = system(sprintf("awk -F'\t' '!/^#/ { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9.eE+-]+$/ && $i > 0) { if (!lo || $i < lo) lo = $i; if ($i > hi) hi = $i } } END { print lo + 0, hi + 0 }' '%s'", dat))
sc = real(word(range, 2)) < 1 ? 1000 : 1
ylog = real(word(range, 2)) > 20 * real(word(range, 1))

eval begin(n, 2, 640, 400, 70, 50, "Epoch time against the number of MPI ranks (batch size per rank fixed)")
eval note("Means over seeds. Ideal: linear speedup of none from the fewest ranks (time x fewest / ranks).\\nBelady has no timings. Log-2 rank axis; the time axis turns logarithmic (and says so) when times span over 20x.")
set xlabel "MPI ranks"
set ylabel sprintf("epoch time (%s%s)", sc == 1000 ? "ms" : "s", ylog ? ", log scale" : "")
set logscale x 2
if (ylog) { set logscale y; set autoscale yfix } else { set yrange [0:*] }
set offsets graph 0.05, graph 0.05, graph 0.08, graph (ylog ? 0.05 : 0)
do for [i = 0:n - 1] {
  set title panel(i)
  if (i == 0) { eval keyright } else { unset key }
  plot for [c = 2:npl + 1] dat index i using 1:(sc * column(c)) with linespoints lw 1.6 pt (c - 2) % 12 + 1 ps 1.2 lc rgb PCOL(c) title columnheader(c), \
       '' index i using 1:(sc * column(np + 2)) with lines dt 3 lw 2 lc rgb "#7f7f7f" title "ideal (none)"
}
unset multiplot
