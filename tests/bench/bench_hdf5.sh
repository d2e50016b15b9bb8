#!/usr/bin/env bash
# Benchmark: a 16000x16000 Float32 slope written to HDF5 (plain, deflate) and GeoTIFF (NONE, DEFLATE) by `mpirun -n 2 tessera dem slope`; medians.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
usage() {
  cat <<EOF
usage: $0 [--runs N] [--size CELLS] [--ranks N] [--dir CACHE_DIR] [--tessera PATH]
  Generates CACHE_DIR/dem_SIZE.tif once (default /tmp/tessera-bench, 16000 cells, 3 runs, 2 ranks),
  then runs the four outputs interleaved and prints, per output, the median wall time, the
  median of the slowest rank's write seconds (the summary's write column) and the file size.
EOF
}

runs=3 size=16000 ranks=2 dir=${TESSERA_BENCH_DIR:-/tmp/tessera-bench}
tessera=$root/build/src/tessera
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --tessera) tessera=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
[ -x "$tessera" ] || { echo "bench: no tessera at $tessera (build it or pass --tessera)" >&2; exit 1; }

mkdir -p "$dir"
dem=$dir/dem_$size.tif
/usr/bin/python3 "$root/tests/bench/make_dem.py" "$dem" --size "$size"
work=$(mktemp -d "$dir/hdf5.XXXXXX")
trap 'rm -rf "$work"' EXIT
raw=$work/raw.tsv  # variant run wall_s write_s bytes
: >"$raw"
cat "$dem" >/dev/null  # page cache warm-up: every run reads from memory

declare -A args=(
  [tif_none]="out.tif"
  [tif_deflate]="out.tif -co COMPRESS=DEFLATE"
  [h5_none]="out.h5 -of HDF5"
  [h5_deflate]="out.h5 -of HDF5 -co COMPRESS=DEFLATE"
)
variants="tif_none tif_deflate h5_none h5_deflate"

# time_one VARIANT RUN: wall time of mpirun, the slowest rank's write seconds, the file's bytes.
time_one() {
  rm -f "$work"/out.*
  # shellcheck disable=SC2086
  set -- "$1" "$2" ${args[$1]}
  local out=$work/$3
  OMP_NUM_THREADS=1 /usr/bin/time -f "%e" -o "$work/t" \
    mpirun -n "$ranks" --bind-to none "$tessera" dem slope "$dem" "$out" "${@:4}" -q \
    --report "$work/report.json"
  local write
  write=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["summary"]["write_s"]["max"])' \
    "$work/report.json")
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(cat "$work/t")" "$write" "$(stat -c %s "$out")" >>"$raw"
}

for run in $(seq 1 "$runs"); do
  for v in $variants; do time_one "$v" "$run"; done
done

echo "tessera dem slope, ${size}x${size} Float32, $ranks ranks x 1 thread, medians of $runs runs"
/usr/bin/python3 - "$raw" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().split("\n") if line]
print("%-12s %8s %9s %10s" % ("output", "wall s", "write s", "MB"))
for v in ["tif_none", "tif_deflate", "h5_none", "h5_deflate"]:
    mine = [r for r in rows if r[0] == v]
    wall = statistics.median(float(r[2]) for r in mine)
    write = statistics.median(float(r[3]) for r in mine)
    size = statistics.median(int(r[4]) for r in mine) / 1e6
    print("%-12s %8.2f %9.2f %10.1f" % (v, wall, write, size))
PY
