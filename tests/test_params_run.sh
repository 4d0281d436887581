#!/usr/bin/env bash
# Results say what ran: a real 2-rank run's HDF5 attributes equal, for every
# run parameter of the schema, `rudder_train --print-config` of the same
# command (non-default values throughout, and a resolved default: period).
source "$(dirname "$0")/lib.sh"
data t tiny 2
args=(--graph "$t_graph" --partition "$t_part" --fanouts 4,6 --batch-size 64 --hidden 12
      --heads 2 --dropout 0.1 --lr 0.01 --epochs 1 --max-steps 3 --eval-nodes 100 --seed 7
      --policy lru --buffer-fraction 0.3 --alpha 0.07 --delta 4 --replace-fraction 0.5
      --net-latency-us 3 --net-gbps 40 --quiet)
h5=$DATA/params_run.h5
rm -f "$h5"
mpirun_n 2 "$BIN/tools/rudder_train" "${args[@]}" --results "$h5" --run-id r > "$DATA/params_run.out"
"$BIN/tools/rudder_train" "${args[@]}" --print-config > "$DATA/params_run.ini"
"$BIN/experiments/rudder_export" "$h5" --table summary > "$DATA/params_run.tsv"
n=0
while read -r key attr; do
  want=$(awk -F' = ' -v k="$key" '$1 == k { print $2; exit }' "$DATA/params_run.ini")
  got=$(awk -F'\t' -v a="$attr" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == a) c = i; next }
                                 c { print $c; exit }' "$DATA/params_run.tsv")
  # Flags are stored as 0/1, text and numbers as printed.
  case $want in yes) want=1 ;; no) want=0 ;; esac
  [ "$got" = "$want" ] || fail "attribute $attr = '$got', --print-config $key = '$want'"
  n=$((n + 1))
done < <("$BIN/tests/test_params" --attrs)
grep -q '^period = 4$' "$DATA/params_run.ini" || fail "period not resolved from delta"
grep -q '^init = empty$' "$DATA/params_run.ini" || fail "init not resolved to lru's own"
label=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "label") c = i; next } { print $c; exit }' "$DATA/params_run.tsv")
[ "$label" = lru ] || fail "label '$label', expected the policy's name"
echo "params_run: $n attributes equal --print-config"
