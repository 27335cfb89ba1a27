#!/usr/bin/env bash
# What a workload gains from the current runsc (issue 12): the same syscall-heavy work inside the
# container under runc, runsc-host on Debian's runsc 2022 (ptrace) and runsc-host on the current
# runsc that scripts/deps-go.sh builds (platform auto: systrap here), all through containerd
# (ctr run --runc-binary; runc itself is the baseline), in interleaved rounds whose order rotates.
# Every figure is timed inside the container by bench/workload.c (static, bind-mounted read-only):
#   syscalls  a getppid loop (the bare cost of one system call)
#   files     create+write, open+read (small-file reads), unlink of 4 KiB files
#   stat      stat() of existing files, in a loop
#   spawn     fork + execve of the image's /bin/true + wait, in a loop
#   tcp       loopback TCP throughput over host networking
#   echo      loopback TCP request/response (64 bytes each way, TCP_NODELAY): round-trip latency
# One container per variant and round runs them all, one after the other. A fourth variant,
# the current runsc on systrap with --systrap-disable-fast-path, is there to explain systrap's
# two speeds (BENCHMARKS.md).
#
#   bench/runsc_versions.sh [ROUNDS]      (default 3)
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-${BENCH_ROUNDS:-3}}
SYSCALLS=${BENCH_SYSCALLS:-50000}
FILES=${BENCH_FILES:-500}
TCP_MIB=${BENCH_TCP_MIB:-128}
SPAWNS=${BENCH_SPAWNS:-200}
STATS=${BENCH_STATS:-200}      # files, each stat()ed STAT_REPEAT times
STAT_REPEAT=${BENCH_STAT_REPEAT:-25}
ECHOES=${BENCH_ECHOES:-5000}
CURRENT=${RH_RUNSC_CURRENT:-$(sed -n 's/^RH_GO_PREFIX=//p' "$RH_SOURCE_DIR/scripts/versions.env")/runsc}
[[ -x $CURRENT ]] || { echo "runsc_versions: $CURRENT missing (run scripts/deps-go.sh)" >&2; exit 1; }

bench_setup runscversions
echo "- current runsc: $CURRENT ($($CURRENT --version 2>/dev/null | head -n 1))" >>"$BENCH_OUT"
rh_require_binary "$RUNSC_HOST"
rh_netns_create
bench_state_tmpfs
rh_policy_write '.runsc.platform = "ptrace"'
rh_containerd_start
rh_image_build busybox

WL=$RH_TMP/wl
cc -O2 -static -pthread -o "$WL" "$BENCH_DIR/workload.c" 2>/dev/null
jq --arg r "$CURRENT" '.runsc.path = $r | .runsc.platform = "auto"
  | .state_dir = (.state_dir + "-current")' "$RH_POLICY" >"$RH_TMP/policy-current.json"
bench_env_wrapper "$RH_TMP/runsc-host-current" RUNSC_HOST_CONFIG "$RH_TMP/policy-current.json" "$RUNSC_HOST"
# A diagnostic variant: systrap with its adaptive fast path (stub and sentry threads spinning
# instead of sleeping on a futex) switched off, to show which of its two speeds a round got.
jq '.runsc.platform = "systrap" | .runsc.flags += ["--systrap-disable-fast-path"]
  | .state_dir = (.state_dir + "-nofp")' "$RH_TMP/policy-current.json" >"$RH_TMP/policy-nofp.json"
bench_env_wrapper "$RH_TMP/runsc-host-nofp" RUNSC_HOST_CONFIG "$RH_TMP/policy-nofp.json" "$RUNSC_HOST"

binary_of ()
{
  case $1 in
  runc) echo "$BENCH_RUNC" ;;
  runsc-2022-ptrace) echo "$RUNSC_HOST" ;;
  runsc-current-auto) echo "$RH_TMP/runsc-host-current" ;;
  runsc-current-systrap-nofastpath) echo "$RH_TMP/runsc-host-nofp" ;;
  esac
}

