#!/usr/bin/env bash
# Soak (issue 15): CYCLES create/start/delete cycles through containerd (ctr run --rm through
# runsc-host and runsc, each container exposing a port so the hook applies and removes rules),
# then PARALLEL containers started at once, then all removed. Afterwards it counts what leaked:
# iptables rules and chains, mounts, processes, runsc state dirs, cgroups, records, and file
# descriptors of the long-lived processes (containerd, the gate daemon if any). Prints its
# figures; exits 1 on any leak or failed cycle. Runs in its own network namespace with its own
# containerd (tests/integration/lib.sh); the root namespace is never touched.
#
#   tests/soak/run.sh                 300 cycles, 50 in parallel (the README's figures)
#   tests/soak/run.sh --short         20 cycles, 8 in parallel (CI, through ctest: soak/short)
#   SOAK_CYCLES=N SOAK_PARALLEL=M tests/soak/run.sh
set -euo pipefail

cycles=${SOAK_CYCLES:-300}
parallel=${SOAK_PARALLEL:-50}
if [[ ${1:-} == --short ]]; then
  cycles=${SOAK_CYCLES:-20}
  parallel=${SOAK_PARALLEL:-8}
fi

source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../integration" && pwd)/lib.sh"
source "$RH_SOURCE_DIR/tests/integration/lib_net.sh"
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: the soak needs root (network namespaces, containerd, runsc)"
  exit 77
fi
rh_setup_env soak
if [[ -n $RH_SKIP_REASON ]]; then
  echo "SKIP: $RH_SKIP_REASON"
  exit 77
fi
rh_require_binary "$RUNSC_HOST"
rh_netns_create
rh_policy_write
rh_containerd_start
rh_image_build busybox

ctrd_pid=$(rh__containerd_pid)
fds ()
{
  { ls "/proc/$1/fd" 2>/dev/null || true; } | wc -l
}
mounts_ours ()
{
  findmnt -rn -o TARGET | grep -cE "$RH_TMP|$RH_RUNC_ROOT|/run/containerd/io.containerd.runtime.v2.task/$RH_NS/" || true
}
procs_ours ()
{
  # (pgrep fails when it finds nothing, the good case: pipefail must not end the script)
  { pgrep -f -- "--root[= ]$RH_RUNC_ROOT" ; pgrep -f -- "-namespace $RH_NS " ; true; } 2>/dev/null | sort -u | wc -l
}
state_dirs ()
{
  # (no such dir once the last container is gone: find fails, and pipefail would end the script)
  { find "$RH_RUNC_ROOT" -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l
}
cgroups_ours ()
{
  local n=0 d
  for d in /sys/fs/cgroup/*/"$RH_NS" /sys/fs/cgroup/"$RH_NS" /sys/fs/cgroup/unified/runsc-host/"$RH_NAME"-*; do
    [[ -d $d ]] && n=$((n + $(find "$d" -mindepth 1 -type d | wc -l)))
  done
  echo "$n"
}
records ()
{
  { find "$RH_TMP/runsc-host-state/net" -name '*.json' 2>/dev/null || true; } | wc -l
}
rules ()
{
  rh_net_ours | grep -cE 'RH-[IE]-|runsc-host:' || true
}

# One warm-up run first: containerd's fd count settles (snapshotter, content store).
rh_run --annotation org.opencontainers.image.exposedPorts=8080/tcp "$RH_IMAGE" "$(rh_cid warm)" true
fd0=$(fds "$ctrd_pid")
echo "soak: $cycles cycles, then $parallel in parallel (containerd pid $ctrd_pid, $fd0 fds)"

failed=0
SECONDS=0
for ((i = 0; i < cycles; i++)); do
  out=$(rh_run --annotation org.opencontainers.image.exposedPorts=8080/tcp "$RH_IMAGE" "$(rh_cid c$i)" \
    echo "cycle-$i" 2>&1) || { failed=$((failed + 1)); echo "cycle $i failed: $out" >&2; continue; }
  [[ $out == "cycle-$i" ]] || { failed=$((failed + 1)); echo "cycle $i printed: $out" >&2; }
done
t_cycles=$SECONDS
SECONDS=0
ids=()
pids=()
# (Wait for these pids only: a bare `wait` would also wait for our containerd.)
for ((i = 0; i < parallel; i++)); do
  ids+=("$(rh_cid p$i)")
  rh_run_detached --annotation org.opencontainers.image.exposedPorts=$((9000 + i))/tcp "$RH_IMAGE" \
    "${ids[-1]}" sleep 600 >/dev/null 2>&1 &
  pids+=($!)
done
wait "${pids[@]}" || true
running=$(rh_ctr tasks list 2>/dev/null | awk '$3 == "RUNNING"' | grep -c "$RH_NAME-p" || true)
rules_running=$(rules)
pids=()
for id in "${ids[@]}"; do
  rh_container_cleanup "$id" &
  pids+=($!)
done
wait "${pids[@]}" || true
# A second, sequential pass for any container that 8 concurrent clean-ups left (seen once in
# five runs: a task still RUNNING after its clean-up, from the harness's ctr calls racing, not
# from runsc-host); counted, so that it shows.
retried=0
for id in "${ids[@]}"; do
  if rh_ctr containers list -q 2>/dev/null | grep -qx "$id"; then
    retried=$((retried + 1))
    rh_container_cleanup "$id"
  fi
done
t_parallel=$SECONDS
sleep 2

fd1=$(fds "$ctrd_pid")
leak_rules=$(rules)
leak_mounts=$(mounts_ours)
leak_procs=$(procs_ours)
leak_state=$(state_dirs)
leak_cgroups=$(cgroups_ours)
leak_records=$(records)
left=$(rh_ctr containers list -q 2>/dev/null | wc -l)
leak_fds=$((fd1 - fd0))
echo "soak: cycles $cycles (failed $failed, ${t_cycles}s, $(awk -v n="$cycles" -v t="$t_cycles" 'BEGIN{printf "%.2f", n ? t/n : 0}') s each);" \
  "parallel $parallel (running at once $running, their rules $rules_running; started and removed in ${t_parallel}s;" \
  "clean-up retried for $retried)"
echo "soak: leaked after all removed: iptables rules/chains $leak_rules, mounts $leak_mounts, processes $leak_procs," \
  "runsc state dirs $leak_state, cgroups $leak_cgroups, hook records $leak_records, containers $left," \
  "containerd fds $leak_fds ($fd0 -> $fd1)"
rh_net_root_has_ours && { echo "soak: the root namespace has rules of ours" >&2; failed=$((failed + 1)); }
if ((failed || running != parallel || leak_rules || leak_mounts || leak_procs || leak_state || leak_cgroups ||
  leak_records || left || leak_fds > 0)); then
  echo "soak: left behind: containers [$(rh_ctr containers list -q 2>/dev/null | tr '\n' ' ')]," \
    "tasks [$(rh_ctr tasks list 2>/dev/null | tail -n +2 | tr '\n' ';')]"
  echo "soak: FAILED"
  exit 1
fi
echo "soak: OK"
