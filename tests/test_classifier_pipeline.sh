#!/usr/bin/env bash
# The classifier agents end to end: access traces recorded by real mpirun
# runs (tiny and small, 2 ranks), samples with counterfactual labels, the
# five models trained and checked on the time-held-out split, then served
# over the traces against the fixed rules.
#
# What is robust on this little data: the test split holds ~120 points, ~90%
# labelled 0 ("keep": replacing pays mostly early in a run, and never on
# small), so one standard error of an accuracy is ~3 points. The traces, and
# so the split, move with any change to the sampler, generator or
# partitioner, hence accuracies are compared within 2 standard errors, in
# both directions:
#  * a model may not fall below the majority class by more (inverted labels,
#    features misaligned with labels, a scaler applied differently);
#  * trained on outcomes shuffled across the samples, no model may beat the
#    majority class by more, nor the model trained on the real outcomes
#    (label leakage, e.g. horizon rows used as features, would).
# Serving is compared in rows moved, which is what matters: never more than
# with no buffer, and fewer than `periodic`, which is what a model answering
# "replace" at every decision point does (the reference's MLP did).
source "$(dirname "$0")/lib.sh"
C=$BIN/agents/classifier
data t tiny 2
data s small 2
mpirun_n 2 "$BIN/tools/rudder_train" --graph "$t_graph" --partition "$t_part" --fanouts 5,10 \
  --batch-size 20 --hidden 8 --epochs 40 --quiet --record-trace "$DATA/clf_tiny.trace" > /dev/null
mpirun_n 2 "$BIN/tools/rudder_train" --graph "$s_graph" --partition "$s_part" --fanouts 5,10 \
  --batch-size 100 --hidden 8 --epochs 3 --eval-nodes 100 --quiet \
  --record-trace "$DATA/clf_small.trace" > /dev/null
traces=("$DATA"/clf_tiny.trace.{0,1} "$DATA"/clf_small.trace.{0,1})
buffer=(--period 5 --buffer-fraction 0.2 --delta 25)
"$C/rudder_collect" "${traces[@]}" "${buffer[@]}" --horizon 50 -o "$DATA/clf.csv"
awk -F, 'NR > 1 { n++; pos += $(NF-2) } END { print n " samples, " pos " labelled 1"
  exit !(n == 2 * 119 + 2 * 59 && pos > 0 && pos < n) }' "$DATA/clf.csv" \
  || fail "samples: expected 119 + 59 decision points per rank, both labels"

# Outcomes (label, rows_replace, rows_keep) shuffled across the samples.
awk -F, 'NR == 1 { print; next } { head[++n] = $1; for (i = 2; i <= NF - 3; i++) head[n] = head[n] "," $i
           out[n] = $(NF-2) "," $(NF-1) "," $NF }
         END { srand(1); for (i = n; i > 1; i--) { j = int(rand() * i) + 1; t = out[i]; out[i] = out[j]; out[j] = t }
               for (i = 1; i <= n; i++) print head[i] "," out[i] }' "$DATA/clf.csv" > "$DATA/clf_shuffled.csv"

# accuracy FILE ROW: the accuracy of ROW (model, majority=*) in a train report.
accuracy() { awk -v r="$2" '$1 ~ "^" r { print $2 }' "$1"; }
# within A B N P: A >= B - 2 standard errors of an accuracy P over N points.
within() { awk -v a="$1" -v b="$2" -v n="$3" -v p="$4" 'BEGIN { exit !(a >= b - 2 * sqrt(p * (1 - p) / n)) }'; }

# beats_keep EVAL: the model's choices fetch fewer rows over the horizons
# than keeping at every decision point (the majority, 0, of these samples)
# does. A model that always answers keep ties and is rejected: accuracy
# alone would pass it (the majority is ~80% of the points).
beats_keep() {
  awk '$1 == "model" { rows = $6 } $1 == "majority=0" { keep = $6 }
    END { if (keep == "") print "the majority is not keep: cannot compare"; exit !(keep != "" && rows < keep) }' "$1"
}
# The check rejects what it must: a model trained on samples labelled keep
# but one (training needs both classes) answers keep everywhere, so its
# horizon rows are exactly the majority's.
awk -F, 'BEGIN { OFS = "," } NR > 1 { $(NF-2) = NR == 2 } { print }' "$DATA/clf.csv" > "$DATA/clf_keep.csv"
"$C/rudder_classifier" train --model xgboost "$DATA/clf_keep.csv" -o "$DATA/clf_keep.xgboost" > /dev/null
"$C/rudder_classifier" evaluate --model xgboost "$DATA/clf_keep.xgboost" "$DATA/clf.csv" > "$DATA/clf_keep.eval"
awk '$1 == "model" { rows = $6 } $1 == "majority=0" { keep = $6 } END { exit !(rows == keep) }' "$DATA/clf_keep.eval" \
  || fail "the model trained on keep labels did not keep everywhere: $(cat "$DATA/clf_keep.eval")"
! beats_keep "$DATA/clf_keep.eval" || fail "a model that always answers keep was accepted: $(cat "$DATA/clf_keep.eval")"