wl_run ()
{
  local v=$1 id=$2
  shift 2
  rh_ctr run --rm --runc-binary "$(binary_of "$v")" --net-host --snapshotter native \
    --mount "type=bind,src=$WL,dst=/wl,options=rbind:ro" "$RH_IMAGE" "$id" "$@"
}

# The workloads of one round, one /wl call each; a failure prints wl_failed=<name> and the round
# goes on. Ports differ per round and variant (a port in TIME_WAIT must not fail a bind).
round_script ()
{
  local r=$1 k=$2
  cat <<EOF
/wl syscalls $SYSCALLS || echo wl_failed=syscalls
/wl files /var/wl $FILES 4096 || echo wl_failed=files
/wl stat /var/wl-stat $STATS $STAT_REPEAT || echo wl_failed=stat
/wl spawn $SPAWNS /bin/true || echo wl_failed=spawn
/wl tcp $TCP_MIB $((21000 + r * 10 + k)) || echo wl_failed=tcp
/wl echo $ECHOES $((22000 + r * 10 + k)) || echo wl_failed=echo
EOF
}

variants=(runc runsc-2022-ptrace runsc-current-auto runsc-current-systrap-nofastpath)
for v in "${variants[@]}"; do
  wl_run "$v" "$(rh_cid "warm-$(echo "$v" | tr -c 'a-z0-9\n' x)")" /wl syscalls 10 >/dev/null
done
echo "- platform the auto probe picked for the current runsc: $(jq -r .platform "$RH_TMP/runsc-host-state-current/platform" 2>/dev/null)" >>"$BENCH_OUT"

: >"$RH_TMP/metrics.csv"
n=${#variants[@]}
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < n; k++)); do
    v=${variants[$(((k + r) % n))]}
    tag=$(echo "$v" | tr -c 'a-z0-9\n' x)
    if out=$(wl_run "$v" "$(rh_cid "v$r$tag")" sh -c "$(round_script "$r" "$k")" 2>"$RH_TMP/last.err"); then
      awk -F= -v v="$v" -v r="$r" '/=/ && $1 != "wl_failed" {print $1 "," v "," r "," $2 ",0"}' <<<"$out" \
        >>"$RH_TMP/metrics.csv"
      for w in $(awk -F= '$1 == "wl_failed" {print $2}' <<<"$out"); do
        bench_note "- $v, $w, round $r failed: $(grep -m1 "wl: " "$RH_TMP/last.err" || tail -n 1 "$RH_TMP/last.err")"
      done
    else
      bench_note "- $v, round $r failed: $(tail -n 1 "$RH_TMP/last.err")"
    fi
    echo "round $r $v: $(wc -l <"$RH_TMP/metrics.csv") figures so far; load $(cut -d' ' -f1 /proc/loadavg)" >&2
  done
done

{
  echo
  echo "### runc vs runsc 2022 (ptrace) vs current runsc (auto), through runsc-host and containerd"
  echo
  echo "Command: \`bench/runsc_versions.sh $ROUNDS\` ($ROUNDS interleaved rounds; $SYSCALLS getppid calls; $FILES files of 4 KiB; $STATS files stat()ed $STAT_REPEAT times each; $SPAWNS fork+exec of /bin/true; $TCP_MIB MiB over loopback TCP; $ECHOES request/response round trips of 64 bytes)."
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  for m in syscall_ns create_write_us_per_file open_read_us_per_file unlink_us_per_file stat_us_per_call \
    spawn_us_per_process tcp_mib_per_s tcp_blocking_io_eagain echo_rtt_us echo_rtt_p99_us; do
    echo
    echo "\`$m\`:"
    echo
    awk -F, -v m="$m" '$1 == m {print $2 "," $3 "," $4 "," $5}' "$RH_TMP/metrics.csv" >"$RH_TMP/$m.csv"
    bench_table "$RH_TMP/$m.csv" runc 1 "$m"
    sed "s/^/$m,/" "$RH_TMP/$m.csv" >>"$BENCH_CSV"
  done
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
