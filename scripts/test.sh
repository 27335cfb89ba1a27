#!/usr/bin/env bash
# Quick start, command 2: install dependencies, build ./build, run every test through ctest
# (unit tests, fuzz corpus replays, and, as root, the integration tests against real containerd,
# runsc, iptables and dockerd in private network namespaces, the fault injection tests, the short
# soak, valgrind on the create path), then the unit tests again in build-asan under ASan+UBSan
# (RH_ASAN=0: not). Exits with ctest's status; the
# last line printed is ctest's summary ("N% tests passed, M tests failed out of K").
#
#   sudo ./scripts/test.sh                 everything
#   sudo ./scripts/test.sh -L unit         extra arguments go to ctest (-L label, -R regex, -E ...)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${RH_BUILD:-$root/build}

if [[ $(id -u) -ne 0 ]]; then
  echo "test: not root: the integration tests will be skipped (run it as root)" >&2
  ./scripts/deps.sh || true
else
  ./scripts/deps.sh
fi

# Warnings are errors here (CI and development), not in a plain user build (CMakeLists.txt).
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${RH_BUILD_TYPE:-RelWithDebInfo}" -DRH_WERROR="${RH_WERROR:-ON}"
cmake --build "$build" -j "$(nproc)"

log=$build/ctest.log
status=0
# Unit and fuzz tests run in parallel; the integration tests are RUN_SERIAL in their ctest
# properties (each starts its own containerd or dockerd and they share the machine).
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@" 2>&1 | tee "$log" ||
  status=${PIPESTATUS[0]}

# The unit tests again, built with ASan+UBSan (a second build dir; RH_ASAN=0 leaves it out).
# Only when ctest was not asked for a subset. Its summary is printed before the main one.
asan_summary=""
if [[ ${RH_ASAN:-1} == 1 && $# -eq 0 ]]; then
  asan=${RH_BUILD_ASAN:-$root/build-asan}
  cmake -S "$root" -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DRH_SANITIZE=ON -DRH_INTEGRATION=OFF -DRH_WERROR="${RH_WERROR:-ON}" >/dev/null
  cmake --build "$asan" -j "$(nproc)" >/dev/null
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$asan" --output-on-failure -j "$(nproc)" -L unit 2>&1 | tee "$asan/ctest.log" ||
    status=1
  asan_summary=$(grep -E '^[0-9]+% tests passed' "$asan/ctest.log" | tail -n 1 || true)
fi

# ctest prints its failure list and timing after the summary; repeat the summary as the last line.
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
echo
[[ -z $asan_summary ]] || echo "unit tests under ASan+UBSan: $asan_summary"
if [[ -n $summary ]]; then
  echo "$summary"
else
  echo "ctest printed no summary (exit status $status); see $log"
  ((status != 0)) || status=1
fi
exit "$status"
