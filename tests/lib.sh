# Shared by the shell tests: strict mode, the build's tools, a scratch
# directory, and mpirun set up for CI (root, 2 cores, 2-4 ranks).
set -euo pipefail
BIN=${1:?usage: $0 BUILD_DIR}
DATA=$BIN/tests/data  # also run_experiment's data_dir when run from $BIN/tests
mkdir -p "$DATA"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One thread per rank: the ranks already outnumber the cores.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# Loopback-only transports: no network traffic leaves the machine.
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
export OMPI_MCA_pml=ob1
# Keep MPI's plugins loaded at exit so leak reports inside them resolve to
# their libraries, which tests/lsan.supp then names (they are not ours).
export OMPI_MCA_mca_base_component_disable_dlclose=1 PMIX_MCA_mca_base_component_disable_dlclose=1
mpirun_n() { local n=$1; shift; mpirun --oversubscribe --bind-to none -np "$n" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# data NAME PRESET PARTS [METHOD]: a generated graph and its partition, cached.
data() {
  local g=$DATA/$2.rdg p=$DATA/$2.${4:-metis}$3
  [ -f "$g" ] || "$BIN/datasets/rudder_data" generate --preset "$2" -o "$g" >/dev/null
  [ -f "$p/map.rdp" ] || "$BIN/datasets/rudder_data" partition "$g" --parts "$3" --method "${4:-metis}" -o "$p" >/dev/null
  eval "$1_graph=\$g; $1_part=\$p"
}
