#!/usr/bin/env bash
# Run every libFuzzer target (tests/fuzz/fuzz_*.c) under ASan+UBSan (and LeakSanitizer), each
# for N seconds, one after the other, and print one line per target: executions, crashes and the
# new corpus entries it found. Exits non-zero if any target crashed (the reproducer is kept in
# <build>/fuzz-artifacts/).
#
#   scripts/fuzz.sh 60                     every target, 60 s each
#   scripts/fuzz.sh 60 ports policy        only these targets
#   RH_FUZZ_RUNS=10000000 scripts/fuzz.sh 0   a fixed number of executions per target instead
#                                           (with N > 0 as well: whichever limit comes first)
#   RH_FUZZ_MERGE=1 scripts/fuzz.sh 60     afterwards, merge into tests/fuzz/corpus/<target>/
#                                           every new input that adds coverage (libFuzzer -merge=1)
#
# Needs clang and its runtime (Debian: clang, libclang-rt-14-dev; see scripts/packages.txt).
# The build goes to RH_FUZZ_BUILD (default <repo>/build-fuzz); new inputs go to
# <build>/fuzz-work/<target>/, never straight into the committed seed corpus.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 SECONDS [target...]   (targets: $(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//' | tr '\n' ' '))" >&2
  exit 2
fi
secs=$1
shift
build=${RH_FUZZ_BUILD:-$root/build-fuzz}
runs=${RH_FUZZ_RUNS:-}

if ! command -v clang >/dev/null; then
  echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  mapfile -t targets < <(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRH_FUZZ=ON \
  -DRH_SANITIZE=ON -DRH_INTEGRATION=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

mkdir -p "$build/fuzz-artifacts"
summary=()
failed=0
for t in "${targets[@]}"; do
  seeds=$root/tests/fuzz/corpus/$t
  work=$build/fuzz-work/$t
  log=$build/fuzz-work/$t.log
  mkdir -p "$work" "$seeds"
  before=$(find "$work" -type f | wc -l)
  # Whichever limit comes first: N seconds (0: none) and RH_FUZZ_RUNS executions.
  limit=()
  ((secs > 0)) && limit+=(-max_total_time="$secs")
  [[ -n $runs ]] && limit+=(-runs="$runs")
  # The first directory receives new inputs; the seed corpus is read only. UBSan reports abort
  # (-fno-sanitize-recover at compile time), so libFuzzer counts them as crashes.
  status=0
  touch "$log.start"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz_$t" "${limit[@]}" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/fuzz-artifacts/$t-" "$work" "$seeds" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  crashes=$(find "$build/fuzz-artifacts" -name "$t-*" -newer "$log.start" | wc -l)
  ((status == 0)) || crashes=$((crashes > 0 ? crashes : 1))
  after=$(find "$work" -type f | wc -l)
  added=0
  if [[ ${RH_FUZZ_MERGE:-0} == 1 ]]; then
    n0=$(find "$seeds" -type f | wc -l)
    "$build/tests/fuzz_$t" -merge=1 "$seeds" "$work" >"$log.merge" 2>&1
    added=$(($(find "$seeds" -type f | wc -l) - n0))
  fi
  line=$(printf '%-10s executions %10s  crashes %d  new inputs %d  merged into corpus %d  (%s)' \
    "$t" "${execs:-?}" "$crashes" "$((after - before))" "$added" "$log")
  echo "$line"
  summary+=("$line")
  if ((status != 0)); then
    failed=1
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 >&2 || true
  fi
done
echo
echo "fuzz summary (${runs:+$runs runs}${runs:-$secs s} per target, ASan+UBSan+LSan):"
printf '%s\n' "${summary[@]}"
exit "$failed"
