#!/usr/bin/env bash
# The LLM agent's faults inside live training runs (2 ranks on `tiny`, real
# mpirun, real results file): the real local llama-server killed mid-run, a
# server that accepts and never answers, and one that answers garbage (the
# last two are rudder_fault_server, a fault injector, not a model server).
# One agent per rank (scope=rank; scope=job is tests/test_slm_job.sh), no
# warm-up request. Each run must finish with identical weights, every step in the results,
# every question asked in the decisions table, and the faults counted as
# fallbacks whose raw answer starts with the client's status name.
#
# Steps are slowed to 20 ms or more by the emulated network, which sleeps:
# a run lasts seconds while leaving the 2 cores to the model server.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/.." && pwd)
server=$src/agents/llm/rudder_llm_server
cache=${RUDDER_CACHE:-$HOME/.cache/rudder}
# Ranks waiting in a collective yield their core rather than spin against the server.
export OMPI_MCA_mpi_yield_when_idle=1
data t tiny 2

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
refuses() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

llama_port= injector=
cleanup() {
  [ -z "$llama_port" ] || "$server" stop --port "$llama_port" >/dev/null 2>&1 || true
  [ -z "$injector" ] || kill "$injector" 2>/dev/null || true
  wait  # a run still going (a failure mid-run) must not outlive the test: it ends by itself
}
trap cleanup EXIT

PERIOD=2 FRACTION=0.3
# train ID STEPS OPTIONS: a 2-rank slm run into $DATA/ID.h5, output in $DATA/ID.out.
train() {
  rm -f "$DATA/$1.h5"
  mpirun_n 2 "$BIN/tools/rudder_train" --graph "$t_graph" --partition "$t_part" --fanouts 5,10 \
    --batch-size 50 --hidden 16 --epochs 100000 --max-steps "$2" --net-latency-us 5000 --net-gbps 100 \
    --policy slm --period $PERIOD --replace-fraction $FRACTION --policy-options "$3,scope=rank,warmup=0" \
    --results "$DATA/$1.h5" --run-id "$1" > "$DATA/$1.out" 2>&1
}

# table ID NAME: a table of the run as TSV in $DATA/ID.NAME.tsv; for the
# decisions also ID.asked.tsv, without the windows never asked (superseded
# while the model was busy: no request was sent for them).
table() {
  "$BIN/experiments/rudder_export" "$DATA/$1.h5" --table "$2" > "$DATA/$1.$2.tsv"
  [ "$2" != decisions ] || awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "raw") r = i; print; next }
    index($r, "superseded: ") != 1' "$DATA/$1.$2.tsv" > "$DATA/$1.asked.tsv"
}
# cols FILE PROGRAM [VAR=VALUE...]: awk over such a table, the columns by name: $c["raw"].
cols() {
  local file=$1 program=$2
  shift 2
  awk -F'\t' "NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } $program" "$@" "$file"
}

