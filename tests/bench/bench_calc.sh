#!/usr/bin/env bash
# Benchmark: NDVI of two generated 16000x16000 UInt16 rasters to Float32 by `mpirun -n 2 tessera calc` vs gdal_calc.py; medians of interleaved runs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
usage() {
  cat <<EOF
usage: $0 [--runs N] [--size CELLS] [--ranks N] [--dir CACHE_DIR] [--tessera PATH]
  Generates CACHE_DIR/{nir,red}_SIZE.tif once (deterministic UInt16, 256x256 tiles, nodata 65535;
  default /tmp/tessera-bench, 16000 cells), then runs tessera calc (RANKS ranks x 1 thread,
  default 2) and gdal_calc.py alternately RUNS times (default 3) with the same expression and
  --type=Float32, and prints the median wall time and median peak RSS per process of each, the
  ratios, and whether the two outputs hold the same cells.
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
nir=$dir/nir_$size.tif red=$dir/red_$size.tif
# Deterministic bands, made once (tests/bench/inputs.py, shared with suite.py).
/usr/bin/python3 "$root/tests/bench/inputs.py" bands "$dir" "$size" >/dev/null
work=$(mktemp -d "$dir/calc.XXXXXX")
trap 'rm -rf "$work"' EXIT
expr='(A.astype(float)-B)/(A.astype(float)+B)'
raw=$work/raw.tsv  # tool run wall_s peak_rss_mb
: >"$raw"
cat "$nir" "$red" >/dev/null  # page cache warm-up: every run reads from memory

# Each run starts with no dirty pages of an earlier run's 1 GB output still being written back.
run_tessera() {
  rm -f "$work/tessera.tif"
  sync
  OMP_NUM_THREADS=1 /usr/bin/time -f "%e" -o "$work/t" \
    mpirun -n "$ranks" --bind-to none "$tessera" calc -A "$nir" -B "$red" --calc="$expr" \
    --type=Float32 --outfile "$work/tessera.tif" >"$work/summary"
  # The summary's "max" row ends with the largest peak RSS of any rank, in MB.
  local rss
  rss=$(awk '$1 == "max" { print $NF }' "$work/summary")
  printf 'tessera\t%s\t%s\t%s\n' "$1" "$(cat "$work/t")" "$rss" >>"$raw"
}

run_gdal_calc() {
  rm -f "$work/gdal_calc.tif"
  sync
  /usr/bin/time -f "%e %M" -o "$work/t" /usr/bin/python3 /usr/bin/gdal_calc.py -A "$nir" \
    -B "$red" --calc="$expr" --type=Float32 --outfile "$work/gdal_calc.tif" --quiet
  local wall kb
  read -r wall kb <"$work/t"
  printf 'gdal_calc\t%s\t%s\t%s\n' "$1" "$wall" "$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')" >>"$raw"
}

for run in $(seq 1 "$runs"); do
  run_tessera "$run"
  run_gdal_calc "$run"
done

same=$(/usr/bin/python3 - "$work/tessera.tif" "$work/gdal_calc.tif" <<'PY'
import sys
import numpy as np
from osgeo import gdal
a, b = (gdal.Open(p) for p in sys.argv[1:])
rows = a.RasterYSize
equal = all(np.array_equal(a.ReadAsArray(0, y, a.RasterXSize, min(1000, rows - y)),
                           b.ReadAsArray(0, y, b.RasterXSize, min(1000, rows - y)))
            for y in range(0, rows, 1000))
print("identical cells" if equal else "CELLS DIFFER")
PY
)

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "NDVI $expr -> Float32 on two ${size}x${size} UInt16 rasters; $runs runs interleaved"
cat "$raw"
t_wall=$(awk '$1 == "tessera" { print $3 }' "$raw" | median)
t_rss=$(awk '$1 == "tessera" { print $4 }' "$raw" | median)
g_wall=$(awk '$1 == "gdal_calc" { print $3 }' "$raw" | median)
g_rss=$(awk '$1 == "gdal_calc" { print $4 }' "$raw" | median)
printf 'tessera calc (%s ranks x 1 thread): median %.2f s, peak RSS per rank %s MB\n' "$ranks" "$t_wall" "$t_rss"
printf 'gdal_calc.py:                      median %.2f s, peak RSS %s MB\n' "$g_wall" "$g_rss"
awk -v a="$g_wall" -v b="$t_wall" -v c="$t_rss" -v d="$g_rss" \
  'BEGIN { printf "speed-up %.1fx (issue asks >= 5x); RSS per rank / gdal_calc.py %.2f (asks <= 0.25)\n", a / b, c / d }'
echo "outputs: $same"
