#!/usr/bin/env bash
# Benchmark: kernel-only throughput of every op on one 512x512 tile, one core, beside memcpy of the same bytes; medians.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
usage() {
  cat <<EOF
usage: $0 [--repetitions N] [--out FILE.json] [--bench PATH] [-- GOOGLE_BENCHMARK_FLAGS...]
  Runs bench_kernels (default build/src/bench_kernels) N times per case (default 5), writes
  Google Benchmark's JSON to FILE.json (default /tmp/tessera-bench/bench_kernels.json) and prints
  the medians as ns per cell, million cells per second, GB/s read + written, and how many times
  slower than memcpy of the same input bytes each case is. Flags after -- go to the benchmark
  (e.g. --benchmark_filter=hillshade).
EOF
}

repetitions=5 out=${TESSERA_BENCH_DIR:-/tmp/tessera-bench}/bench_kernels.json
bench=$root/build/src/bench_kernels
while [ $# -gt 0 ]; do
  case $1 in
    --repetitions) repetitions=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[ -x "$bench" ] || { echo "bench: no bench_kernels at $bench (needs libbenchmark-dev)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"

"$bench" --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json "$@"

/usr/bin/python3 - "$out" <<'PY'
import json
import sys
rows = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if b.get("aggregate_name") == "median"]
speed = {b["run_name"]: b["items_per_second"] for b in rows}
print(f"\nmedians: {'case':<28} {'ns/cell':>8} {'Mcells/s':>9} {'GB/s':>6} {'x memcpy':>9}")
for b in rows:
    name = b["run_name"]
    ref = speed.get("memcpy/calc_bands" if name.startswith("calc") else "memcpy/dem_tile")
    ratio = f"{ref / b['items_per_second']:9.1f}" if ref else ""
    print(f"         {name:<28} {1e9 / b['items_per_second']:8.3f} {b['items_per_second'] / 1e6:9.1f}"
          f" {b['bytes_per_second'] / 1e9:6.1f} {ratio}")
PY
