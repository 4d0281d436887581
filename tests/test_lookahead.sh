#!/usr/bin/env bash
# The sample-ahead pipeline: with the sampler K steps ahead (K larger than an
# epoch, so the window crosses epoch boundaries) every policy trains on the
# same batches as with K = 0: the same per-step losses, rows and buffer
# counts, and bit-identical final parameters (their digest). The window's
# memory is reported and grows with K.
source "$(dirname "$0")/lib.sh"
data t tiny 2
common=(--graph "$t_graph" --partition "$t_part" --fanouts 5,10 --batch-size 100 --hidden 16
        --epochs 3 --quiet --buffer-fraction 0.2 --delta 3 --period 4)
# Columns that must agree: everything but the timings (12-17, 26-28).
same() { cut -d, -f1-11,18-25 "$1"; }
for policy in none static periodic lru lfu vip; do
  for K in 0 4; do
    mpirun_n 2 "$BIN/tools/rudder_train" "${common[@]}" --policy $policy --lookahead $K \
      --steps-csv "$DATA/la.$K.csv" > "$DATA/la.$K.out"
  done
  d0=$(grep -o 'digest [0-9a-f]*' "$DATA/la.0.out"); d4=$(grep -o 'digest [0-9a-f]*' "$DATA/la.4.out")
  echo "$policy: K=0 $d0, K=4 $d4"
  [ -n "$d0" ] && [ "$d0" = "$d4" ] || fail "$policy: parameters differ between K=0 and K=4"
  diff <(same "$DATA/la.0.csv") <(same "$DATA/la.4.csv") > /dev/null \
    || fail "$policy: per-step losses or counts differ between K=0 and K=4"
  [ "$(wc -l < "$DATA/la.0.csv")" -ge 13 ] || fail "$policy: too few steps recorded"
done
# The lookahead policy reads the window: it moves other rows, but trains on
# the same batches with the same values (a buffered row is the same row).
mpirun_n 2 "$BIN/tools/rudder_train" "${common[@]}" --policy none --steps-csv "$DATA/la.none.csv" > "$DATA/la.none.out"
mpirun_n 2 "$BIN/tools/rudder_train" "${common[@]}" --policy lookahead --lookahead 4 \
  --steps-csv "$DATA/la.la.csv" > "$DATA/la.la.out"
dn=$(grep -o 'digest [0-9a-f]*' "$DATA/la.none.out"); dl=$(grep -o 'digest [0-9a-f]*' "$DATA/la.la.out")
[ -n "$dn" ] && [ "$dn" = "$dl" ] || fail "lookahead changed the parameters ($dn vs $dl)"
diff <(cut -d, -f1-7,18 "$DATA/la.none.csv") <(cut -d, -f1-7,18 "$DATA/la.la.csv") > /dev/null \
  || fail "lookahead changed the batches or losses"
awk -F, 'FNR > 1 && FNR == NR { a += $8; next } FNR > 1 { b += $8 } END { exit !(b < a) }' \
  "$DATA/la.none.csv" "$DATA/la.la.csv" || fail "lookahead fetched no fewer rows than none"
# The window's memory: a step's sample costs the same whatever K, the peak grows with K.
per() { sed -n 's/.*window \([0-9.]*\) KB per step, peak \([0-9.]*\) KB.*/\1 \2/p' "$1"; }
read -r p0 k0 <<< "$(per "$DATA/la.0.out")"
read -r p4 k4 <<< "$(per "$DATA/la.4.out")"
echo "window: K=0 $p0 KB/step peak $k0 KB; K=4 $p4 KB/step peak $k4 KB"
[ "$p0" = "$p4" ] || fail "bytes per step differ with K ($p0 vs $p4)"
awk -v a="$k0" -v b="$k4" -v p="$p0" 'BEGIN { exit !(a > 0 && b > 3 * p && b > a) }' \
  || fail "window peak does not grow with K ($k0 -> $k4 KB)"
echo "lookahead: ok"
