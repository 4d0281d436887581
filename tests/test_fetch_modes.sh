#!/usr/bin/env bash
# Ways of getting remote rows that must not change training: with every
# feature row replicated on every rank (--replicate-features, the
# zero-communication bound) the same batches train to the same losses,
# bit for bit, as with the exchange, and nothing is fetched. With the next
# step's rows fetched while a step computes (--overlap-fetch), every policy
# plans, fetches, hits and evicts exactly as without (same per-step counts,
# byte-identical access traces, rudder_replay's rows), under the network
# emulation, with the sample-ahead window crossing epochs (and K = 0), and ends with
# bit-identical parameters.
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
# Overlap against the blocking exchange, per policy and window.
# rank .. messages | loss .. replaced: everything but the timings.
counts() { cut -d, -f1-11,18-25 "$DATA/modes.$1.csv"; }
buffer=(--buffer-fraction 0.2 --delta 3 --period 4 --net-latency-us 5 --net-gbps 10 --epochs 3)
# lookahead reads the window: step t+1 is planned during step t with its own
# K steps known, as without overlap and as in the replay.
for policy in none static periodic lru lfu vip lookahead; do
  Ks=3
  [ $policy = lru ] && Ks="0 3"  # K = 0: the one step overlap samples ahead by itself
  for K in $Ks; do
    run blocking --policy $policy --lookahead $K "${buffer[@]}" --record-trace "$DATA/modes.blocking.trace"
    run overlapped --policy $policy --lookahead $K "${buffer[@]}" --overlap-fetch \
      --record-trace "$DATA/modes.overlapped.trace"
    cmp <(counts blocking) <(counts overlapped) > /dev/null \
      || fail "$policy, K=$K: overlapped steps differ: $(diff <(counts blocking) <(counts overlapped) | head -3)"
    same_weights blocking overlapped
    for r in 0 1 2 3; do
      cmp "$DATA/modes.blocking.trace.$r" "$DATA/modes.overlapped.trace.$r" \
        || fail "$policy, K=$K: rank $r's access trace differs with overlap"
    done
  done
  [ "$(rows overlapped)" -gt 0 ] || fail "$policy: nothing fetched"
  # The live overlapped run equals the replay of its trace, rank by rank.
  for r in 0 3; do
    live=$(awk -F, -v r=$r 'NR > 1 && $1 == r { s += $8 } END { print s + 0 }' "$DATA/modes.overlapped.csv")
    replay=$("$BIN/tools/rudder_replay" "$DATA/modes.overlapped.trace.$r" --policy $policy \
               --buffer-fraction 0.2 --delta 3 --period 4 --lookahead 3 | awk -v p=$policy '$1 == p { print $6 }')
    [ "$live" = "$replay" ] || fail "$policy rank $r: overlapped live run fetched $live rows, replay $replay"
  done
  # The exposed fetch is recorded: never more than the step's fetch phase.
  awk -F, 'NR > 1 && ($29 < 0 || $29 > $13 + 1e-6) { exit 1 }' "$DATA/modes.overlapped.csv" \
    || fail "$policy: t_wait outside [0, t_fetch]"
  echo "overlapped $policy: same counts, traces and parameters as blocking (K = $Ks); $(rows overlapped) rows"
done
echo "replicated: same $(($(wc -l < "$DATA/modes.exchange.csv") - 1)) rank-steps, 0 rows fetched"
echo "fetch modes: ok"
