#!/usr/bin/env bash
# The CI regression on speedups: exp/ci.ini end to end (run_experiment,
# mpirun, HDF5), then each policy's rows fetched relative to `none` against
# exp/ci.baseline. Runs from the build's tests directory so data and results
# stay in the build tree.
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$BIN/tests"
rm -rf results/ci.h5 results/ci.h5.logs
"$BIN/experiments/run_experiment" "$src/exp/ci.ini" --no-plots
"$src/experiments/check_regression" results/ci.h5 "$src/exp/ci.baseline" "$BIN/experiments/rudder_export"
# The gate can fail: a baseline that promises 0.1 fewer rows for lru must
# trip it, naming the policy and both ratios.
awk '$1 == "lru" { $2 = $2 - 0.1 } { print }' "$src/exp/ci.baseline" > results/ci.tight
if out=$("$src/experiments/check_regression" results/ci.h5 results/ci.tight "$BIN/experiments/rudder_export" 2>&1); then
  fail "a regression of 0.1 in lru passed the gate"
fi
grep -q "lru: rows moved relative to none went from" <<< "$out" || fail "regression message: $out"
echo "ci regression: ok"
