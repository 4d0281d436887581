#!/usr/bin/env bash
# Ways of getting remote rows that must not change training: with every
# feature row replicated on every rank (--replicate-features, the
# zero-communication bound) the same batches train to the same losses,
# bit for bit, as with the exchange, and nothing is fetched.
source "$(dirname "$0")/lib.sh"
data four tiny 4
common=(--graph "$four_graph" --partition "$four_part" --fanouts 5,10 --hidden 32 --epochs 2
        --batch-size 50 --seed 4 --quiet)
run() { local name=$1; shift; mpirun_n 4 "$BIN/tools/rudder_train" "${common[@]}" "$@" \
          --steps-csv "$DATA/modes.$name.csv" > "$DATA/modes.$name.out"; }
# rank, epoch, step, seeds, input/local/remote inputs | loss, acc
same() { cmp <(cut -d, -f1-7,18,19 "$DATA/modes.$1.csv") <(cut -d, -f1-7,18,19 "$DATA/modes.$2.csv") \
           || fail "$2 trains differently from $1"; }
acc() { sed -n 's/.*| \(accuracy[^|]*\)|.*/\1/p' "$DATA/modes.$1.out"; }
digest() { grep -o 'digest [0-9a-f]*' "$DATA/modes.$1.out"; }
same_weights() { [ -n "$(digest "$1")" ] && [ "$(digest "$1")" = "$(digest "$2")" ] \
                   || fail "$2 ends with other parameters than $1: $(digest "$1") vs $(digest "$2")"; }
rows() { awk -F, 'NR > 1 { s += $8 } END { print s + 0 }' "$DATA/modes.$1.csv"; }

run exchange --policy none
run replicated --policy none --replicate-features
same exchange replicated
same_weights exchange replicated
[ "$(acc exchange)" = "$(acc replicated)" ] || fail "accuracies differ: $(acc exchange) vs $(acc replicated)"
[ "$(rows exchange)" -gt 0 ] || fail "the exchange run fetched nothing"
[ "$(rows replicated)" -eq 0 ] || fail "the replicated run fetched $(rows replicated) rows"
grep -q "weights identical across ranks: yes" "$DATA/modes.replicated.out" || fail "replicas diverged"
# A buffer policy has nothing to steer when every row is local.
if mpirun_n 4 "$BIN/tools/rudder_train" "${common[@]}" --policy lru --replicate-features \
     > /dev/null 2> "$DATA/modes.err"; then fail "--replicate-features accepted a buffer policy"; fi
grep -q "replicate-features: .*policy lru" "$DATA/modes.err" || fail "unclear error: $(cat "$DATA/modes.err")"
echo "replicated: same $(($(wc -l < "$DATA/modes.exchange.csv") - 1)) rank-steps, 0 rows fetched"
echo "fetch modes: ok"
