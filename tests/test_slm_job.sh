#!/usr/bin/env bash
# One agent for the whole job (scope=job, the slm default) in live 4-rank
# runs: rank 0 asks once per decision point on the job's window and every
# rank applies the decision before the same step. The answers come from
# rudder_fault_server (a fault injector answering "replace 25%" at once,
# not a model), so what is checked is the protocol, not the model:
#  * the decisions are rank 0's only, one question per decision point (the
#    injector received exactly the questions recorded, plus one warm-up);
#  * at every step all ranks applied the same action (the steps table's
#    `replaced` agrees across ranks), at the steps the decisions name;
#  * scope=rank asks once per rank instead.
source "$(dirname "$0")/lib.sh"
export OMPI_MCA_mpi_yield_when_idle=1
data q tiny 4

injector=
cleanup() { [ -z "$injector" ] || kill "$injector" 2>/dev/null || true; }
trap cleanup EXIT
pf=$DATA/job.port
rm -f "$pf"
"$BIN/tests/rudder_fault_server" --fault ok --port-file "$pf" > "$DATA/job.injector" &
injector=$!
for ((i = 0; i < 200; i++)); do
  [ -s "$pf" ] && break
  kill -0 $injector 2>/dev/null || fail "the injector exited: $(cat "$DATA/job.injector")"
  sleep 0.05
done
port=$(cat "$pf") || fail "the injector wrote no port"
received() { awk '$1 == "received" { n = $2 } END { print n + 0 }' "$DATA/job.injector"; }

STEPS=60 PERIOD=3
# run ID OPTIONS: a 4-rank slm run; prints the requests the injector got for it.
run() {
  local before
  before=$(received)
  rm -f "$DATA/$1.h5"
  mpirun_n 4 "$BIN/tools/rudder_train" --graph "$q_graph" --partition "$q_part" --fanouts 5,10 \
    --batch-size 20 --hidden 16 --epochs 100000 --max-steps $STEPS --net-latency-us 5000 --net-gbps 100 \
    --policy slm --period $PERIOD --policy-options "endpoint=http://127.0.0.1:$port,max_age=1000,$2" \
    --results "$DATA/$1.h5" --run-id "$1" > "$DATA/$1.out" 2>&1 || fail "$1: training failed: $(tail -5 "$DATA/$1.out")"
  grep -q "^done: $STEPS steps .*weights identical across ranks: yes" "$DATA/$1.out" || fail "$1: $(tail -3 "$DATA/$1.out")"
  # Without the windows never asked (superseded while the model was busy).
  "$BIN/experiments/rudder_export" "$DATA/$1.h5" --table decisions \
    | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "raw") r = i; print; next }
                  index($r, "superseded: ") != 1' > "$DATA/$1.decisions.tsv"
  "$BIN/experiments/rudder_export" "$DATA/$1.h5" --table steps > "$DATA/$1.steps.tsv"
  # Every question was read before training ended (drain waits for the last).
  echo $(($(received) - before))
}
cols() {
  local file=$1 program=$2
  shift 2
  awk -F'\t' "NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } $program" "$@" "$file"
}

got=$(run job "")
rows=$(cols "$DATA/job.decisions.tsv" '{ n++ } END { print n + 0 }')
[ "$rows" -ge 5 ] || fail "job: expected a decision every few steps, got $rows: $(cat "$DATA/job.decisions.tsv")"
[ "$got" = $((rows + 1)) ] || fail "job: the injector received $got requests for $rows decisions (+1 warm-up)"
cols "$DATA/job.decisions.tsv" '{ if ($c["rank"] != 0 || !$c["valid"] || $c["step_posted"] % period) bad = 1 }
  END { exit bad }' period=$PERIOD || fail "job: decisions must be rank 0's valid answers: $(cat "$DATA/job.decisions.tsv")"
# The steps each decision was applied to, and what every rank did there.
cols "$DATA/job.decisions.tsv" '$c["step_applied"] >= 0 && $c["replace"] { print $c["step_applied"] }' \
  > "$DATA/job.applied"
[ -s "$DATA/job.applied" ] || fail "job: no replacement applied"
cols "$DATA/job.steps.tsv" '{ r[$c["step"]] = r[$c["step"]] $c["replaced"]; n[$c["step"]]++ }
  END { for (s in r) { if (n[s] != 4 || (r[s] != "0000" && r[s] != "1111")) { print "step " s ": " r[s]; bad = 1 }
                       if (r[s] == "1111") print s > out }
        exit bad }' out="$DATA/job.replaced" || fail "job: the ranks did not apply the same action at every step"
