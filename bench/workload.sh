#!/usr/bin/env bash
# Workload speed inside the container under the chosen runsc flags, against runc, and the
# effect of the file-system and network settings one might choose instead:
#   runc                 the baseline (no sandbox)
#   raw-runsc            runsc with runsc-host's flags on the spec as containerd wrote it (no
#                        rewrite: no seccomp profile added, capabilities as given)
#   runsc-host           the default policy's flags (platform, --network=host, --oci-seccomp)
#   runsc-host+overlay   the same plus runsc.flags ["--overlay2=root:memory"] (root file system
#                        writes kept in sandbox memory instead of going through the gofer)
#   raw-netstack         runsc with its own network stack (--network=sandbox) in a network
#                        namespace of its own (ctr --with-ns): what runsc-host gives up by
#                        using host networking
# Workloads (bench/workload.c, static, bind-mounted read-only, timed inside the sandbox):
# getppid() loop; create/write, open/read and unlink of small files in the root file system;
# loopback TCP throughput.
#
#   bench/workload.sh [ROUNDS]      (default 5, interleaved)
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-${BENCH_ROUNDS:-5}}
SYSCALLS=${BENCH_SYSCALLS:-50000}
FILES=${BENCH_FILES:-500}
TCP_MIB=${BENCH_TCP_MIB:-256}

bench_setup workload
rh_require_binary "$RUNSC_HOST"
rh_netns_create
bench_state_tmpfs
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\""
rh_containerd_start
rh_image_build busybox
bench_raw_wrapper

WL=$RH_TMP/wl
cc -O2 -static -pthread -o "$WL" "$BENCH_DIR/workload.c" 2>/dev/null

# runsc-host under a second policy: a compiled wrapper that sets RUNSC_HOST_CONFIG and execs it.
jq '.runsc.flags += ["--overlay2=root:memory"]' "$RH_POLICY" >"$RH_TMP/policy-overlay.json"
bench_env_wrapper "$RH_TMP/runsc-host-overlay" RUNSC_HOST_CONFIG "$RH_TMP/policy-overlay.json" "$RUNSC_HOST"
# runsc with its own netstack: the raw wrapper's flags with --network=sandbox.
netstack_flags=$(printf '%s\n' $BENCH_RAW_FLAGS | grep -v '^--network=' | sed 's/.*/"&",/' | tr -d '\n')
printf '#include <stdlib.h>\n#include <unistd.h>\nint main (int c, char **v) { static char *f[] = { "%s", %s "--network=sandbox" }; int n = sizeof f / sizeof *f; char **a = calloc (c + n + 1, sizeof *a); for (int i = 0; i < n; i++) a[i] = f[i]; for (int i = 1; i < c; i++) a[n + i - 1] = v[i]; execv ("%s", a); return 127; }\n' \
  "$RH_RUNSC" "$netstack_flags" "$RH_RUNSC" | cc -O2 -x c -o "$RH_TMP/raw-netstack" -
# The netstack variant's network namespace (runsc builds its stack from the interfaces found
# there; loopback is all the workload uses).
NS2=$RH_NETNS-ns2
ip netns add "$NS2"
rh_cleanup_push "ip netns delete '$NS2' 2>/dev/null || true"
nsenter --net="/run/netns/$NS2" ip link set lo up

variant_args ()
{
  case $1 in
  runc) echo "--runc-binary $BENCH_RUNC --net-host" ;;
  raw-runsc) echo "--runc-binary $BENCH_RAW --net-host" ;;
  runsc-host) echo "--runc-binary $RUNSC_HOST --net-host" ;;
  runsc-host+overlay) echo "--runc-binary $RH_TMP/runsc-host-overlay --net-host" ;;
  raw-netstack) echo "--runc-binary $RH_TMP/raw-netstack --with-ns network:/run/netns/$NS2" ;;
  esac
}

# wl_run VARIANT ID ARGS...: run the workload, print its key=value lines.
wl_run ()
{
  local v=$1 id=$2
  shift 2
  # shellcheck disable=SC2046
  rh_ctr run --rm $(variant_args "$v") --snapshotter native \
    --mount "type=bind,src=$WL,dst=/wl,options=rbind:ro" "$RH_IMAGE" "$id" /wl "$@"
}

variants=(runc raw-runsc runsc-host runsc-host+overlay raw-netstack)
ok=()
for v in "${variants[@]}"; do
  if wl_run "$v" "$(rh_cid "w-$(echo "$v" | tr -c 'a-z0-9\n' x)")" syscalls 10 >"$RH_TMP/warm.out" 2>&1; then
    ok+=("$v")
  else
    bench_note "- variant **$v left out**: its warm-up failed ($(tail -n 1 "$RH_TMP/warm.out"))"
    if [[ $v == raw-netstack ]] && grep -q 'root network namespace' "$RH_TMP/warm.out"; then
      bench_note "  (runsc 2022-12 decides it is in the root network namespace when /proc/sys/net/core/rmem_default exists, which kernels since about 6.8 show in every namespace: google/gvisor#10704. Its own network stack cannot run on this host.)"
    fi
  fi
done

: >"$RH_TMP/metrics.csv"
n=${#ok[@]}
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < n; k++)); do
    v=${ok[$(((k + r) % n))]}
    tag=$(echo "$v" | tr -c 'a-z0-9\n' x)
    for w in syscalls files tcp; do
      case $w in
      syscalls) args=(syscalls "$SYSCALLS") ;;
      files) args=(files /var/wl "$FILES" 4096) ;;
      tcp) args=(tcp "$TCP_MIB" $((20000 + r * 10 + k))) ;;
      esac
      if out=$(wl_run "$v" "$(rh_cid "w$r$w$tag")" "${args[@]}" 2>"$RH_TMP/last.err"); then
        awk -F= -v v="$v" -v r="$r" '/=/ {print $1 "," v "," r "," $2 ",0"}' <<<"$out" >>"$RH_TMP/metrics.csv"
      else
        rh_log "$v $w round $r failed: $(tail -n 2 "$RH_TMP/last.err" | tr '\n' ' ')"
        bench_note "- $v, $w, round $r failed: $(tail -n 1 "$RH_TMP/last.err")"
      fi
    done
  done
done

{
  echo
  echo "### Workload speed inside the container (bench/workload.c, timed inside the sandbox)"
  echo
  echo "Command: \`bench/workload.sh $ROUNDS\` ($ROUNDS interleaved rounds; $SYSCALLS getppid calls; $FILES files of 4 KiB in the root file system; $TCP_MIB MiB over loopback TCP)."
  echo "raw-netstack = \`$RH_RUNSC $(printf '%s ' $BENCH_RAW_FLAGS | sed 's/--network=host //')--network=sandbox\` in a network namespace of its own. \`tcp_blocking_io_eagain\` counts blocking reads and writes that failed with EAGAIN (the workload retries them; an ordinary program would fail)."
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  for m in syscall_ns create_write_us_per_file open_read_us_per_file unlink_us_per_file tcp_mib_per_s \
    tcp_blocking_io_eagain; do
    echo
    echo "\`$m\`:"
    echo
    awk -F, -v m="$m" '$1 == m {print $2 "," $3 "," $4 "," $5}' "$RH_TMP/metrics.csv" >"$RH_TMP/$m.csv"
    bench_table "$RH_TMP/$m.csv" runc 1 "$m"
    sed "s/^/$m,/" "$RH_TMP/$m.csv" >>"$BENCH_CSV"
  done
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
