#!/usr/bin/env bash
# Every program answers -h and --help with its usage on stdout and exit 0,
# and an unknown option with a message on stderr and exit 2.
source "$(dirname "$0")/lib.sh"
progs=(tools/rudder_train tools/rudder_replay tools/bench_exchange experiments/run_experiment
       experiments/rudder_export datasets/rudder_data agents/classifier/rudder_collect
       agents/classifier/rudder_classifier)
[ -x "$BIN/tools/bench_gather" ] && progs+=(tools/bench_gather)
for p in "${progs[@]}"; do
  for h in -h --help; do
    out=$("$BIN/$p" $h 2>"$DATA/help.err") || fail "$p $h exited $?"
    grep -q '^usage: ' <<< "$out" || fail "$p $h: no usage on stdout"
    [ ! -s "$DATA/help.err" ] || fail "$p $h wrote to stderr: $(cat "$DATA/help.err")"
  done
  set +e
  "$BIN/$p" --no-such-option >"$DATA/help.out" 2>"$DATA/help.err"
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$p --no-such-option exited $rc, expected 2"
  [ -s "$DATA/help.err" ] && [ ! -s "$DATA/help.out" ] || fail "$p --no-such-option: message not on stderr alone"
done
# A subcommand's help too, even where it would need other arguments.
"$BIN/datasets/rudder_data" generate --help | grep -q '^usage: ' || fail "rudder_data generate --help"
echo "help: ${#progs[@]} programs"
