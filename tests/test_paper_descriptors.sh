#!/usr/bin/env bash
# The paper's figure descriptors (exp/paper/): every one parses and expands
# (the real-data tier stops only at its missing datasets), descriptors that
# share a results file run the same sweep, and plots/paper draws each
# figure that needs no agent from a small real experiment.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUN=$BIN/experiments/run_experiment
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$SRC"

for f in exp/paper/quick/*.ini exp/paper/twins/*.ini; do
  out=$("$RUN" "$f" --dry-run 2>&1) || fail "$f: $out"
  echo "$out" | tail -1 | grep -Eq '^[0-9]+ runs -> results/paper-' || fail "$f: $(echo "$out" | tail -1)"
done
for f in exp/paper/*.ini; do
  # no dataset here: it must get as far as naming the missing input
  out=$("$RUN" "$f" --dry-run 2>&1) && fail "$f: expanded without its datasets?"
  echo "$out" | grep -q "does not exist (download the dataset first" || fail "$f: $out"
done
# Figures drawn from one results file must come from one sweep.
for d in exp/paper exp/paper/quick exp/paper/twins; do
  for h5 in $(grep -h '^results' "$d"/*.ini | sort -u | awk '{ print $3 }'); do
    first=""
    for f in $(grep -l "^results = $h5\$" "$d"/*.ini); do
      sed -n '/^\[sweep\]/,$p' "$f" >"$T/body"
      if [ -z "$first" ]; then first=$f; cp "$T/body" "$T/first"
      else cmp -s "$T/first" "$T/body" || fail "$f and $first share $h5 but differ from [sweep] on"; fi
    done
  done
done
# Every twin tier lists the same figures as the real tier.
diff <(cd exp/paper && ls *.ini) <(cd exp/paper/quick && ls *.ini) || fail "quick tier lacks a figure"
diff <(cd exp/paper && ls *.ini) <(cd exp/paper/twins && ls *.ini) || fail "twins tier lacks a figure"

# plots/paper on a small experiment: two rank counts, two buffer sizes.
cat >"$T/fig.ini" <<INI
[experiment]
name = figs
results = $T/figs.h5
data_dir = $DATA
plots = no
[sweep]
graphs = tiny
ranks = 1, 2
models = sage
policies = none, static, periodic, belady
buffer_fractions = 0.1, 0.5
[graph tiny]
preset = tiny
[model sage]
kind = sage
fanouts = 5,5
batch_size = 64
hidden = 16
epochs = 1
eval_nodes = 200
[policy periodic]
period = 3
delta = 3
INI
"$RUN" "$T/fig.ini" --no-plots >"$T/run.log" 2>&1 || { cat "$T/run.log"; fail "experiment failed"; }
export RUDDER_EXPORT=$BIN/experiments/rudder_export
for fig in epoch_time communication hit_rate overhead buffer scaling; do
  "$SRC/plots/paper" "$fig" "$T/figs.h5" "$T/out" >/dev/null || fail "plots/paper $fig failed"
  for ext in png svg dat; do [ -s "$T/out/$fig.$ext" ] || fail "$fig.$ext missing or empty"; done
done
# buffer: one block (tiny, 2 ranks... and 1 rank), both fractions as rows
grep -q '^# panel: tiny, 2 ranks, sage' "$T/out/buffer.dat" || fail "buffer.dat has no 2-rank panel"
[ "$(awk '/^# panel: tiny, 2 ranks/ { b = 1; next } b && /^[0-9]/ { n++ } /^$/ { b = 0 } END { print n }' "$T/out/buffer.dat")" = 2 ] ||
  fail "buffer.dat: expected 2 buffer sizes in the 2-rank panel"
# overhead: per policy a row whose phases are non-negative and add up to something
awk -F'\t' '/^[0-9]/ { for (i = 3; i <= 10; i++) if ($i < 0) bad = 1; if ($3 + $9 <= 0) bad = 1 } END { exit bad }' "$T/out/overhead.dat" ||
  fail "overhead.dat: a negative or empty phase"
# the agent figures say why they are absent
if "$SRC/plots/paper" llm_sizes "$T/figs.h5" "$T/out" 2>"$T/err"; then fail "llm_sizes drawn without agents"; fi
grep -q "no agent" "$T/err" || fail "llm_sizes: $(cat "$T/err")"
rm -rf "$SRC/plots/out/$(basename "$T")" "$SRC/plots/out/figs"
echo "test_paper_descriptors: ok"