# check_run ID STEPS: what every run must show whatever the fault.
check_run() {
  local id=$1 steps=$2 f=$DATA/$1
  grep -q "^done: $steps steps .*weights identical across ranks: yes" "$f.out" \
    || fail "$id: training did not finish cleanly: $(tail -5 "$f.out")"
  table "$id" summary && table "$id" steps && table "$id" decisions
  # Every step of both ranks, each once.
  cols "$f.steps.tsv" '{ n++; if (seen[$c["rank"], $c["step"]]++ || $c["rank"] > 1 || $c["step"] >= steps) bad = 1 }
    END { exit bad || n != 2 * steps }' steps="$steps" \
    || fail "$id: the steps table is not ranks x steps = 2 x $steps rows"
  # Per rank, in the order asked: posted at decision points, a fallback
  # applied after its decision point (replace, as periodic would), and only
  # the last may be unapplied (drained at the end, too late to act).
  cols "$f.asked.tsv" '{ r = $c["rank"]; p = $c["step_posted"]; a = $c["step_applied"]
      if (p % period || p <= last[r] || done[r]) { print "row " NR ": posted at step " p; bad = 1 }
      if ($c["fallback"] && ($c["valid"] || $c["replace"] != 1 || $c["fraction"] != fraction || a <= p)) {
        print "row " NR ": not the periodic fallback"; bad = 1 }
      if (a == -1) done[r] = 1
      last[r] = p }
    END { exit bad }' period=$PERIOD fraction=$FRACTION \
    || fail "$id: decision records out of order or inconsistent: $(cat "$f.decisions.tsv")"
  # The summary counts what the table holds, and some fault was counted.
  local rows valid fallback
  rows=$(cols "$f.decisions.tsv" '{ n++ } END { print n + 0 }')
  valid=$(cols "$f.decisions.tsv" '{ n += $c["valid"] } END { print n + 0 }')
  fallback=$(cols "$f.decisions.tsv" '{ n += $c["fallback"] } END { print n + 0 }')
  cols "$f.summary.tsv" '{ n++; ok = $c["steps"] == steps && $c["weights_identical"] == 1 &&
      $c["decisions"] == rows && $c["decisions_valid"] == valid && $c["decisions_fallback"] == fallback }
    END { exit !(n == 1 && ok && fallback > 0) }' steps="$steps" rows="$rows" valid="$valid" fallback="$fallback" \
    || fail "$id: summary does not count $rows decisions ($valid valid, $fallback fallbacks > 0): $(cat "$f.summary.tsv")"
  echo "$id: $steps steps x 2 ranks, $rows decisions, $valid valid, $fallback fallbacks"
}

# every_raw ID TEXT: every decision failed with exactly TEXT, and both ranks fell back.
every_raw() {
  cols "$DATA/$1.asked.tsv" '{ if ($c["valid"] || $c["raw"] != want) bad = 1; fb[$c["rank"]] += $c["fallback"] }
    END { exit bad || !fb[0] || !fb[1] }' want="$2" \
    || fail "$1: expected only '$2' failures, with fallbacks on both ranks: $(cat "$DATA/$1.decisions.tsv")"
}

# injected ID FAULT OPTIONS STEPS: a run against rudder_fault_server; the
# injector must have received exactly the questions the results record.
injected() {
  local id=$1 fault=$2 options=$3 steps=$4 pf=$DATA/$1.port port
  rm -f "$pf"
  "$BIN/tests/rudder_fault_server" --fault "$fault" --port-file "$pf" > "$DATA/$id.injector" &
  injector=$!
  for ((i = 0; i < 200; i++)); do
    [ -s "$pf" ] && break
    kill -0 $injector 2>/dev/null || fail "$id: the injector exited: $(cat "$DATA/$id.injector")"
    sleep 0.05
  done
  port=$(cat "$pf") || fail "$id: the injector wrote no port"
  train "$id" "$steps" "endpoint=http://127.0.0.1:$port,$options" \
    || fail "$id: training failed: $(tail -5 "$DATA/$id.out")"
  check_run "$id" "$steps"
  # A request the client gave up on may still wait in the listen queue:
  # wait (bounded) until the injector has read them all.
  local rows got=0
  rows=$(cols "$DATA/$id.asked.tsv" '{ n++ } END { print n + 0 }')
  for ((i = 0; i < 200; i++)); do
    got=$(awk '$1 == "received" { n = $2 } END { print n + 0 }' "$DATA/$id.injector")
    [ "$got" -lt "$rows" ] || break
    sleep 0.1
  done
  kill "$injector" && wait "$injector" || fail "$id: the injector did not stop cleanly"
  injector=
  [ "$got" = "$rows" ] || fail "$id: the injector received $got requests, the results record $rows"
  echo "$id: the injector received $got requests"
}

