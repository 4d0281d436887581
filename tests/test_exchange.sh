#!/usr/bin/env bash
# The feature exchange, blocking and non-blocking, on 2 and 4 real ranks.
source "$(dirname "$0")/lib.sh"
for n in 2 4; do mpirun_n $n "$BIN/tests/test_exchange"; done
