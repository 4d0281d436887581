#!/usr/bin/env bash
# End to end with the real local small model: a 2-rank training run on
# `tiny` steered by the slm agent records its decisions in the results
# (question, answer, latency), and training finishes whatever the model says.
# Then the same agent on the run's recorded trace, replayed at a paced step
# time: it answers, and its decisions are counted.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/.." && pwd)
server=$src/agents/llm/rudder_llm_server
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" start --port "$port" --parallel 2 || fail "the local LLM server did not start: run scripts/setup_llm"
trap '"$server" stop --port "$port" >/dev/null 2>&1 || true' EXIT
data t tiny 2
rm -f "$DATA/slm.h5"
# A long timeout: on a loaded machine an answer may take a minute, and what
# is checked is that it comes, not how fast. Steps of >= 20 ms (an emulated slow link; a sleep, which leaves the cores
# to the model): in a run of a few milliseconds the agent's thread may never
# be scheduled to take a question before training ends.
mpirun_n 2 "$BIN/tools/rudder_train" --graph "$t_graph" --partition "$t_part" --fanouts 5,10 \
  --batch-size 50 --hidden 16 --epochs 3 --quiet --policy slm --period 3 \
  --net-latency-us 5000 --net-gbps 100 \
  --policy-options "endpoint=http://127.0.0.1:$port,max_age=1000,timeout_ms=240000" \
  --results "$DATA/slm.h5" --run-id slm --record-trace "$DATA/slm.trace" > "$DATA/slm.out"
grep -q "weights identical across ranks: yes" "$DATA/slm.out" || fail "training did not finish cleanly"
"$BIN/experiments/rudder_export" "$DATA/slm.h5" --table decisions > "$DATA/slm.tsv"
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  index($c["raw"], "superseded: ") == 1 { next }  # never asked: the model was busy
  { n++; valid += $c["valid"]; if ($c["latency"] <= 0 || $c["raw"] == "") bad = 1 }
  END { printf "%d questions asked, %d valid\n", n, valid; exit !(n >= 1 && valid >= 1 && !bad) }' "$DATA/slm.tsv" \
  || fail "expected decisions with answers and latencies: $(cat "$DATA/slm.tsv")"
"$BIN/tools/rudder_replay" "$DATA/slm.trace.0" --policy slm --period 3 --step-seconds 0.05 \
  --policy-options "endpoint=http://127.0.0.1:$port,max_age=1000,timeout_ms=240000" > "$DATA/slm_replay.out"
awk '$1 == "decisions" { n = $2 + 0; valid = $4 + 0 } END { exit !(n >= 1 && valid >= 1) }' "$DATA/slm_replay.out" \
  || fail "paced replay with the agent: expected valid decisions: $(cat "$DATA/slm_replay.out")"
echo "slm training and paced replay: ok"
