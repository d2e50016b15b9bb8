#!/usr/bin/env bash
# The test command: installs missing packages, builds Release in build/, runs every ctest tier.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source cmake/deps.sh

tessera_install_deps
tessera_build "$root" "$root/build"
# Tests start up to 4 MPI ranks each: run them one at a time on small machines.
ctest --test-dir "$root/build" --output-on-failure --timeout "${TESSERA_TEST_TIMEOUT:-900}" \
  -j "${TESSERA_TEST_JOBS:-1}" "$@"
