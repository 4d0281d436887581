#!/usr/bin/env bash
# The menu classifiers end to end, on traces of a real 2-rank mpirun run:
#  * rudder_collect --labels menu: one sample per decision point, whose
#    label is the first action with the fewest recorded rows (keep first);
#  * the five back-ends trained on the samples and evaluated: the labels'
#    choices (the oracle) fetch no more over the horizons than any model's;
#  * the acceptance check (a model's choices fetch fewer rows than always
#    keeping) rejects a model that always answers keep, and the oracle
#    passes it (there is something to learn on these samples);
#  * a live 2-rank run of xgb-menu equals its replay on the run's own
#    traces decision for decision (step, action, raw answer) and row for row.
source "$(dirname "$0")/lib.sh"
C=$BIN/agents/classifier
data s small 2
mpirun_n 2 "$BIN/tools/rudder_train" --graph "$s_graph" --partition "$s_part" --fanouts 5,10 \
  --batch-size 100 --hidden 8 --epochs 3 --eval-nodes 100 --quiet \
  --record-trace "$DATA/menu_small.trace" > /dev/null
traces=("$DATA"/menu_small.trace.{0,1})
buffer=(--period 5 --buffer-fraction 0.25 --delta 25 --lookahead 8)
"$C/rudder_collect" "${traces[@]}" "${buffer[@]}" --labels menu --horizon 20 -o "$DATA/menu.csv"
# Columns: trace, rank, step, the features, label, then rows_ACTION per action.
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "label") L = i
                   if (NF - L != 18 || $(L + 1) != "rows_keep") { print "bad header"; exit 1 }; next }
  { n++; best = 0; for (a = 1; a < 18; a++) if ($(L + 1 + a) < $(L + 1 + best)) best = a
    if ($L != best) { print "line " NR ": label " $L ", least rows at action " best; exit 1 }
    tunes += $L != 0 }
  END { print n " samples, " tunes " tunes"; exit !(n == 2 * 59 && tunes > 0) }' "$DATA/menu.csv" \
  || fail "menu samples: expected 59 decision points per rank, each labelled with its least rows, some tunes"

# accepted EVAL: the model's choices fetch fewer rows over the horizons than
# always keeping (menu evaluate columns: name, accuracy, tunes, horizon rows).
accepted() {
  awk '$1 == "model" { rows = $4 } $1 == "keep" || $1 == "majority=keep" { keep = $4 }
       END { exit !(keep != "" && rows < keep) }' "$1"
}
# A model trained on labels that are keep but one (training needs two
# classes) answers keep everywhere: its rows are keep's, and it is rejected.
awk -F, 'BEGIN { OFS = "," } NR == 1 { for (i = 1; i <= NF; i++) if ($i == "label") L = i }
  NR > 1 { $L = NR == 2 ? 3 : 0 } { print }' "$DATA/menu.csv" > "$DATA/menu_keep.csv"
"$C/rudder_classifier" train --model xgboost "$DATA/menu_keep.csv" -o "$DATA/menu_keep.xgboost" > /dev/null
"$C/rudder_classifier" evaluate --model xgboost "$DATA/menu_keep.xgboost" "$DATA/menu.csv" > "$DATA/menu_keep.eval"
awk '$1 == "model" { rows = $4; tunes = $3 } $1 ~ /keep$/ { keep = $4 } END { exit !(rows == keep && tunes == 0) }' \
  "$DATA/menu_keep.eval" || fail "the model trained on keep labels did not keep everywhere: $(cat "$DATA/menu_keep.eval")"
! accepted "$DATA/menu_keep.eval" || fail "a model that always answers keep was accepted: $(cat "$DATA/menu_keep.eval")"
# The check accepts the labels themselves (the oracle's rows, as a model's).
awk '$1 == "oracle" { $1 = "model" } $1 != "model" { print }' "$DATA/menu_keep.eval" > "$DATA/menu_oracle.eval"
awk '$1 == "oracle" { print "model", $2, $3, $4 }' "$DATA/menu_keep.eval" >> "$DATA/menu_oracle.eval"
accepted "$DATA/menu_oracle.eval" || fail "the labels' own choices are not accepted: $(cat "$DATA/menu_keep.eval")"

