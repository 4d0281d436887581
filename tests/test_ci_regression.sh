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
