#!/usr/bin/env bash
# run_experiment: descriptor errors name file, line and key before anything
# runs; a failing run is recorded with its log and the sweep goes on; a
# SIGKILL at any moment leaves a readable results file with every completed
# run, and running again resumes; the file is readable without our code (h5dump).
source "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/.." && pwd)
work=$BIN/tests/experiment
rm -rf "$work" && mkdir -p "$work" && cd "$work"
ln -s "$DATA" data
RUN=$BIN/experiments/run_experiment

expect_error() {  # expect_error DESCRIPTOR-TEXT NEEDLE
  printf '%s\n' "$1" > bad.ini
  local out
  out=$("$RUN" bad.ini --dry-run 2>&1) && fail "accepted a bad descriptor: $1"
  grep -qF -- "$2" <<< "$out" || fail "error '$out' should contain '$2'"
}
base='[experiment]
name = t
[graph g]
preset = tiny
[model m]
kind = sage'
expect_error "$base
[sweep]
graphs = g
ranks = 2
models = m
policies = none
[nosuch]
x = 1" "bad.ini:13: unknown section [nosuch]"
expect_error "$base
hiden = 3
[sweep]" "bad.ini:7: [model m] unknown key 'hiden'"
expect_error "$base
epochs = many" "bad.ini:7: [model m] epochs: 'many' is not an integer"
expect_error "$base
[sweep]
graphs = g
ranks = 2
models = m
policies = none, nosuch" "bad.ini:11: [sweep] policies: unknown policy 'nosuch'"
expect_error "$base
[sweep]
graphs = g, h
ranks = 2
models = m
policies = none" "bad.ini:8: [sweep] graphs: 'h' has no [graph h] section"
out=$("$RUN" "$src/exp/ogbn-products.ini" --dry-run 2>&1) && fail "ran without the OGB files"
grep -q "data/ogbn-products-raw/raw/edge.csv.gz does not exist" <<< "$out" || fail "missing dataset not named: $out"
qs=$("$RUN" "$src/exp/quickstart.ini" --dry-run)
grep -q "^9 runs" <<< "$qs" || fail "quickstart should expand to 9 runs"
# The ranks of the run that asks the local LLM server yield to it (nice), the others do not.
grep "^small_r4_sage_slm_" <<< "$qs" | grep -q "ranks at nice 10" || fail "slm's ranks not niced: $qs"
! grep "^small_r4_sage_none_" <<< "$qs" | grep -q "nice" || fail "none's ranks niced: $qs"

# A sweep with a failing run (GAT needs hidden divisible by heads) in the middle.
cat > t.ini <<'INI'
[experiment]
name = t
results = results/t.h5
plots = no
device = cpu-staged
[sweep]
graphs = g
ranks = 2
models = sage, broken, gat
policies = none, periodic, lru
[graph g]
preset = tiny
[model sage]
kind = sage
fanouts = 5,10
batch_size = 50
hidden = 16
epochs = 2
[model broken]
kind = gat
hidden = 30
heads = 4
[model gat]
kind = gat
fanouts = 5,10
batch_size = 50
hidden = 16
heads = 2
epochs = 2
INI
# Kill it with SIGKILL once the first runs have landed.
"$RUN" t.ini > first.out 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ -f results/t.h5 ] && [ "$("$BIN/experiments/rudder_export" results/t.h5 --all | wc -l)" -ge 3 ] && break
  sleep 0.1
done
# The whole tree, by process id (its mpirun and ranks would outlive it),
# gathered before the kill orphans them.
tree() { local c; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; tree "$c"; done; }
victims="$pid $(tree $pid)"
kill -9 $victims 2>/dev/null || true
wait $pid 2>/dev/null || true
for v in $victims; do
  for _ in $(seq 100); do kill -0 "$v" 2>/dev/null || break; sleep 0.05; done
done
h5dump -H results/t.h5 > /dev/null || fail "the results file is unreadable after SIGKILL"
have=$("$BIN/experiments/rudder_export" results/t.h5 --all | tail -n +2 | wc -l)
[ "$have" -ge 2 ] || fail "expected completed runs to survive the kill, found $have"
echo "after SIGKILL: $have runs readable"
# Resume: completed runs are skipped, the rest run; the broken model fails
# three times and is recorded, the others succeed.
"$RUN" t.ini > second.out 2>&1 && fail "a sweep with failed runs must exit non-zero"
grep -q "already there" second.out || fail "resume did not skip completed runs"
ok=$("$BIN/experiments/rudder_export" results/t.h5 | tail -n +2 | wc -l)
all=$(h5ls results/t.h5/runs | wc -l)
[ "$ok" = 6 ] && [ "$all" = 9 ] || fail "expected 6 ok runs of 9, got $ok of $all"
# has PATTERN COMMAND...: the command's whole output matches (no early-closed pipe).
has() { local out; out=$("${@:2}"); grep -q "$1" <<< "$out"; }
has '"failed"' h5dump -a /runs/g_r2_broken_lru_f0.25_s1/status results/t.h5 || fail "failed run not marked"
has '"cpu-staged"' h5dump -a /runs/g_r2_sage_lru_f0.25_s1/device results/t.h5 || fail "device not passed on"
has "heads" h5dump -a /runs/g_r2_broken_lru_f0.25_s1/log_tail results/t.h5 || fail "failed run's log tail missing"
# Again: the failed runs are run again (and fail again), the others skipped.
"$RUN" t.ini > third.out 2>&1 && fail "a sweep with failed runs must exit non-zero"
grep -q "3 failed, 6 already there" third.out || fail "failed runs are not retried: $(tail -1 third.out)"
# Readable without our code: the tables are plain compound datasets.
has '"rows_fetched"' h5dump -d /runs/g_r2_sage_lru_f0.25_s1/summary results/t.h5 || fail "h5dump summary"
# The figures render from a sweep with no bound (no belady run, so no
# `replayed` column): whatever the sweep has.
RUDDER_EXPORT=$BIN/experiments/rudder_export "$src/plots/render" results/t.h5 > render.out 2>&1 \
  || { cat render.out; fail "plots/render failed on a sweep without belady"; }
grep -q "communication.png" render.out || fail "no communication figure: $(cat render.out)"
echo "experiment: ok"