for model in xgboost xgboost-rf svm linear fann; do
  "$C/rudder_classifier" train --model $model "$DATA/menu.csv" -o "$DATA/menu.$model" > "$DATA/menu.$model.out"
  grep -Eq '"labels":[[:space:]]*"menu"' "$DATA/menu.$model.json" && grep -Eq '"classes":[[:space:]]*18' "$DATA/menu.$model.json" \
    || fail "$model: the sidecar does not record menu labels and 18 classes"
  "$C/rudder_classifier" evaluate --model $model "$DATA/menu.$model" "$DATA/menu.csv" > "$DATA/menu.$model.eval"
  awk '$1 == "model" { rows = $4 } $1 == "oracle" { orows = $4 } END { exit !(orows != "" && orows <= rows) }' \
    "$DATA/menu.$model.eval" || fail "$model: evaluate: $(cat "$DATA/menu.$model.eval")"
  echo "$model: $(awk '$1 == "model" { print "accuracy " $2 ", tunes " $3 ", horizon rows " $4 }
                      $1 ~ /keep$/ { print "(keep " $4 ")" }' "$DATA/menu.$model.eval" | paste -sd' ')"
done
# A menu model in a binary policy is refused by name.
out=$("$C/rudder_classifier" replay "${traces[0]}" "${buffer[@]}" --policy xgb \
        --policy-options model="$DATA/menu.xgboost" 2>&1 || true)
grep -q "menu.xgboost.json: a model of menu labels" <<< "$out" || fail "menu model in a binary policy: $out"

# Live against replay: xgb-menu on 2 ranks, then replayed on the traces the
# run recorded (the same accesses: no policy changes what is sampled).
rm -f "$DATA/menu_live.h5"
mpirun_n 2 "$BIN/tools/rudder_train" --graph "$s_graph" --partition "$s_part" --fanouts 5,10 \
  --batch-size 100 --hidden 8 --epochs 3 --eval-nodes 100 --quiet "${buffer[@]}" \
  --policy xgb-menu --policy-options "model=$DATA/menu.xgboost" --record-trace "$DATA/menu_live.trace" \
  --steps-csv "$DATA/menu_live.csv" --results "$DATA/menu_live.h5" --run-id live > "$DATA/menu_live.out" 2>&1 \
  || fail "live xgb-menu: $(tail -5 "$DATA/menu_live.out")"
"$BIN/experiments/rudder_export" "$DATA/menu_live.h5" --table decisions > "$DATA/menu_live.decisions.tsv"
"$C/rudder_classifier" replay "$DATA"/menu_live.trace.{0,1} "${buffer[@]}" --policy xgb-menu \
  --policy-options "model=$DATA/menu.xgboost" --decisions "$DATA/menu_replay.decisions.tsv" > "$DATA/menu_replay.out"
# rank, step posted, step applied, action (1: a tune), raw answer ("ACTION SCORE").
pick() { awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
                     { print $c["rank"] "\t" $c["step_posted"] "\t" $c["step_applied"] "\t" $c["replace"] "\t" $c["raw"] }' "$1" | sort -k1,1n -k2,2n; }
pick "$DATA/menu_live.decisions.tsv" > "$DATA/menu_live.d"
pick "$DATA/menu_replay.decisions.tsv" > "$DATA/menu_replay.d"
[ "$(wc -l < "$DATA/menu_live.d")" = $((2 * 59)) ] || fail "live: $(wc -l < "$DATA/menu_live.d") decisions, expected 2 x 59"
cmp -s "$DATA/menu_live.d" "$DATA/menu_replay.d" \
  || fail "live and replayed decisions differ: $(diff "$DATA/menu_live.d" "$DATA/menu_replay.d" | head -5)"
for rank in 0 1; do
  live=$(awk -F, -v r=$rank 'NR > 1 && $1 == r { s += $8 } END { print s + 0 }' "$DATA/menu_live.csv")
  replay=$(awk -v r=$rank '$2 == "rank" && $3 == r "," { for (i = 1; i < NF; i++) if ($i == "fetched") print $(i + 1) }' \
             "$DATA/menu_replay.out")
  [ -n "$replay" ] && [ "$live" = "$replay" ] || fail "rank $rank: live fetched $live rows, replay $replay"
  echo "xgb-menu rank $rank: live and replay fetched $live rows, $(awk -F'\t' -v r=$rank '$1 == r { n++; t += $4 }
    END { print n " decisions (" t " tunes)" }' "$DATA/menu_live.d") equal"
done

# Bad input is named.
out=$("$C/rudder_collect" "${traces[0]}" --period 5 --horizon 5 --labels best -o "$DATA/x.csv" 2>&1 || true)
grep -q "labels 'best': replace or menu" <<< "$out" || fail "unknown labels not named: $out"
echo "classifier menu pipeline: ok"
