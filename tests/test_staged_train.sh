#!/usr/bin/env bash
# The trainer's device code paths without a GPU: --device cpu-staged runs the
# CPU ops but moves every tensor in and out as it would to a GPU (features,
# fetched rows, buffer rows, parameters, Adam's moments). It must reproduce
# the plain CPU run bit for bit: same losses, accuracies, rows fetched and
# buffer counters at every step, with a buffer preloaded (periodic, degree)
# and one filled on demand (lru).
source "$(dirname "$0")/lib.sh"
data two tiny 2
common=(--graph "$two_graph" --partition "$two_part" --fanouts 5,10 --hidden 32 --epochs 2
        --batch-size 100 --seed 5 --quiet --buffer-fraction 0.2)
# rank,epoch,step,seeds,inputs,local,remote,rows,bytes,bytes,messages | loss..replaced
cols() { cut -d, -f1-11,18-25 "$1"; }
for run in "sage lru" "gat periodic --buffer-init degree"; do
  set -- $run
  model=$1 policy=$2
  shift 2
  for dev in cpu cpu-staged; do
    mpirun_n 2 "$BIN/tools/rudder_train" "${common[@]}" --model "$model" --policy "$policy" "$@" \
      --device $dev --steps-csv "$DATA/staged.$dev.csv" > "$DATA/staged.$dev.out"
  done
  grep -q "on cpu-staged, .*weights identical across ranks: yes" "$DATA/staged.cpu-staged.out" \
    || fail "$model/$policy: the staged run did not finish cleanly"
  awk -F, 'NR > 1 { s += $8 } END { exit !(s > 0) }' "$DATA/staged.cpu.csv" || fail "no rows fetched"
  cmp <(cols "$DATA/staged.cpu.csv") <(cols "$DATA/staged.cpu-staged.csv") \
    || fail "$model/$policy: cpu-staged differs from cpu"
  # The final line's accuracies too (evaluation also goes through the device path).
  acc() { sed -n 's/.*| \(accuracy[^|]*\)|.*/\1/p' "$1"; }
  [ "$(acc "$DATA/staged.cpu.out")" = "$(acc "$DATA/staged.cpu-staged.out")" ] \
    || fail "$model/$policy: accuracies differ: $(acc "$DATA/staged.cpu.out") vs $(acc "$DATA/staged.cpu-staged.out")"
  echo "$model/$policy: cpu-staged = cpu over $(($(wc -l < "$DATA/staged.cpu.csv") - 1)) rank-steps"
done
echo "staged: ok"