sort -n "$DATA/job.applied" > "$DATA/job.a"
sort -n "$DATA/job.replaced" > "$DATA/job.r"
cmp -s "$DATA/job.a" "$DATA/job.r" || fail "job: replaced at steps $(paste -sd' ' "$DATA/job.r"), decisions applied at $(paste -sd' ' "$DATA/job.a")"
echo "job: $rows decisions from rank 0 ($got requests with the warm-up), applied on all 4 ranks at steps $(paste -sd' ' "$DATA/job.a" | cut -c1-60)..."

got=$(run rank "scope=rank,warmup=0")
rows=$(cols "$DATA/rank.decisions.tsv" '{ n++; ranks[$c["rank"]] = 1 } END { print n + 0; exit length(ranks) != 4 }') \
  || fail "rank: expected decisions from all 4 ranks: $(cat "$DATA/rank.decisions.tsv")"
[ "$got" = "$rows" ] || fail "rank: the injector received $got requests for $rows decisions"
echo "rank: $rows decisions from 4 ranks ($got requests)"
kill "$injector" && wait "$injector" || fail "the injector did not stop cleanly"
injector=

# The menu agent (slm-menu: the lookahead rule, its knobs chosen per
# decision) in job scope. Answering "keep" everywhere it must move exactly
# the rows of the lookahead policy at its defaults; answering "tune" it
# applies the knobs on every rank (valid decisions, training intact).
# menu ID ANSWER: a 4-rank slm-menu run against an injector answering ANSWER.
menu() {
  rm -f "$pf"
  "$BIN/tests/rudder_fault_server" --fault ok --port-file "$pf" --answer "$2" > "$DATA/$1.injector" &
  injector=$!
  for ((i = 0; i < 200; i++)); do [ -s "$pf" ] && break; sleep 0.05; done
  port=$(cat "$pf") || fail "$1: the injector wrote no port"
  lrun "$1" --policy slm-menu --period $PERIOD --policy-options "endpoint=http://127.0.0.1:$port,max_age=1000"
  kill "$injector" && wait "$injector" || fail "$1: the injector did not stop cleanly"
  injector=
  "$BIN/experiments/rudder_export" "$DATA/$1.h5" --table decisions > "$DATA/$1.decisions.tsv"
  cols "$DATA/$1.decisions.tsv" '{ n++; if ($c["rank"] != 0 || ($c["step_applied"] >= 0 && !$c["valid"])) bad = 1 }
    END { exit bad || n < 5 }' || fail "$1: expected valid decisions from rank 0: $(cat "$DATA/$1.decisions.tsv")"
}
# lrun ID OPTIONS...: a 4-rank run sampling 8 steps ahead; its rows moved in $DATA/ID.rows.
lrun() {
  local id=$1
  shift
  rm -f "$DATA/$id.h5"
  mpirun_n 4 "$BIN/tools/rudder_train" --graph "$q_graph" --partition "$q_part" --fanouts 5,10 \
    --batch-size 20 --hidden 16 --epochs 100000 --max-steps $STEPS --net-latency-us 5000 --net-gbps 100 \
    --lookahead 8 --buffer-fraction 0.1 "$@" --results "$DATA/$id.h5" --run-id "$id" > "$DATA/$id.out" 2>&1 \
    || fail "$id: training failed: $(tail -5 "$DATA/$id.out")"
  grep -q "^done: $STEPS steps .*weights identical across ranks: yes" "$DATA/$id.out" || fail "$id: $(tail -3 "$DATA/$id.out")"
  sed -n 's/.*rows fetched \([0-9]*\) .* + \([0-9]*\) preloaded.*/\1 \2/p' "$DATA/$id.out" > "$DATA/$id.rows"
}
lrun lookahead --policy lookahead
menu menu_keep '{"decision":"keep","window":0,"prior":"vip","margin":0,"pinned":0,"reason":"r"}'
cmp -s "$DATA/lookahead.rows" "$DATA/menu_keep.rows" \
  || fail "slm-menu answering keep moved $(cat "$DATA/menu_keep.rows") rows, lookahead $(cat "$DATA/lookahead.rows")"
menu menu_tune '{"decision":"tune","window":2,"prior":"count","margin":0.25,"pinned":0.1,"reason":"r"}'
echo "menu: keep moves lookahead's rows ($(cat "$DATA/lookahead.rows")); tune: $(cat "$DATA/menu_tune.rows")"
echo "slm job scope: ok"
