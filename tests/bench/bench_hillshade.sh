#!/usr/bin/env bash
# Benchmark: gdaldem hillshade against `mpirun -n 2 tessera dem hillshade` on a generated 16000x16000 DEM; prints a table, writes JSON.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
usage() {
  cat <<EOF
usage: $0 [--runs N] [--size CELLS] [--ranks N] [--dir CACHE_DIR] [--tessera PATH] [--json FILE] [--gdaldem-only]
  Generates CACHE_DIR/dem_generated_SIZE.tif once with tessera generate (dem_SIZE.tif with
  tests/bench/make_dem.py under --gdaldem-only) (default /tmp/tessera-bench, 16000 cells, 3 runs, 2 ranks),
  then times both tools, interleaved, as medians of N runs, with peak RSS per process.
EOF
}

runs=3 size=16000 ranks=2 dir=${TESSERA_BENCH_DIR:-/tmp/tessera-bench}
tessera=$root/build/src/tessera json="" gdaldem_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --tessera) tessera=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --gdaldem-only) gdaldem_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
json=${json:-$dir/bench_hillshade.json}
python=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
if [ "$gdaldem_only" = 0 ] && [ ! -x "$tessera" ]; then
  echo "bench: no tessera at $tessera (build it, pass --tessera, or use --gdaldem-only)" >&2
  exit 1
fi

mkdir -p "$dir"
# The DEM: `tessera generate` on the benchmark's ranks (the same file whatever the ranks);
# tests/bench/make_dem.py when only gdaldem runs (no tessera built).
if [ "$gdaldem_only" = 0 ]; then
  dem=$("$python" "$root/tests/bench/inputs.py" dem "$dir" "$size" --tessera "$tessera" --ranks "$ranks")
else
  dem=$dir/dem_$size.tif
  "$python" "$root/tests/bench/make_dem.py" "$dem" --size "$size"
fi
work=$(mktemp -d "$dir/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
raw=$work/raw.tsv   # variant tool run wall_s rss_kb(comma-separated, one per process)
: >"$raw"

# Page cache warm-up: both tools then read from memory, as every later run does.
cat "$dem" >/dev/null

declare -A extra=([plain]="" [zstd]="-co TILED=YES -co COMPRESS=ZSTD -co PREDICTOR=2")

# time_gdaldem VARIANT RUN: one gdaldem run; wall time and peak RSS from /usr/bin/time.
time_gdaldem() {
  local out=$work/gdaldem_$1.tif
  rm -f "$out"
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M" -o "$work/t" gdaldem hillshade "$dem" "$out" -q ${extra[$1]}
  read -r wall rss <"$work/t"
  printf '%s\tgdaldem\t%s\t%s\t%s\n' "$1" "$2" "$wall" "$rss" >>"$raw"
}

# time_tessera VARIANT RUN: mpirun's wall time; each rank's peak RSS from its own /usr/bin/time.
time_tessera() {
  local out=$work/tessera_$1.tif
  rm -f "$out" "$work"/rss.*
  # shellcheck disable=SC2086,SC2016
  OMP_NUM_THREADS=1 /usr/bin/time -f "%e" -o "$work/t" \
    mpirun -n "$ranks" --bind-to none \
    sh -c '/usr/bin/time -f %M -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$work/rss" \
    "$tessera" dem hillshade "$dem" "$out" -q ${extra[$1]}
  local rss
  rss=$(cat "$work"/rss.* | paste -sd, -)
  printf '%s\ttessera\t%s\t%s\t%s\n' "$1" "$2" "$(cat "$work/t")" "$rss" >>"$raw"
}

# time_startup RUN: mpirun's fixed cost, with a program that does nothing.
time_startup() {
  /usr/bin/time -f "%e" -o "$work/t" mpirun -n "$ranks" --bind-to none true
  printf 'startup\tmpirun\t%s\t%s\t0\n' "$1" "$(cat "$work/t")" >>"$raw"
}

for run in $(seq 1 "$runs"); do
  for variant in plain zstd; do
    echo "run $run/$runs: $variant" >&2
    time_gdaldem "$variant" "$run"
    [ "$gdaldem_only" = 1 ] || time_tessera "$variant" "$run"
  done
  [ "$gdaldem_only" = 1 ] || time_startup "$run"
done

# Same pixels? GDAL checksums of the last outputs of each variant (cheap next to a full compare).
checks=""
if [ "$gdaldem_only" = 0 ]; then
  for variant in plain zstd; do
    a=$(gdalinfo -checksum "$work/gdaldem_$variant.tif" | sed -n 's/.*Checksum=//p')
    b=$(gdalinfo -checksum "$work/tessera_$variant.tif" | sed -n 's/.*Checksum=//p')
    checks="$checks $variant=$a/$b"
  done
fi

"$python" - "$raw" "$json" "$dem" "$size" "$ranks" "$runs" "$checks" <<'EOF'
import json, statistics, sys, os
raw, out, dem, size, ranks, runs, checks = sys.argv[1:]
rows = [line.rstrip("\n").split("\t") for line in open(raw)]
def pick(variant, tool):
    sel = [r for r in rows if r[0] == variant and r[1] == tool]
    if not sel:
        return None
    walls = [float(r[3]) for r in sel]
    rss = [[int(v) for v in r[4].split(",")] for r in sel]
    per_process = [statistics.median(col) / 1024 for col in zip(*rss)]
    return {"wall_s_median": statistics.median(walls), "wall_s_all": walls,
            "peak_rss_mb_per_process": [round(v, 1) for v in per_process]}
checks = dict(c.split("=") for c in checks.split())
result = {"dem": {"path": dem, "cells": f"{size}x{size}", "bytes": os.path.getsize(dem)},
          "ranks": int(ranks), "omp_num_threads": 1, "runs": int(runs),
          "mpirun_startup_s_median": (pick("startup", "mpirun") or {}).get("wall_s_median"),
          "variants": {}}
print(f"DEM {dem}: {size}x{size} Float32, {os.path.getsize(dem) / 2**30:.2f} GiB; medians of {runs} runs")
print(f"{'variant':8} {'tool':26} {'wall s':>8} {'speedup':>7}  peak RSS MB per process")
for variant in ("plain", "zstd"):
    g, t = pick(variant, "gdaldem"), pick(variant, "tessera")
    entry = {"gdaldem": g, "tessera": t}
    print(f"{variant:8} {'gdaldem':26} {g['wall_s_median']:8.2f} {'':>7}  {g['peak_rss_mb_per_process']}")
    if t:
        entry["speedup_gdaldem_over_tessera"] = round(g["wall_s_median"] / t["wall_s_median"], 3)
        entry["checksums_gdaldem_tessera"] = checks.get(variant)
        print(f"{variant:8} {'tessera mpirun -n ' + ranks:26} {t['wall_s_median']:8.2f} "
              f"{entry['speedup_gdaldem_over_tessera']:6.2f}x  {t['peak_rss_mb_per_process']}"
              f"  checksums gdaldem/tessera {checks.get(variant)}")
    result["variants"][variant] = entry
if result["mpirun_startup_s_median"] is not None:
    print(f"mpirun -n {ranks} start-up (included in tessera's wall time): {result['mpirun_startup_s_median']:.2f} s")
json.dump(result, open(out, "w"), indent=2)
print(f"wrote {out}")
EOF
