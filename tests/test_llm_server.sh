#!/usr/bin/env bash
# The LLM agent against the real local server: starts rudder_llm_server on a
# free port (4 slots), runs test_llm_server against it and stops the server
# whatever happens. Without scripts/setup_llm's install this FAILS (the CI
# runs setup_llm first). Usage: test_llm_server.sh PATH/TO/test_llm_server
set -euo pipefail
bin=$1
src=$(cd "$(dirname "$0")/.." && pwd)
server=$src/agents/llm/rudder_llm_server

# A port nothing listens on (the server refuses a taken one anyway).
port=
for p in $(shuf -i 20000-60000 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "test_llm_server: no free port found" >&2; exit 1; }

if ! "$server" start --port "$port" --parallel 4; then
  echo "test_llm_server: FAILED to start the local LLM server: run scripts/setup_llm first" >&2
  exit 1
fi
cache=${RUDDER_CACHE:-$HOME/.cache/rudder}
log=$cache/run/llama-server-$port.log
cleanup() {
  local rc=$?
  # The server's own timings of what the test asked (tokens per second).
  grep -E "eval time =" "$log" 2>/dev/null | sed 's/.*print_timing: //' || true
  "$server" stop --port "$port"
  if [ "$rc" = 0 ]; then rm -f "$log"; else echo "test_llm_server: server log kept: $log" >&2; fi
}
trap cleanup EXIT
"$bin" "http://127.0.0.1:$port"
