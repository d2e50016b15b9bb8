#!/usr/bin/env bash
# The demo: installs what is missing, builds Release, runs jobs/terrain.toml on 2 MPI ranks, makes a PNG quick-look of the hillshade.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source cmake/deps.sh

tessera_install_deps
tessera_build "$root" "$root/build"

job=jobs/terrain.toml
# The outputs the job names, resolved against the job file's folder as tessera does.
mapfile -t outputs < <(/usr/bin/python3 -c '
import os, sys, tomllib
job = sys.argv[1]
for output in tomllib.load(open(job, "rb")).get("output", []):
    print(os.path.normpath(os.path.join(os.path.dirname(job), output["path"])))
' "$job")
# tessera writes into existing folders only.
for path in "${outputs[@]}"; do mkdir -p "$(dirname "$path")"; done

echo
echo "== mpirun -n 2 build/src/tessera run $job"
start=$(date +%s%N)
mpirun -n 2 --oversubscribe --bind-to none build/src/tessera run "$job"
echo "job finished in $((($(date +%s%N) - start) / 1000000)) ms (mpirun start-up included)"

hillshade=""
for path in "${outputs[@]}"; do
  case $(basename "$path") in *hillshade*) hillshade=$path ;; esac
done
if [ -n "$hillshade" ]; then
  png=${hillshade%.*}.png
  width=$(gdalinfo "$hillshade" | sed -n 's/^Size is \([0-9]*\), .*/\1/p')
  size_opt=()
  if [ "$width" -gt 2048 ]; then size_opt=(-outsize 2048 0); fi
  gdal_translate -q -of PNG "${size_opt[@]}" "$hillshade" "$png"
  rm -f "$png.aux.xml"
  outputs+=("$png")
fi

echo
echo "== what the demo wrote"
for path in "${outputs[@]}"; do
  echo "$path ($(du -h "$path" | cut -f1))"
  gdalinfo "$path" | grep -E '^(Driver|Size is|Pixel Size)|Band [0-9]+ Block|NoData|COMPRESSION' | sed 's/^/    /'
done
