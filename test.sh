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

# The side-by-side benchmark script must keep working: run it on a small corpus (its report
# goes to the build directory, not to docs/).
if [ "$sanitize" = OFF ]; then
  BUILD_DIR="$build_dir" tools/bench/run.sh --events 20000 --runs 2 --no-compress \
    --workdir "$build_dir/bench-work" --report "$build_dir/bench-smoke.md" \
    >"$build_dir/bench-smoke.log" 2>&1 || {
    tail -40 "$build_dir/bench-smoke.log"
    echo "test.sh: tools/bench/run.sh --events 20000 failed (log: $build_dir/bench-smoke.log)" >&2
    exit 1
  }
  echo "bench smoke: tools/bench/run.sh --events 20000 finished; report in $build_dir/bench-smoke.md"
fi

ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 600
