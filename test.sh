#!/usr/bin/env bash
# Builds kq and runs every test. KQ_SANITIZE=1 builds and tests with ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")"

./cmake/install-deps.sh

build_dir=build
sanitize=OFF
if [ "${KQ_SANITIZE:-0}" = "1" ]; then
  build_dir=build-asan
  sanitize=ON
fi
jobs=$(nproc)

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKQ_SANITIZE="$sanitize" >/dev/null
cmake --build "$build_dir" -j "$jobs"
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 600
