#!/usr/bin/env bash
# Trace replay against the live run: for every policy that runs live, the
# rows each rank fetched during training (misses + replacement rows) equal
# exactly what rudder_replay computes on that rank's recorded trace; and the
# Belady bound is at most every policy's count.
source "$(dirname "$0")/lib.sh"
data t tiny 2
common=(--graph "$t_graph" --partition "$t_part" --fanouts 5,10 --batch-size 100 --hidden 16
        --epochs 4 --quiet --buffer-fraction 0.2 --delta 3 --period 4)
for policy in none static periodic lru lfu vip; do
  mpirun_n 2 "$BIN/tools/rudder_train" "${common[@]}" --policy $policy \
    --record-trace "$DATA/rp.trace" --steps-csv "$DATA/rp.csv" > "$DATA/rp.out"
  for rank in 0 1; do
    live=$(awk -F, -v r=$rank 'NR > 1 && $1 == r { s += $8 } END { print s + 0 }' "$DATA/rp.csv")
    replay=$("$BIN/tools/rudder_replay" "$DATA/rp.trace.$rank" --policy $policy \
               --buffer-fraction 0.2 --delta 3 --period 4 | awk -v p=$policy '$1 == p { print $6 }')
    echo "$policy rank $rank: live $live rows, replay $replay rows"
    [ "$live" = "$replay" ] || fail "$policy rank $rank: live fetched $live rows, replay $replay"
  done
done
# The bound: on the last trace, Belady fetches no more rows than any policy.
"$BIN/tools/rudder_replay" "$DATA/rp.trace.0" --policy all --buffer-fraction 0.2 --delta 3 --period 4 \
  | tee "$DATA/rp.all" | awk '$1 == "belady" { b = $8 } $1 != "belady" && $8 ~ /^[0-9]+$/ && b != "" {
      if ($8 < b) { print "policy " $1 " moved " $8 " < belady " b; bad = 1 } }
      END { exit bad || b == "" }' || fail "Belady is not a lower bound"
cat "$DATA/rp.all"
# Bad input is named: a missing trace and an unknown policy.
out=$("$BIN/tools/rudder_replay" "$DATA/nope.trace" 2>&1 || true)
grep -q "nope.trace: cannot open" <<< "$out" || fail "missing trace not named: $out"
out=$("$BIN/tools/rudder_replay" "$DATA/rp.trace.0" --policy nosuch 2>&1 || true)
grep -q "unknown policy 'nosuch'" <<< "$out" || fail "unknown policy not named: $out"
echo "replay: ok"
