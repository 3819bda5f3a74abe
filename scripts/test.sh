#!/usr/bin/env bash
# Installs dependencies, builds netres, runs every test (unit + integration) with CTest, then
# rebuilds the unit tests under ASan+UBSan and runs them. This is what README and CI call.
# Integration tests create network namespaces and start servers: run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if [[ "${NETRES_SKIP_SANITIZE:-0}" != 1 ]]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNETRES_SANITIZE=ON \
    -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
  cmake --build build-asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L unit
fi
