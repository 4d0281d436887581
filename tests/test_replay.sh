#!/usr/bin/env bash
# Trace replay against the live run: for every policy that runs live, the
# rows each rank fetched during training (misses + replacement rows) equal
# exactly what rudder_replay computes on that rank's recorded trace; and the
# Belady bound is at most every policy's count.
source "$(dirname "$0")/lib.sh"
data t tiny 2
common=(--graph "$t_graph" --partition "$t_part" --fanouts 5,10 --batch-size 100 --hidden 16
        --epochs 4 --quiet --buffer-fraction 0.2 --delta 3 --period 4)
# lookahead reads the future: live from the sample-ahead window (K = 3, and a
# window shorter than an epoch's 3 steps or longer), in the replay from the trace;
# random fill: the replay draws the recording run's seed.
for run in none static periodic lru lfu vip lookahead:3 lookahead:5 lookahead:1:prior=count,margin=0.5 \
           lookahead:2:prior=degree,pinned=0.5 static:0:init=random; do
  IFS=: read -r policy K extra <<< "$run"
  opts=(--lookahead "${K:-0}")
  case "$extra" in
    init=*) opts+=(--buffer-init "${extra#init=}") ;;
    ?*) opts+=(--policy-options "$extra") ;;
  esac
  mpirun_n 2 "$BIN/tools/rudder_train" "${common[@]}" --policy $policy "${opts[@]}" --seed 5 \
    --record-trace "$DATA/rp.trace" --steps-csv "$DATA/rp.csv" > "$DATA/rp.out"
  for rank in 0 1; do
    live=$(awk -F, -v r=$rank 'NR > 1 && $1 == r { s += $8 } END { print s + 0 }' "$DATA/rp.csv")
    replay=$("$BIN/tools/rudder_replay" "$DATA/rp.trace.$rank" --policy $policy "${opts[@]}" \
               --buffer-fraction 0.2 --delta 3 --period 4 | awk -v p=$policy '$1 == p { print $6 }')
    policy=$run
    echo "$policy rank $rank: live $live rows, replay $replay rows"
    [ "$live" = "$replay" ] || fail "$policy rank $rank: live fetched $live rows, replay $replay"
    policy=${run%%:*}
  done
done
# Belady is the bound whatever fill is asked for (it always starts empty).
a=$("$BIN/tools/rudder_replay" "$DATA/rp.trace.0" --policy belady --buffer-fraction 0.2 | awk '$1 == "belady" { print $8 }')
b=$("$BIN/tools/rudder_replay" "$DATA/rp.trace.0" --policy belady --buffer-fraction 0.2 --buffer-init degree \
      | awk '$1 == "belady" { print $8 }')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "--buffer-init changed belady: $a vs $b rows moved"
# A policy that looks less far than the window it is shown (the window knob
# an agent may set) ranks as if shown only that much.
la() { "$BIN/tools/rudder_replay" "$DATA/rp.trace.0" --policy lookahead --buffer-fraction 0.2 "$@" \
         | awk '$1 == "lookahead" { print $8 }'; }
w1=$(la --lookahead 5 --policy-options window=1); k1=$(la --lookahead 1); k5=$(la --lookahead 5)
echo "lookahead rows moved: K=5 window=1 $w1, K=1 $k1, K=5 $k5"
[ -n "$w1" ] && [ "$w1" = "$k1" ] && [ "$w1" != "$k5" ] || fail "window=1 of K=5 moved $w1 rows, K=1 $k1, K=5 $k5"
# Lookahead with a window as long as the run is Belady with a prior: within a
# few rows of the bound, and strictly better than vip, its prior alone.
"$BIN/tools/rudder_replay" "$DATA/rp.trace.0" --policy belady,vip,lookahead --lookahead 20 \
  --buffer-fraction 0.2 | tee "$DATA/rp.la" | awk '$1 == "belady" { b = $8 } $1 == "vip" { v = $8 } $1 == "lookahead" { l = $8 }
    END { exit !(b > 0 && l >= b && l < v) }' || { cat "$DATA/rp.la"; fail "lookahead not between belady and vip"; }
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
