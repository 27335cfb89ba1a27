#!/usr/bin/env bash
# What a workload gains from the current runsc (issue 12): the same syscall-heavy work inside the
# container under runc, runsc-host on Debian's runsc 2022 (ptrace) and runsc-host on the current
# runsc that scripts/deps-go.sh builds (platform auto: systrap here), all through containerd,
# in interleaved rounds. Workloads: bench/workload.c's getppid loop, small files (create/write,
# open/read, unlink of 4 KiB files), loopback TCP over host networking; and a process spawn loop
# (busybox sh forking and exec'ing /bin/true, timed inside the container).
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

binary_of ()
{
  case $1 in
  runc) echo "$BENCH_RUNC" ;;
  runsc-2022-ptrace) echo "$RUNSC_HOST" ;;
  runsc-current-auto) echo "$RH_TMP/runsc-host-current" ;;
  esac
}

wl_run ()
{
  local v=$1 id=$2
  shift 2
  rh_ctr run --rm --runc-binary "$(binary_of "$v")" --net-host --snapshotter native \
    --mount "type=bind,src=$WL,dst=/wl,options=rbind:ro" "$RH_IMAGE" "$id" "$@"
}

SPAWN_SH='s=$(date +%s%N); i=0; while [ $i -lt '$SPAWNS' ]; do /bin/true; i=$((i+1)); done
e=$(date +%s%N); echo spawn_us_per_process=$(( (e - s) / '$SPAWNS' / 1000 ))'

variants=(runc runsc-2022-ptrace runsc-current-auto)
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
    for w in syscalls files tcp spawn; do
      case $w in
      syscalls) args=(/wl syscalls "$SYSCALLS") ;;
      files) args=(/wl files /var/wl "$FILES" 4096) ;;
      tcp) args=(/wl tcp "$TCP_MIB" $((21000 + r * 10 + k))) ;;
      spawn) args=(sh -c "$SPAWN_SH") ;;
      esac
      if out=$(wl_run "$v" "$(rh_cid "v$r$w$tag")" "${args[@]}" 2>"$RH_TMP/last.err"); then
        awk -F= -v v="$v" -v r="$r" '/=/ {print $1 "," v "," r "," $2 ",0"}' <<<"$out" >>"$RH_TMP/metrics.csv"
      else
        bench_note "- $v, $w, round $r failed: $(tail -n 1 "$RH_TMP/last.err")"
      fi
    done
  done
done

{
  echo
  echo "### runc vs runsc 2022 (ptrace) vs current runsc (auto), through runsc-host and containerd"
  echo
  echo "Command: \`bench/runsc_versions.sh $ROUNDS\` ($ROUNDS interleaved rounds; $SYSCALLS getppid calls; $FILES files of 4 KiB; $TCP_MIB MiB over loopback TCP; $SPAWNS fork+exec of /bin/true)."
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  for m in syscall_ns create_write_us_per_file open_read_us_per_file unlink_us_per_file tcp_mib_per_s \
    spawn_us_per_process; do
    echo
    echo "\`$m\`:"
    echo
    awk -F, -v m="$m" '$1 == m {print $2 "," $3 "," $4 "," $5}' "$RH_TMP/metrics.csv" >"$RH_TMP/$m.csv"
    bench_table "$RH_TMP/$m.csv" runc 1 "$m"
    sed "s/^/$m,/" "$RH_TMP/$m.csv" >>"$BENCH_CSV"
  done
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
