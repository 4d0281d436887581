# Remote rows fetched per policy relative to none, with the Belady bound.
# gnuplot -e "fmt='png'; dat='communication.dat'; out='communication.png'; common='plots/common.gp'" plots/communication.gp
load common
stats dat using col("rows_rel") nooutput
n = STATS_blocks
R = col("rows_rel"); P = col("preload_rel")

eval begin(n, 2, 640, 400, 70, 50, "Remote feature rows fetched per policy, relative to no buffer (none = 1)")
eval note("During training = misses + replacement prefetches; initial fill = rows loaded into the buffer before the first step.\\nBelady = offline optimum (replay of the none run's access trace): the fewest rows any policy with this buffer size could fetch.")
set ylabel "rows fetched / rows fetched by none"
set yrange [0:*]
set offsets 0.5, 0.5, graph 0.12, 0
do for [i = 0:n - 1] {
  set title panel(i)
  bel = cell(i, "belady_rel")
  unset arrow 1
  if (bel ne "NaN") { set arrow 1 from graph 0, first bel to graph 1, first bel nohead dt 2 lw 2 lc rgb "black" front }
  if (i == 0) { eval keyright } else { unset key }
  plot dat index i using 1:(column(R)):($1 - 0.35):($1 + 0.35):(0):(column(R)):xtic(strcol(col("policy"))) \
          with boxxyerror fc rgb "#4c78a8" title "fetched during training", \
       '' index i using 1:(column(R) + column(P)):($1 - 0.35):($1 + 0.35):(column(R)):(column(R) + column(P)) \
          with boxxyerror fc rgb "#b9cde5" fs pattern 4 title "initial buffer fill", \
       NaN with lines dt 2 lw 2 lc rgb "black" title "Belady optimum", \
       '' index i using 1:(column(R) + column(P)):(sprintf("%.2f", column(R) + column(P))) with labels offset 0, 0.8 font ',10' notitle
}
unset multiplot
