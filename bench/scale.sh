#!/usr/bin/env bash
# Container start with 0, 50 and 200 other containers running: the lifecycle latency of a
# busybox `true` (`ctr run --rm --net-host`) through runsc-host and through raw runsc,
# interleaved, while N background containers (runsc-host, default policy, so each has its
# egress rules in iptables) sleep. This is where a per-container cost that grows with the
# number of containers (iptables rule sets, state scans) would show.
#
#   bench/scale.sh [ROUNDS] [LEVELS]     (default 8 rounds; levels "0 50 200")
#
# Safety: before adding background containers it checks memory (MemAvailable must stay above
# BENCH_MIN_FREE_GIB, default 8) and the pid/thread count (below BENCH_MAX_THREADS, default
# 20000 of pid_max); when a level cannot be reached it stops there and the result says so.
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-${BENCH_ROUNDS:-8}}
LEVELS=${2:-${BENCH_SCALE_LEVELS:-0 50 200}}
MIN_FREE_GIB=${BENCH_MIN_FREE_GIB:-8}
MAX_THREADS=${BENCH_MAX_THREADS:-20000}

bench_setup scale
rh_require_binary "$RUNSC_HOST"
rh_netns_create
bench_state_tmpfs
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\""
rh_containerd_start
rh_image_build busybox
bench_raw_wrapper
# Teardown of hundreds of containers: SIGKILL every task at once first (the harness then
# deletes them one by one).
kill_all_tasks ()
{
  local id pids=()
  for id in $(rh_ctr tasks list -q 2>/dev/null); do
    rh_ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1 &
    pids+=($!)
  done
  # Only these: a bare `wait` would also wait for containerd, a background job of this shell.
  ((${#pids[@]} == 0)) || wait "${pids[@]}"
  sleep 2
}
rh_cleanup_push kill_all_tasks

run_with ()
{
  rh_ctr run --rm --runc-binary "$1" --net-host --snapshotter native "$RH_IMAGE" "$(rh_cid "$2")" true
}
LEVEL=0
v_raw () { run_with "$BENCH_RAW" "r$LEVEL-$1"; }
v_host () { run_with "$RUNSC_HOST" "h$LEVEL-$1"; }

threads () { ps -eLf --no-headers | wc -l; }
free_gib () { awk '/MemAvailable/ {printf "%.1f", $2 / 1048576}' /proc/meminfo; }

running=0
reached=""
: >"$RH_TMP/levels.txt"
for level in $LEVELS; do
  t0=$EPOCHREALTIME
  while ((running < level)); do
    if awk -v f="$(free_gib)" -v m="$MIN_FREE_GIB" 'BEGIN { exit !(f < m) }' || (($(threads) > MAX_THREADS)); then
      bench_note "- **stopped at $running background containers** (wanted $level): MemAvailable $(free_gib) GiB, $(threads) threads"
      break 2
    fi
    rh_ctr run -d --runc-binary "$RUNSC_HOST" --net-host --snapshotter native "$RH_IMAGE" \
      "$(rh_cid "bg$running")" sleep 1000000 >/dev/null
    running=$((running + 1))
  done
  t1=$EPOCHREALTIME
  LEVEL=$level
  sleep 2
  echo "$level $(free_gib) $(threads) $(cut -d' ' -f1 /proc/loadavg) $(((${t1/./} - ${t0/./}) / 1000))" >>"$RH_TMP/levels.txt"
  v_raw warm >/dev/null 2>&1 || true
  bench_interleave "$ROUNDS" "$RH_TMP/level-$level.csv" raw-runsc v_raw runsc-host v_host
  reached="$reached $level"
  ipt=$(rh_in_netns iptables-save 2>/dev/null | wc -l)
  echo "$level iptables_lines=$ipt" >>"$RH_TMP/ipt.txt"
done

{
  echo
  echo "### Container start with other containers running"
  echo
  echo "Command: \`bench/scale.sh $ROUNDS \"$LEVELS\"\`; at each level, $ROUNDS interleaved rounds of \`ctr run --rm --net-host busybox true\`; background containers are runsc-host containers running \`sleep\`."
  echo
  echo "| background containers | MemAvailable GiB | threads on host | load (1 min) | time to start the new background containers, ms | iptables-save lines in the netns |"
  echo "|---|---|---|---|---|---|"
  while read -r l f t ld ms; do
    echo "| $l | $f | $t | $ld | $ms | $(awk -v l="$l" '$1 == l {print $2}' "$RH_TMP/ipt.txt" | cut -d= -f2) |"
  done <"$RH_TMP/levels.txt"
  for level in $reached; do
    echo
    echo "With $level other containers running:"
    echo
    bench_table "$RH_TMP/level-$level.csv" raw-runsc
    sed "s/^/$level,/" "$RH_TMP/level-$level.csv" >>"$BENCH_CSV"
  done
  echo
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
