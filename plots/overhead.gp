# Overhead breakdown: the mean step per policy, split into its phases, with
# the buffer's own work (lookup, replacement) and the policy's decide() apart
# from the exchange, and the agents' decision latency (off the critical path).
# gnuplot -e "fmt='png'; dat='overhead.dat'; out='overhead.png'; common='plots/common.gp'" plots/overhead.gp
load common
stats dat using 1 nooutput
n = STATS_blocks
array PH[8] = ["sample_ms", "fetch_sw_ms", "network_ms", "lookup_ms", "replace_ms", "decide_ms", "compute_ms", "allreduce_ms"]
array NAME[8] = ["sampling", "exchange: software", "exchange: emulated network", "buffer lookup", "buffer replacement", "policy decide()", "forward/backward", "gradient allreduce"]
array COLOR[8] = ["#8dd3c7", "#fb8072", "#fdb4a8", "#ffd92f", "#e5c494", "#e41a1c", "#80b1d3", "#bebada"]
cum(k) = sum [j = 1:8] (j <= k ? (column(col(PH[j])) > 0 ? column(col(PH[j])) : 0) : 0)

eval begin(n, 2, 640, 420, 70, 50, "Where a training step's time goes, per buffer policy (ms per rank and step)")
eval note("Means over ranks, steps and seeds. decide(): what the train loop waits on the policy; an agent's answer arrives asynchronously,\\nits mean latency (s) is printed above its bar with the decision count. The buffer's lookup and replacement are taken out of the exchange.")
set ylabel "ms per step"
set yrange [0:*]
set offsets 0.4, 0.4, graph 0.14, 0
do for [i = 0:n - 1] {
  set title panel(i)
  if (i == 0) { eval keyright } else { unset key }
  plot for [k = 1:8] dat index i using 1:(cum(k)):($1 - 0.35):($1 + 0.35):(cum(k - 1)):(cum(k)):xtic(strcol(col("policy"))) \
          with boxxyerror fc rgb COLOR[k] title NAME[k], \
       '' index i using 1:(cum(8)):(column(col("decisions")) > 0 ? sprintf("%.0f dec., %.2g s", column(col("decisions")), column(col("latency_s"))) : "") \
          with labels offset 0, 0.9 font ',9' notitle
}
unset multiplot
