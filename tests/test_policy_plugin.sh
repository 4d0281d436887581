#!/usr/bin/env bash
# A policy from a test source file runs live (mpirun, 2 ranks) and in replay
# through the same interface as the baselines (tests/test_policy_plugin.c).
source "$(dirname "$0")/lib.sh"
data t tiny 2
mpirun_n 2 "$BIN/tests/test_policy_plugin" "$t_graph" "$t_part" "$DATA/plugin.trace"
