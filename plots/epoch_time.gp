# Mean epoch time per policy, stacked by phase, speedup vs none on top.
# gnuplot -e "fmt='png'; dat='epoch_time.dat'; out='epoch_time.png'; common='plots/common.gp'" plots/epoch_time.gp
load common
stats dat using col("epoch_max") nooutput
ms = STATS_max < 1            # milliseconds when every epoch is under a second
sc = ms ? 1000 : 1
n = STATS_blocks
stats dat using col("seeds") nooutput
seeds = STATS_max
array PH[6] = ["sample_s", "fetch_s", "network_s", "compute_s", "allreduce_s", "other_s"]
array NAME[6] = ["sampling", "fetch: software", "fetch: emulated network", "forward/backward", "gradient allreduce", "other (outside the phases)"]
array COLOR[6] = ["#8dd3c7", "#fb8072", "#fdb4a8", "#80b1d3", "#bebada", "#d9d9d9"]
cum(k) = sc * sum [j = 1:6] (j <= k ? (column(col(PH[j])) > 0 ? column(col(PH[j])) : 0) : 0)

eval begin(n, 2, 640, 420, 70, 50, "Mean epoch time per buffer policy; on top: speedup over no buffer (none)")
eval note("Means over seeds. Phases: mean seconds per rank and step x steps per epoch; other: epoch wall time minus the phases.\\nBelady (the offline optimum) has no timings and is not shown.")
set ylabel sprintf("epoch time (%s)", ms ? "ms" : "s")
set yrange [0:*]
set offsets 0.4, 0.4, graph 0.12, 0
do for [i = 0:n - 1] {
  set title panel(i)
  if (i == 0) { eval keyright } else { unset key }
  plot for [k = 1:6] dat index i using 1:(cum(k)):($1 - 0.35):($1 + 0.35):(cum(k - 1)):(cum(k)):xtic(strcol(col("policy"))) \
          with boxxyerror fc rgb COLOR[k] title NAME[k], \
       '' index i using 1:(sc * column(col("epoch_max"))):(sprintf("%.2f×", column(col("speedup")))) with labels offset 0, 0.9 font ',10' notitle, \
       '' index i using 1:(column(col("seeds")) > 1 ? sc * column(col("epoch_min")) : NaN):(0):(sc * (column(col("epoch_max")) - column(col("epoch_min")))) \
          with vectors heads size screen 0.006, 90 lc rgb "#303030" title (seeds > 1 ? sprintf("min-max over %d seeds", seeds) : "")
}
unset multiplot