# ---- a: the real server killed mid-run ------------------------------------
# kill -9, not `rudder_llm_server stop`: on SIGTERM llama-server keeps a
# request in flight open until the client gives up (or stop's kill -9 ten
# seconds later), so when the port closes would be a matter of timing.
llama_port=$(free_port)
"$server" start --port "$llama_port" --parallel 2 || fail "the local LLM server did not start: run scripts/setup_llm"
log=$cache/run/llama-server-$llama_port.log
STEPS=600
# timeout_ms is longer than the run: before the kill every question is
# answered by the model, never timed out.
train faults_stop $STEPS "endpoint=http://127.0.0.1:$llama_port,timeout_ms=60000,max_age=100000,fallback=periodic" &
run=$!
# Kill once some rank asked its second question (the server's third task,
# a "launch_slot_" line in its log: each rank has one question in flight
# at most), so its first answer was received; or at 3/4 of the run when
# the model is too slow for that on this machine (its first answers take
# ~3 s on 2 idle cores, 5-8 s loaded), so that the last quarter, seconds
# and a hundred decision points, asks a dead server.
why=
while [ -z "$why" ]; do
  if ! kill -0 $run 2>/dev/null; then
    wait $run || true
    fail "the run ended before the server was killed: $(tail -5 "$DATA/faults_stop.out")"
  fi
  tasks=$(grep -c "launch_slot_" "$log" || true)
  step=$(sed -n 's/^epoch .* | step \([0-9]*\)\/.*/\1/p' "$DATA/faults_stop.out" | tail -1)
  if [ "$tasks" -ge 3 ]; then why=answered
  elif [ "${step:-0}" -ge $((STEPS * 3 / 4)) ]; then why=late
  else sleep 0.1; fi
done
kill -9 "$(cat "$cache/run/llama-server-$llama_port.pid")"
for ((i = 0; i < 100; i++)); do refuses "$llama_port" && break; sleep 0.1; done
refuses "$llama_port" || fail "the killed server's port still accepts"
echo "stop: server killed at step ${step:-0}/$STEPS ($why, $tasks questions asked)"
wait $run || fail "stop: training failed after the server was killed: $(tail -5 "$DATA/faults_stop.out")"
check_run faults_stop $STEPS
# Per rank: once the server is gone, only refused connections (the question
# in flight at the kill may fail as "transport" instead), and every rank
# fell back on one at least. Before the kill only the model answered
# ("answer"/"range" are the model's own mistakes, not the server's death).
cols "$DATA/faults_stop.asked.tsv" '{ r = $c["rank"]; s = $c["raw"]
    split(s, w, ":"); status = $c["valid"] ? "ok" : w[1]
    if (status == "connect" && index(s, "connect: cannot connect to " url "/v1/chat/completions: ") != 1) bad = 1
    if (status != "ok" && status != "answer" && status != "range" && status != "connect" && status != "transport") bad = 1
    if (gone[r] && status != "connect") bad = 1
    if (status == "connect" || status == "transport") gone[r] = 1
    refused[r] += status == "connect" && $c["fallback"]
    answered += status == "ok" || status == "answer" || status == "range" }
  END { exit bad || !refused[0] || !refused[1] || (why == "answered" && !answered) }' \
  url="http://127.0.0.1:$llama_port" why=$why \
  || fail "stop: expected answers, then refused connections on both ranks: $(cat "$DATA/faults_stop.decisions.tsv")"
[ $why = answered ] || echo "stop: NOTE the model had not answered by 3/4 of the run: only the kill was checked"
"$server" stop --port "$llama_port" >/dev/null  # drops the pid file
rm -f "$log"  # kept when a check above failed
llama_port=

# ---- b: a server that accepts and never answers ---------------------------
# Every question times out after 500 ms (~25 steps); a run of 120 steps
# sleeps longer than that on both ranks, so each falls back at least once.
injected faults_hang hang "timeout_ms=500,max_age=1000,fallback=periodic" 120
hang_url=http://127.0.0.1:$(cat "$DATA/faults_hang.port")/v1/chat/completions
every_raw faults_hang "timeout: no answer from $hang_url within 500 ms"

# ---- c: a server that answers garbage --------------------------------------
# Answered at once: one record per decision point (59 per rank) when every
# answer comes back within a step, which a loaded machine does not promise,
# so the count is not asserted; that the injector saw each of them is.
injected faults_garbage garbage "timeout_ms=5000,max_age=1000,fallback=periodic" 120
every_raw faults_garbage 'body: the reply body is not a JSON object | {"choices": [ oops'
echo "slm faults: ok"
