#!/usr/bin/env bash
# Installs dependencies, builds netres, runs every test (unit + integration) with CTest, and runs
# the unit tests again built under ASan+UBSan. This is what README and CI call.
# Integration tests create network namespaces and start servers: run as root.
#
# Time: the integration tests mostly wait on servers and timers, so the sanitizer build runs
# during them at the lowest CPU priority (nice 19: the tests' processes always come first) and
# builds only the unit tests (target netres_unit_tests, not the netres program).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
jobs=$(nproc)
sanitize=1
[[ "${NETRES_SKIP_SANITIZE:-0}" == 1 ]] && sanitize=0

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j "$jobs"

asan_pid=
if ((sanitize)); then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNETRES_SANITIZE=ON \
    -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
  nice -n 19 cmake --build build-asan -j "$jobs" --target netres_unit_tests \
    >build-asan/unit-build.log 2>&1 &
  asan_pid=$!
  # Never leave the background build running when this script stops early.
  trap '[[ -n "$asan_pid" ]] && kill "$asan_pid" 2>/dev/null || true' EXIT
fi

status=0
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600 || status=$?

if ((sanitize)); then
  if ! wait "$asan_pid"; then
    asan_pid=
    tail -n 60 build-asan/unit-build.log
    echo "test.sh: the ASan+UBSan build failed (whole log: build-asan/unit-build.log)" >&2
    exit 1
  fi
  asan_pid=
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L unit || status=$?
fi
exit "$status"