declare -A policy=([xgboost]=xgb [xgboost-rf]=rf [svm]=svm [linear]=linear [fann]=fann)
for model in xgboost xgboost-rf svm linear fann; do
  "$C/rudder_classifier" train --model $model "$DATA/clf.csv" -o "$DATA/clf.$model" | tee "$DATA/clf.$model.out"
  "$C/rudder_classifier" train --model $model "$DATA/clf_shuffled.csv" -o "$DATA/clf_shuffled.$model" \
    > "$DATA/clf_shuffled.$model.out"
  [ -s "$DATA/clf.$model" ] && [ -s "$DATA/clf.$model.json" ] || fail "$model: no model file and sidecar"
  n=$(grep -o 'test [0-9]*' "$DATA/clf.$model.out" | cut -d' ' -f2)
  acc=$(accuracy "$DATA/clf.$model.out" model) maj=$(accuracy "$DATA/clf.$model.out" majority)
  sacc=$(accuracy "$DATA/clf_shuffled.$model.out" model) smaj=$(accuracy "$DATA/clf_shuffled.$model.out" majority)
  echo "$model: accuracy $acc (majority $maj); on shuffled outcomes $sacc (majority $smaj), $n test points"
  within "$acc" "$maj" "$n" "$maj" || fail "$model: accuracy $acc below the majority's $maj"
  within "$smaj" "$sacc" "$n" "$smaj" || fail "$model: $sacc on shuffled outcomes beats their majority $smaj: leakage"
  within "$acc" "$sacc" "$n" "$maj" || fail "$model: $sacc on shuffled outcomes beats $acc on the real ones"
  # evaluate: the saved model scored on every sample (mostly its training
  # points): no worse than their majority, and the labels' choices (the
  # oracle) fetch no more over the horizons than the model's.
  "$C/rudder_classifier" evaluate --model $model "$DATA/clf.$model" "$DATA/clf.csv" > "$DATA/clf.$model.eval"
  awk -v n="$(awk -F, 'END { print NR - 1 }' "$DATA/clf.csv")" '$1 == "model" { acc = $2; rows = $6 }
    $1 ~ /^majority/ { maj = $2 } $1 == "oracle" { orows = $6 }
    END { exit !(acc >= maj - 2 * sqrt(maj * (1 - maj) / n) && orows <= rows) }' "$DATA/clf.$model.eval" \
    || fail "$model: evaluate: $(cat "$DATA/clf.$model.eval")"
  beats_keep "$DATA/clf.$model.eval" || fail "$model: no fewer rows than always keeping: $(cat "$DATA/clf.$model.eval")"

  # Served over every trace: rows moved (fetched + preloaded) against none,
  # decisions at every decision point, all valid.
  for tr in "${traces[@]}"; do
    "$C/rudder_classifier" replay "$tr" "${buffer[@]}" --policy ${policy[$model]} \
      --policy-options "model=$DATA/clf.$model" | tee "$DATA/clf.serve"
    "$BIN/tools/rudder_replay" "$tr" "${buffer[@]}" --policy none,periodic > "$DATA/clf.fixed"
    awk -v m=$model 'FNR == NR { for (i = 2; i < NF; i++) {
                                   if ($i == "moved") served = $(i + 1); if ($i == "steps") steps = $(i - 1)
                                   if ($i == "decisions") d = $(i + 1); if ($i == "(valid") valid = $(i + 1) + 0 }
                                 next }
      $1 == "none" { none = $8 } $1 == "periodic" { periodic = $8 }
      END { points = int((steps - 1) / 5)
            if (served > none) { print m ": moved " served " rows, more than none " none; exit 1 }
            if (d != points || valid != d) { print m ": " d " decisions (" valid " valid), expected " points; exit 1 }
            print served, periodic > "/dev/stderr" }' "$DATA/clf.serve" "$DATA/clf.fixed" 2>> "$DATA/clf.$model.rows" \
      || fail "serving $model on $tr"
  done
  awk -v m=$model '{ s += $1; p += $2 } END { print m ": served " s " rows moved, periodic " p; exit !(s < p) }' \
    "$DATA/clf.$model.rows" || fail "$model serves no better than replacing at every decision point"
  rm -f "$DATA/clf.$model.rows"
done

# Bad input is named.
out=$("$C/rudder_classifier" train --model xgboost "$DATA/nope.csv" -o "$DATA/x" 2>&1 || true)
grep -q "nope.csv: cannot open" <<< "$out" || fail "missing samples not named: $out"
sed '1s/hit_rate/hits/' "$DATA/clf.csv" > "$DATA/clf_bad.csv"
out=$("$C/rudder_classifier" train --model svm "$DATA/clf_bad.csv" -o "$DATA/x" 2>&1 || true)
grep -q "clf_bad.csv: line 1 is not the header" <<< "$out" || fail "bad header not named: $out"
out=$("$C/rudder_classifier" train --model forest "$DATA/clf.csv" -o "$DATA/x" 2>&1 || true)
grep -q "unknown classifier 'forest'" <<< "$out" || fail "unknown model not named: $out"
out=$("$C/rudder_classifier" evaluate --model svm "$DATA/clf.xgboost" "$DATA/clf.csv" 2>&1 || true)
grep -q "clf.xgboost.json: a model of back-end 'xgboost', not 'svm'" <<< "$out" || fail "wrong back-end not named: $out"
out=$("$C/rudder_classifier" replay "${traces[0]}" --policy fann --policy-options model="$DATA/none.fann" 2>&1 || true)
grep -q "none.fann: cannot open" <<< "$out" || fail "missing model not named: $out"
out=$("$C/rudder_collect" "$DATA/nope.trace" --period 5 --horizon 5 -o "$DATA/x.csv" 2>&1 || true)
grep -q "nope.trace: cannot open" <<< "$out" && [ ! -e "$DATA/x.csv" ] || fail "missing trace not named: $out"
echo "classifier pipeline: ok"
