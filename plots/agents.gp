# Agents (LLM, SLM) and classifiers against none and the best fixed policy:
# epoch time (left) and rows fetched relative to none (right) per group.
# gnuplot -e "fmt='png'; dat='agents.dat'; out='agents.png'; common='plots/common.gp'" plots/agents.gp
load common
stats dat using col("epoch_max") nooutput
n = STATS_blocks
sc = STATS_max < 1 ? 1000 : 1
KIND = col("kind"); BEST = col("best")
array KN[6] = ["none", "best", "classifier", "slm", "llm", "agent"]
array KT[6] = ["no buffer (none)", "best fixed policy", "classifier", "SLM agent", "LLM agent", "other agent"]
array KC[6] = [0x9a9a9a, 0x4c78a8, 0x59a14f, 0xf28e2b, 0xe15759, 0xb07aa1]
kidx(k, best, p) = p eq "none" ? 1 : best != 0 ? 2 : sum [j = 3:6] (KN[j] eq k ? j : 0)
color = "(KC[kidx(strcol(KIND), column(BEST), strcol(col('policy')))])"
BESTLAB = "\n(best fixed)"
xlab = "(strcol(col('policy')) . (column(BEST) != 0 ? BESTLAB : ''))"

eval begin(2 * n, 2, 620, 400, 70, 35, "Agents and classifiers against no buffer and the best fixed policy")
eval note("Left: mean epoch time, speedup over none on top. Right: rows fetched during training and initial fill, relative to none; dashed: Belady optimum.")
set yrange [0:*]
set offsets 0.5, 0.5, graph 0.12, 0
set style fill solid 0.85 border rgb "#404040"
do for [i = 0:n - 1] {
  set title panel(i) . ": epoch time"
  set ylabel sprintf("epoch time (%s)", sc == 1000 ? "ms" : "s")
  if (i == 0) { eval keyright } else { unset key }
  plot dat index i using 1:(sc * column(col("epoch_s"))):($1 - 0.35):($1 + 0.35):(0):(sc * column(col("epoch_s"))):@color:xtic(@xlab) \
         with boxxyerror lc rgb variable notitle, \
       '' index i using 1:(sc * column(col("epoch_s"))):(sprintf("%.2f×", column(col("speedup")))) with labels offset 0, 0.8 font ',10' notitle, \
       for [j = 1:5] NaN with boxes fc rgb KC[j] title KT[j], \
       NaN with lines dt 2 lw 2 lc rgb "black" title "Belady optimum"
  unset key
  set title panel(i) . ": communication"
  set ylabel "rows fetched / rows fetched by none"
  bel = cell(i, "belady_rel")
  if (bel ne "NaN") { set arrow 1 from graph 0, first bel to graph 1, first bel nohead dt 2 lw 2 lc rgb "black" front }
  plot dat index i using 1:(column(col("rows_rel")) + column(col("preload_rel"))):($1 - 0.35):($1 + 0.35):(0):(column(col("rows_rel")) + column(col("preload_rel"))):@color:xtic(@xlab) \
         with boxxyerror lc rgb variable notitle, \
       '' index i using 1:(column(col("rows_rel")) + column(col("preload_rel"))):(sprintf("%.2f", column(col("rows_rel")) + column(col("preload_rel")))) \
         with labels offset 0, 0.8 font ',10' notitle
  unset arrow 1
}
unset multiplot
