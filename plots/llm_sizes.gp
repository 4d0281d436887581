# The agents by served model (the LLM-size sweep) next to none and periodic:
# rows moved relative to none, hit rate, and decision latency.
# gnuplot -e "fmt='png'; dat='llm_sizes.dat'; out='llm_sizes.png'; common='plots/common.gp'" plots/llm_sizes.gp
load common
stats dat using 1 nooutput
n = STATS_blocks
xl = "(strcol(col('policy')) . (strcol(col('model')) ne '-' && strcol(col('model')) ne strcol(col('policy')) ? \"\\n\" . strcol(col('model')) : ''))"
colr(p) = p eq "none" ? 0x9a9a9a : p eq "periodic" ? 0x4c78a8 : 0xf28e2b

eval begin(3 * n, 3, 480, 400, 70, 50, "The agents by served model (only what this machine can serve) against none and periodic")
eval note("Left: rows moved relative to none. Middle: hit rate. Right: mean decision latency (s), labelled valid answers / decision points (0 s when none was answered).\\nThe paper sweeps 135M to 8x22B parameters on GPUs and finds ~3B the sweet spot; here only small models on shared CPU cores.")
set yrange [0:*]
set offsets 0.5, 0.5, graph 0.14, 0
array M[3] = ["rows_rel", "hit_rate", "latency_s"]
array YL[3] = ["rows moved / none", "hit rate (%)", "decision latency (s)"]
array F[3] = [1, 100, 1]
do for [b = 0:n - 1] {
  do for [k = 1:3] {
    set title panel(b)
    set ylabel YL[k]
    unset key
    plot dat index b using 1:(F[k] * column(col(M[k]))):($1 - 0.35):($1 + 0.35):(0):(F[k] * column(col(M[k]))):(colr(strcol(col("policy")))):xtic(@xl) \
           with boxxyerror lc rgb variable notitle, \
         '' index b using 1:(F[k] * column(col(M[k]))):(k == 3 ? (column(col("decisions")) > 0 ? sprintf("%.0f/%.0f", column(col("valid")), column(col("decisions"))) : "") : sprintf("%.3g", F[k] * column(col(M[k])))) \
           with labels offset 0, 0.8 font ',10' notitle
  }
}
unset multiplot
