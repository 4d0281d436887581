#!/usr/bin/env bash
# Learning: on `small`, 4 ranks, GraphSAGE and GAT reach a test accuracy far
# above chance (1/47) and clearly above the features-only MLP trained the
# same way; a broken aggregator would land at the MLP's level.
source "$(dirname "$0")/lib.sh"
data s small 4
run() {
  mpirun_n 4 "$BIN/tools/rudder_train" --graph "$s_graph" --partition "$s_part" --model "$1" \
    --fanouts 5,10 --batch-size 250 --hidden 64 --heads 2 --epochs "$2" --lr 0.005 --dropout 0.2 \
    --eval-nodes 4000 --quiet | tee /dev/stderr | sed -n 's/.* test \([0-9.]*\) .*/\1/p'
}
mlp=$(run mlp 4); sage=$(run sage 4); gat=$(run gat 4)
echo "test accuracy: mlp $mlp, sage $sage, gat $gat (chance 0.021)"
awk -v m="$mlp" -v s="$sage" -v g="$gat" 'BEGIN {
  exit !(m > 0.1 && s > m + 0.1 && g > m + 0.1 && s > 0.5) }' \
  || fail "GNNs must beat the MLP by 0.1 and reach 0.5 (mlp $mlp, sage $sage, gat $gat)"
echo "learning: ok"
