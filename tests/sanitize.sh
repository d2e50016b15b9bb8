#!/usr/bin/env bash
# The serial unit tests and the in-process fuzzer built with AddressSanitizer and
# UndefinedBehaviorSanitizer (CMakePresets.json, preset sanitize, in build-sanitize/).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source cmake/deps.sh

tessera_install_deps
cmake --preset sanitize
cmake --build --preset sanitize -j"$(nproc)"
ctest --preset sanitize -j"$(nproc)" --output-on-failure "$@"
