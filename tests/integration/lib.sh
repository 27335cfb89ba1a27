# shellcheck shell=bash
# tests/integration/lib.sh — the shared integration harness for runsc-host.
#
# Sourced by every tests/integration/*.bats file (`load lib.sh`) and by scripts/demo.sh. It gives
# each test file its own network namespace, its own containerd running inside it, locally built
# busybox OCI images, a test policy, and a teardown that removes everything even after a
# partial setup or a failure. Extend it with tests/integration/lib_<topic>.sh; do not edit it.
#
# Typical .bats file:
#   load lib.sh            # (bats needs the .sh: `load lib` looks for lib.bash)
#   setup_file()    { rh_setup_env mytopic; rh_netns_create; rh_policy_write; rh_containerd_start
#                     rh_image_build busybox; }
#   teardown_file() { rh_teardown; }
#   setup()         { rh_skip_if_unavailable; }
#   @test "..."     { run rh_run "$RH_IMAGE" "$(rh_cid t1)" sh -c 'exit 7'; [ "$status" -eq 7 ]; }
#
# Every function returns non-zero on failure (so bats' errexit fails the test) and is safe under
# `set -eu`. Variables are exported so that bats tests see what setup_file set.
#
# Environment and names
#   rh_setup_env TOPIC   Pick unique names from TOPIC ([a-z0-9]+) and the owner pid $$:
#                        RH_NAME=rh-TOPIC-PID (also the netns RH_NETNS and the ctr namespace
#                        RH_NS), RH_TMP (temp dir /tmp/rh-TOPIC-PID.XXXX), and the binaries
#                        from RH_BUILD_DIR (default <repo>/build): RUNSC_HOST, RH_HOOK,
#                        RH_SHIM, RH_GATE. Reaps what dead earlier runs left behind. Sets
#                        RH_SKIP_REASON (not root / a tool missing) instead of failing. Outside
#                        bats it also installs `trap rh_teardown EXIT`.
#   rh_skip_unless_root  Skip (bats) or fail (script) with a clear reason when not root.
#   rh_skip_if_unavailable  For setup(): skip with RH_SKIP_REASON when set.
#   rh_require_binary PATH  Fail with a clear message when a built binary is missing.
#   rh_cid SUFFIX        A container id unique to this run: RH_NAME-SUFFIX.
#   rh_log MSG...        Print to stderr (bats shows it when a test fails).
#
# Cleanup
#   rh_cleanup_push CMD  Register a shell command for rh_teardown (run last-pushed first). Stored
#                        in a file, so it works from setup_file, tests and scripts alike.
#   rh_teardown          Run the pushed cleanups (this stops containerd, deletes the netns, stops
#                        the TEE socket...), unmount leftovers under RH_TMP, remove RH_TMP.
#                        Safe to call twice and after a partial setup.
#
# Network namespace
#   rh_netns_create      `ip netns add RH_NETNS`, bring lo up in it; pushes its deletion.
#   rh_in_netns CMD...   Run CMD in the netns with `nsenter --net` (never `ip netns exec`,
#                        which remounts /sys and makes runsc fail).
#
# Policy
#   rh_policy_write [JQ-FILTER]  Write RH_POLICY (= RUNSC_HOST_CONFIG) from the built default
#                        policy with runsc.path=/usr/bin/runsc, platform ptrace, hook_path from
#                        the build, state_dir under RH_TMP, then JQ-FILTER applied (e.g.
#                        '.protected_mount_action="deny"'). Atomic. runsc-host reads it on every
#                        call, so tests may rewrite it between runs without restarting anything.
#   rh_policy_write_raw  Write stdin verbatim as the policy (for broken-policy tests).
#
# containerd
#   rh_containerd_start  Start containerd inside the netns with its own root/state/socket
#                        (RH_CTRD_SOCK), cri disabled, RUNSC_HOST_CONFIG=RH_POLICY and the built
#                        shim dir first on PATH in its environment; waits until it answers.
#                        Extra config: put TOML in RH_CONTAINERD_EXTRA_TOML before calling.
#                        RH_POLICY= (empty) before calling: no RUNSC_HOST_CONFIG, so
#                        runsc-host uses /etc/runsc-host/config.json or its embedded default.
#                        Log: RH_CTRD_LOG (printed when it does not come up).
#   rh_containerd_stop   Kill our tasks, delete our containers, stop containerd and our shims,
#                        remove our namespace's cgroups (v1 and v2) once they are empty.
#   rh_ctr ARGS...       ctr with our --address and -n RH_NS (bounded by RH_CTR_TIMEOUT, 120 s).
#   rh_run [OPTS] IMAGE ID [CMD...]  `ctr run --rm --runc-binary RUNSC_HOST --net-host
#                        --snapshotter native OPTS IMAGE ID CMD...`; exit status is the task's.
#   rh_run_detached [OPTS] IMAGE ID [CMD...]  Same with -d instead of --rm.
#   rh_task_wait_gone ID [SECS]  Wait until task ID no longer exists.
#   rh_container_cleanup ID  Kill and delete task and container ID (ignores absence).
#   rh_runsc_pids ID     Print pids of runsc processes for container ID (for "nothing left" checks).
#
# Images
#   rh_image_build NAME [--expose 8080/tcp]... [--env K=V]... [--cmd ARG]...
#                        Build (cached across files in RH_IMAGE_CACHE) a busybox-static image
#                        and import it; its reference is $(rh_image_ref NAME). The first call
#                        with NAME=busybox sets RH_IMAGE. The tarball ($(rh_image_tar NAME)) is
#                        an OCI image layout (index.json, oci-layout, blobs/sha256/...); its one
#                        layer is an uncompressed tar of the rootfs.
#   rh_image_ref NAME    Print the image reference (rh.local/NAME:latest).
#   rh_image_tar NAME [OPTS]  Build if needed and print the tarball path (no import).
#
# Bundles (calling the built runsc-host directly, as the runc shim would)
#   rh_bundle_make DIR [JQ-FILTER [JQ-OPTION...]]  DIR/rootfs from the busybox image and
#                        DIR/config.json (ctr's default spec, args ["true"], no network
#                        namespace, no cgroupsPath) with JQ-FILTER applied, e.g.
#                        rh_bundle_make "$b" '.mounts += [{...$src...}]' --arg src /x
#   rh_bundle_dir ID     Path of the bundle containerd made for task ID (while it exists).
#   rh_create_direct BUNDLE ID  `runsc-host create` on BUNDLE as the runc shim calls it, in the
#                        test's netns; sets status/output, the log in BUNDLE/log.json.
#
# Assertions (print expected and actual to stderr, return 1 on mismatch)
#   rh_assert_contains TEXT NEEDLE / rh_refute_contains TEXT NEEDLE
#   rh_assert_nothing_running ID  No task, no container and no runsc process for ID.
#
# TEE socket
#   rh_tee_socket_start  Make sure a real listening Unix socket exists at
#                        RH_TEE_SOCKET=/run/container_launcher/teeserver.sock (a socat stand-in
#                        answering HTTP 200), shared between concurrent test files under a lock
#                        with a user count; pushes rh_tee_socket_stop. When the harness
#                        creates /run/container_launcher it also puts a stand-in token file
#                        RH_TEE_TOKEN (attestation_verifier_claims_token) beside the socket.
#   rh_tee_socket_stop   Drop our use; the last user removes only what the harness created.

: "${RH_BUILD_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"
: "${RH_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${RH_IMAGE_CACHE:=/tmp/rh-image-cache}"
: "${RH_CTR_TIMEOUT:=120}"
export RH_BUILD_DIR RH_SOURCE_DIR RH_IMAGE_CACHE RH_CTR_TIMEOUT

RH_TEE_DIR=/run/container_launcher
RH_TEE_SOCKET=$RH_TEE_DIR/teeserver.sock
RH_TEE_TOKEN=$RH_TEE_DIR/attestation_verifier_claims_token
RH_TEE_LOCK=/run/rh-teeserver.lock
RH_TEE_STATE=/run/rh-teeserver.d
RH_RUNSC=${RH_RUNSC:-/usr/bin/runsc}
export RH_TEE_DIR RH_TEE_SOCKET RH_TEE_TOKEN RH_RUNSC

rh_log ()
{
  printf '# %s\n' "$*" >&2
}

rh_die ()
{
  printf 'rh: %s\n' "$*" >&2
  return 1
}

rh_in_bats ()
{
  [[ -n ${BATS_TEST_FILENAME:-} ]]
}

# ---------------------------------------------------------------------------------------------
# Environment

rh_setup_env ()
{
  local topic=${1:?usage: rh_setup_env TOPIC}
  [[ $topic =~ ^[a-z0-9]+$ ]] || rh_die "topic must match [a-z0-9]+: $topic" || return 1

  # Called again in the same run (for example from setup() after setup_file): keep the names.
  if [[ -n ${RH_TMP:-} && -d ${RH_TMP:-/nonexistent} && ${RH_TOPIC:-} == "$topic" ]]; then
    return 0
  fi

  export RH_TOPIC=$topic
  export RH_OWNER_PID=$$
  export RH_NAME="rh-$topic-$$"
  export RH_NETNS=$RH_NAME
  export RH_NS=$RH_NAME
  export RH_SKIP_REASON=""

  if [[ $(id -u) -ne 0 ]]; then
    RH_SKIP_REASON="integration tests need root (network namespaces, containerd, runsc)"
    return 0
  fi
  local c missing=()
  for c in containerd ctr ip nsenter jq busybox tar sha256sum socat flock findmnt "$RH_RUNSC"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  if ((${#missing[@]})); then
    RH_SKIP_REASON="missing on this host: ${missing[*]} (run scripts/deps.sh)"
    return 0
  fi

  rh_reap_stale

  RH_TMP=$(mktemp -d "/tmp/$RH_NAME.XXXXXX") || return 1
  chmod 0711 "$RH_TMP"
  export RH_TMP
  export RH_CLEANUP_FILE=$RH_TMP/cleanup.list
  : >"$RH_CLEANUP_FILE"

  export RUNSC_HOST=$RH_BUILD_DIR/runtime-wrapper/runsc-host
  export RH_HOOK=$RH_BUILD_DIR/hooks/runsc-host-hook
  export RH_SHIM=$RH_BUILD_DIR/shim/containerd-shim-runsc-host-v1
  export RH_GATE=$RH_BUILD_DIR/gate/runsc-host-gate
  export RH_POLICY=$RH_TMP/policy.json
  export RH_CTRD_DIR=$RH_TMP/containerd
  export RH_CTRD_SOCK=$RH_CTRD_DIR/containerd.sock
  export RH_CTRD_LOG=$RH_TMP/containerd.log
  export RH_CTRD_CONFIG=$RH_CTRD_DIR/config.toml
  # containerd's runc shim always uses this as runc's --root for our namespace.
  export RH_RUNC_ROOT=/run/containerd/runc/$RH_NS

  # Everything needed to tear this run down later, even from another process (reaper).
  {
    echo "RH_HARNESS=1"
    declare -p RH_TOPIC RH_OWNER_PID RH_NAME RH_NETNS RH_NS RH_TMP RH_CLEANUP_FILE RH_CTRD_DIR \
      RH_CTRD_SOCK RH_CTRD_LOG RH_RUNC_ROOT RH_POLICY | sed 's/^declare -x /declare -g /'
  } >"$RH_TMP/env"

  if ! rh_in_bats; then
    trap 'rh_teardown' EXIT
    trap 'exit 130' INT TERM
  fi
}

rh_skip_unless_root ()
{
  [[ $(id -u) -eq 0 ]] && return 0
  if rh_in_bats; then
    skip "needs root (network namespaces, containerd, runsc)"
  fi
  rh_die "needs root (network namespaces, containerd, runsc); run with sudo"
}

rh_skip_if_unavailable ()
{
  if [[ -n ${RH_SKIP_REASON:-} ]]; then
    if rh_in_bats; then
      skip "$RH_SKIP_REASON"
    fi
    rh_die "$RH_SKIP_REASON"
  fi
  return 0
}

rh_require_binary ()
{
  local b=${1:?}
  [[ -x $b ]] || rh_die "built binary missing: $b (build with cmake first; RH_BUILD_DIR=$RH_BUILD_DIR)"
}

rh_cid ()
{
  printf '%s-%s\n' "$RH_NAME" "${1:?usage: rh_cid SUFFIX}"
}

# ---------------------------------------------------------------------------------------------
# Cleanup stack

rh_cleanup_push ()
{
  [[ -n ${RH_CLEANUP_FILE:-} ]] || rh_die "rh_cleanup_push before rh_setup_env" || return 1
  printf '%s\n' "$*" >>"$RH_CLEANUP_FILE"
}

# Pop and run entries last-first; each entry is removed before it runs, so a second teardown
# (trap after teardown_file, or a reaper) never repeats one.
rh__cleanup_run ()
{
  local f=$RH_CLEANUP_FILE line n
  [[ -f $f ]] || return 0
  while :; do
    n=$(wc -l <"$f")
    ((n > 0)) || break
    line=$(tail -n 1 "$f")
    sed -i '$d' "$f"
    [[ -n $line ]] || continue
    eval "$line" || rh_log "cleanup step failed (ignored): $line"
  done
}

rh__unmount_under ()
{
  local dir=$1 m
  [[ -n $dir && $dir == /tmp/* ]] || return 0
  # Deepest first.
  findmnt -rn -o TARGET 2>/dev/null | awk -v d="$dir" 'index($0, d "/") == 1 || $0 == d' |
    sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || rh_log "could not unmount $m"
  done
}

rh_teardown ()
{
  local rc=$?
  set +e
  rh_in_bats || trap - EXIT
  if [[ -n ${RH_TMP:-} && -d $RH_TMP ]]; then
    rh__cleanup_run
    # Whatever a test did not clean: containerd (if a test started it without pushing), mounts.
    rh__unmount_under "$RH_TMP"
    # --one-file-system: never follow a mount that could not be removed into the host's files.
    rm -rf --one-file-system "$RH_TMP" 2>/dev/null || rh_log "could not remove all of $RH_TMP"
  fi
  if [[ -n ${RH_NETNS:-} ]] && ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$RH_NETNS"; then
    rh__netns_delete
  fi
  return "$rc"
}

# Tear down what earlier runs whose owner process is gone left behind (killed by a timeout).
rh_reap_stale ()
{
  local envf pid ns
  for envf in /tmp/rh-*-*.*/env; do
    [[ -f $envf ]] || continue
    grep -qx 'RH_HARNESS=1' "$envf" 2>/dev/null || continue
    pid=$(sed -n 's/^declare -g RH_OWNER_PID="\([0-9]*\)"$/\1/p' "$envf")
    [[ -n $pid ]] || continue
    kill -0 "$pid" 2>/dev/null && continue
    (
      # One reaper per stale run, even when several test files start at once.
      flock -n 8 || exit 0
      [[ -f $envf ]] || exit 0
      rh_log "reaping stale test run $(dirname "$envf") (owner pid $pid is gone)"
      set +e
      # shellcheck disable=SC1090
      source <(grep '^declare ' "$envf")
      rh_teardown
    ) 8<"$envf"
  done
  # Namespaces named by this harness whose owner is gone and that hold no process.
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^rh-[a-z0-9]+-[0-9]+$'); do
    pid=${ns##*-}
    kill -0 "$pid" 2>/dev/null && continue
    [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] || continue
    ip netns delete "$ns" 2>/dev/null && rh_log "reaped stale netns $ns"
  done
  return 0
}

# ---------------------------------------------------------------------------------------------
# Network namespace

rh_netns_create ()
{
  ip netns add "$RH_NETNS" || return 1
  rh_cleanup_push rh__netns_delete
  rh_in_netns ip link set lo up
}

rh_in_netns ()
{
  nsenter --net="/run/netns/$RH_NETNS" "$@"
}

rh__netns_delete ()
{
  local p
  # Anything still running inside (a listener a test forgot) would keep interfaces alive.
  for p in $(ip netns pids "$RH_NETNS" 2>/dev/null); do
    kill -KILL "$p" 2>/dev/null
  done
  ip netns delete "$RH_NETNS" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Policy

rh_policy_write ()
{
  local filter=${1:-.} base=$RH_BUILD_DIR/config/runsc-host.json
  [[ -f $base ]] || rh_die "built default policy missing: $base" || return 1
  jq --arg runsc "$RH_RUNSC" --arg hook "$RH_HOOK" --arg state "$RH_TMP/runsc-host-state" \
    '.runsc.path = $runsc | .runsc.platform = "ptrace" | .hook_path = $hook
     | .state_dir = $state' "$base" >"$RH_TMP/policy.base.json" || return 1
  jq "$filter" "$RH_TMP/policy.base.json" >"$RH_POLICY.tmp" || rh_die "jq filter failed: $filter" ||
    return 1
  mv -f "$RH_POLICY.tmp" "$RH_POLICY"
  cp "$RH_POLICY" "$RH_TMP/policy.good.json"
  export RUNSC_HOST_CONFIG=$RH_POLICY
}

rh_policy_write_raw ()
{
  cat >"$RH_POLICY.tmp" && mv -f "$RH_POLICY.tmp" "$RH_POLICY"
}

# Put back the last good policy (teardown must be able to run `runsc-host delete`).
rh__policy_restore ()
{
  [[ -n ${RH_POLICY:-} && -f $RH_TMP/policy.good.json ]] && cp "$RH_TMP/policy.good.json" "$RH_POLICY"
  return 0
}

# ---------------------------------------------------------------------------------------------
# containerd

rh_containerd_start ()
{
  local d=$RH_CTRD_DIR
  mkdir -p "$d/root" "$d/state"
  # RUNSC_HOST_CONFIG reaches runsc-host through containerd -> shim -> runsc-host. An empty
  # RH_POLICY means: no override, runsc-host uses /etc/runsc-host/config.json or its embedded
  # default (the demo does this).
  local policy_env=(env -u RUNSC_HOST_CONFIG)
  if [[ -n ${RH_POLICY:-} ]]; then
    [[ -f $RH_POLICY ]] || rh_policy_write || return 1
    policy_env=(env "RUNSC_HOST_CONFIG=$RH_POLICY")
  fi
  cat >"$RH_CTRD_CONFIG" <<EOF
# Written by tests/integration/lib.sh for test run $RH_NAME.
version = 2
root = "$d/root"
state = "$d/state"
# CRI is not needed (ctr/docker only) and is slow to start; the other snapshotters do not
# apply here. gVisor uses the native snapshotter (plain directories).
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "$RH_CTRD_SOCK"

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

${RH_CONTAINERD_EXTRA_TOML:-}
EOF
  rh_cleanup_push rh_containerd_stop
  # nsenter --net only: containerd (and the shims and runsc it starts) live in our netns but
  # keep the host's mount namespace, so /sys/fs/cgroup stays visible to runsc.
  # Close fd 3 so bats does not wait for this background process.
  "${policy_env[@]}" PATH="$RH_BUILD_DIR/shim:$PATH" CONTAINERD_SNAPSHOTTER=native \
    nsenter --net="/run/netns/$RH_NETNS" \
    containerd --root "$d/root" --state "$d/state" --address "$RH_CTRD_SOCK" \
    --config "$RH_CTRD_CONFIG" </dev/null >"$RH_CTRD_LOG" 2>&1 3>&- &
  echo $! >"$d/containerd.pid"
  export CONTAINERD_SNAPSHOTTER=native

  local i
  for ((i = 0; i < 300; i++)); do
    if ctr --address "$RH_CTRD_SOCK" version >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$(cat "$d/containerd.pid")" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  rh_log "containerd did not come up; its log ($RH_CTRD_LOG):"
  sed 's/^/#   /' "$RH_CTRD_LOG" >&2
  return 1
}

rh__containerd_pid ()
{
  local f=$RH_CTRD_DIR/containerd.pid
  [[ -f $f ]] && cat "$f"
}

rh_containerd_stop ()
{
  local pid id i p
  rh__policy_restore
  pid=$(rh__containerd_pid)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    for id in $(rh_ctr containers list -q 2>/dev/null); do
      rh_container_cleanup "$id"
    done
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -f "$RH_CTRD_DIR/containerd.pid"
  # Shims and sandboxes of our namespace that outlived containerd (a crashed test). Found by our
  # unique namespace name in their command line and killed by pid.
  for p in $(pgrep -f -- "-namespace $RH_NS -id " 2>/dev/null) \
    $(pgrep -f -- "--root $RH_RUNC_ROOT " 2>/dev/null) \
    $(pgrep -f -- "--root=$RH_RUNC_ROOT " 2>/dev/null); do
    kill -KILL "$p" 2>/dev/null
  done
  rh__unmount_under "$RH_TMP"
  if [[ -d $RH_RUNC_ROOT ]]; then
    rh__unmount_under_any "$RH_RUNC_ROOT"
    rm -rf "$RH_RUNC_ROOT"
  fi
  rh_cgroups_remove "$RH_NS"
  rh_cgroup2_sweep
  rh__fifo_sweep
  return 0
}

# ctr keeps a container's stdio fifos in /run/containerd/fifo/<random>/<id>-std{in,out,err} and
# removes them when it exits normally; a test that kills a shim or ctr leaves them. Ours are
# the directories whose fifos carry our container-id prefix.
rh__fifo_sweep ()
{
  local d f
  [[ -n ${RH_NAME:-} && -d /run/containerd/fifo ]] || return 0
  for d in /run/containerd/fifo/*/; do
    for f in "$d$RH_NAME"-*; do
      [[ -e $f ]] && rm -rf --one-file-system "$d"
      break
    done
  done
  return 0
}

# rh_cgroups_remove NAME: remove the top-level cgroup NAME (ours: it carries RH_NAME) from
# every hierarchy, deepest first; rmdir only ever removes empty cgroups. containerd clients put
# a container at /<namespace>/<id> and runsc removes only the <id> part.
rh_cgroups_remove ()
{
  local name=${1:?} top
  [[ $name == rh-* && $name != */* ]] || return 0
  for top in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
    [[ -d $top ]] || continue
    find "$top" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d $top ]] && rh_log "cgroup $top still in use"
  done
  return 0
}

# rh_cgroup2_sweep: remove the empty cgroup v2 groups that runsc-host-hook made for our
# containers (<cgroup2>/runsc-host/<id>, on hybrid hosts) when a test killed containerd before
# poststop ran; then the shared parent if it is empty.
rh_cgroup2_sweep ()
{
  local mnt d
  mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
  [[ -n $mnt && -d $mnt/runsc-host && -n ${RH_NAME:-} ]] || return 0
  for d in "$mnt/runsc-host/$RH_NAME"-*; do
    [[ -d $d && -z $(cat "$d/cgroup.procs" 2>/dev/null) ]] && rmdir "$d" 2>/dev/null
  done
  rmdir "$mnt/runsc-host" 2>/dev/null
  return 0
}

rh__unmount_under_any ()
{
  local dir=$1 m
  findmnt -rn -o TARGET 2>/dev/null | awk -v d="$dir" 'index($0, d "/") == 1' | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
}

rh_ctr ()
{
  timeout --foreground -k 5 "$RH_CTR_TIMEOUT" ctr --address "$RH_CTRD_SOCK" -n "$RH_NS" "$@"
}

rh_run ()
{
  rh_ctr run --rm --runc-binary "$RUNSC_HOST" --net-host --snapshotter native "$@"
}

rh_run_detached ()
{
  rh_ctr run -d --runc-binary "$RUNSC_HOST" --net-host --snapshotter native "$@"
}

rh_task_wait_gone ()
{
  local id=${1:?} secs=${2:-20} i
  for ((i = 0; i < secs * 10; i++)); do
    rh_ctr tasks list -q 2>/dev/null | grep -qx "$id" || return 0
    sleep 0.1
  done
  return 1
}

rh_container_cleanup ()
{
  local id=${1:?}
  if rh_ctr tasks list -q 2>/dev/null | grep -qx "$id"; then
    rh_ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    rh_task_wait_gone_or_stopped "$id" || true
    # A stopped task deletes without --force (runsc refuses to kill a stopped sandbox).
    rh_ctr tasks delete "$id" >/dev/null 2>&1 || rh_ctr tasks delete --force "$id" >/dev/null 2>&1 ||
      true
  fi
  rh_ctr containers delete "$id" >/dev/null 2>&1 || true
}

rh_task_wait_gone_or_stopped ()
{
  local id=$1 i st
  for ((i = 0; i < 100; i++)); do
    st=$(rh_ctr tasks list 2>/dev/null | awk -v id="$id" '$1 == id {print $3}')
    [[ -z $st || $st == STOPPED ]] && return 0
    sleep 0.1
  done
  return 1
}

rh_runsc_pids ()
{
  local id=${1:?usage: rh_runsc_pids ID [RUNSC_ROOT]} root=${2:-$RH_RUNC_ROOT}
  # runsc's CLI, sandbox and gofer processes all carry --root and the container id (or the
  # bundle path that ends in it) in their command line.
  pgrep -f -- "runsc.*--root[= ]$root .*[ /=]$id( |\$)" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Images

rh_image_ref ()
{
  printf 'rh.local/%s:latest\n' "${1:?}"
}

rh__sha256 ()
{
  sha256sum "$1" | awk '{print $1}'
}

# Build the tarball for NAME with options; print its path. Cached by content key.
rh_image_tar ()
{
  local name=${1:?usage: rh_image_tar NAME [OPTS]}
  shift
  local expose=() env=("PATH=/usr/sbin:/usr/bin:/sbin:/bin") cmd=() opt
  while (($#)); do
    opt=$1
    case $opt in
    --expose) expose+=("${2:?}"); shift 2 ;;
    --env) env+=("${2:?}"); shift 2 ;;
    --cmd) cmd+=("${2:?}"); shift 2 ;;
    *) rh_die "rh_image_tar: unknown option $opt"; return 1 ;;
    esac
  done
  ((${#cmd[@]})) || cmd=(sh)
  local busybox
  busybox=$(readlink -f "$(command -v busybox)")
  local key
  key=$(printf '%s\n' "v1" "$name" "${expose[@]+"${expose[@]}"}" "--" "${env[@]}" "--" "${cmd[@]}" \
    "$(rh__sha256 "$busybox")" | sha256sum | cut -c1-16)
  local out=$RH_IMAGE_CACHE/$name-$key.tar
  mkdir -p "$RH_IMAGE_CACHE"
  (
    flock 9
    [[ -s $out ]] && exit 0
    rh__image_pack "$out" "$name" "$busybox" "$(printf '%s\n' "${expose[@]+"${expose[@]}"}")" \
      "$(printf '%s\n' "${env[@]}")" "$(printf '%s\n' "${cmd[@]}")"
  ) 9>"$RH_IMAGE_CACHE/.lock" || return 1
  printf '%s\n' "$out"
}

rh__image_pack ()
{
  local out=$1 name=$2 busybox=$3 expose_lines=$4 env_lines=$5 cmd_lines=$6
  local w
  w=$(mktemp -d "$RH_IMAGE_CACHE/build.XXXXXX") || return 1
  local r=$w/rootfs
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,var/tmp,root,home,www}
  chmod 1777 "$r/tmp" "$r/var/tmp"
  chmod 0700 "$r/root"
  cp "$busybox" "$r/bin/busybox"
  local a
  # Every applet as a symlink at its canonical place.
  while read -r a; do
    [[ $a == bin/busybox || -e $r/$a ]] && continue
    ln -s /bin/busybox "$r/$a"
  done < <("$r/bin/busybox" --list-full)
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
  : >"$r/etc/hosts"
  : >"$r/etc/resolv.conf"
  echo "$name" >"$r/etc/hostname"
  echo "runsc-host test image $name" >"$r/www/index.html"

  mkdir -p "$w/oci/blobs/sha256"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$r" -cf "$w/layer.tar" . ||
    return 1
  local ld ls
  ld=$(rh__sha256 "$w/layer.tar")
  ls=$(stat -c %s "$w/layer.tar")
  mv "$w/layer.tar" "$w/oci/blobs/sha256/$ld"

  jq -n --arg diff "sha256:$ld" --arg expose "$expose_lines" --arg env "$env_lines" \
    --arg cmd "$cmd_lines" '
    def lines: split("\n") | map(select(length > 0));
    {
      created: "1970-01-01T00:00:00Z",
      architecture: "amd64",
      os: "linux",
      config: ({ Env: ($env | lines), Cmd: ($cmd | lines), WorkingDir: "/" }
               + (if ($expose | lines | length) > 0
                  then { ExposedPorts: ($expose | lines | map({ (.): {} }) | add) } else {} end)),
      rootfs: { type: "layers", diff_ids: [ $diff ] },
      history: [ { created: "1970-01-01T00:00:00Z", created_by: "runsc-host tests/integration/lib.sh" } ]
    }' >"$w/config.json" || return 1
  local cd cs
  cd=$(rh__sha256 "$w/config.json")
  cs=$(stat -c %s "$w/config.json")
  mv "$w/config.json" "$w/oci/blobs/sha256/$cd"

  jq -n --arg cd "sha256:$cd" --argjson cs "$cs" --arg ld "sha256:$ld" --argjson ls "$ls" '{
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs },
      layers: [ { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls } ]
    }' >"$w/manifest.json" || return 1
  local md ms
  md=$(rh__sha256 "$w/manifest.json")
  ms=$(stat -c %s "$w/manifest.json")
  mv "$w/manifest.json" "$w/oci/blobs/sha256/$md"

  local ref
  ref=$(rh_image_ref "$name")
  jq -n --arg md "sha256:$md" --argjson ms "$ms" --arg ref "$ref" '{
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [ { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md,
                     size: $ms, platform: { architecture: "amd64", os: "linux" },
                     annotations: { "org.opencontainers.image.ref.name": $ref } } ]
    }' >"$w/oci/index.json" || return 1
  echo '{"imageLayoutVersion":"1.0.0"}' >"$w/oci/oci-layout"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$w/oci" -cf "$out.tmp" . ||
    return 1
  mv -f "$out.tmp" "$out"
  rm -rf "$w"
}

rh_image_build ()
{
  local name=${1:?usage: rh_image_build NAME [OPTS]}
  local tarball ref
  tarball=$(rh_image_tar "$@") || return 1
  ref=$(rh_image_ref "$name")
  rh_ctr images import --snapshotter native "$tarball" >/dev/null 2>"$RH_TMP/import.err" || {
    rh_log "ctr images import failed:"
    sed 's/^/#   /' "$RH_TMP/import.err" >&2
    return 1
  }
  rh_ctr images ls -q | grep -qx "$ref" || rh_die "image $ref not present after import" || return 1
  if [[ $name == busybox && -z ${RH_IMAGE:-} ]]; then
    export RH_IMAGE=$ref
  fi
}

# ---------------------------------------------------------------------------------------------
# Bundles for calling runsc-host directly (no containerd)

# rh_bundle_make DIR [JQ-FILTER [JQ-OPTION...]]: DIR/rootfs (the busybox image's files) and
# DIR/config.json (ctr's default spec, root.path=rootfs, no network namespace), then JQ-FILTER
# applied with the extra jq options (e.g. --arg src /path).
rh_bundle_make ()
{
  local dir=${1:?usage: rh_bundle_make DIR [JQ-FILTER [JQ-OPTION...]]} filter=${2:-.} tarball layer
  shift $(($# >= 2 ? 2 : 1))
  tarball=$(rh_image_tar busybox) || return 1
  mkdir -p "$dir/rootfs"
  layer=$(tar -xOf "$tarball" ./index.json | jq -r '.manifests[0].digest' | cut -d: -f2)
  layer=$(tar -xOf "$tarball" "./blobs/sha256/$layer" | jq -r '.layers[0].digest' | cut -d: -f2)
  tar -xOf "$tarball" "./blobs/sha256/$layer" | tar -x -C "$dir/rootfs" || return 1
  # ctr's template puts every container in "/default" itself, a group the policy refuses (the
  # last component must be the container's id, cgroups.allowed_parents); a caller that needs a
  # group sets .linux.cgroupsPath = "/NS/ID".
  ctr oci spec | jq '.root.path = "rootfs" | .root.readonly = false | .process.args = ["true"]
      | .linux.namespaces |= map(select(.type != "network")) | del(.linux.cgroupsPath)' |
    jq "$@" "$filter" >"$dir/config.json"
}

# rh_create_direct BUNDLE ID: `runsc-host create` on a bundle of our own, the way containerd's
# runc shim calls it (--root RH_TMP/direct-root, runc-style --log json into BUNDLE/log.json), in
# the test's own network namespace (a create that succeeds runs our hook, which writes iptables
# rules). Sets status and output (stdout+stderr, kept in BUNDLE/out: a file, not a pipe, so that
# a sandbox that starts cannot hold bats' pipe); pushes the container's removal.
rh_create_direct ()
{
  local bundle=${1:?} id=${2:?}
  rh_cleanup_push "rh_in_netns '$RUNSC_HOST' --root '$RH_TMP/direct-root' delete --force '$id' >/dev/null 2>&1; \
kill -KILL \$(rh_runsc_pids '$id' '$RH_TMP/direct-root') 2>/dev/null"
  status=0
  timeout 60 nsenter --net="/run/netns/$RH_NETNS" "$RUNSC_HOST" --root "$RH_TMP/direct-root" \
    --log "$bundle/log.json" --log-format json create --bundle "$bundle" --pid-file "$bundle/pid" "$id" \
    </dev/null >"$bundle/out" 2>&1 3>&- || status=$?
  output=$(cat "$bundle/out")
  echo "exit status $status: $output"
  echo "log.json:"
  cat "$bundle/log.json" 2>/dev/null || true
}

# rh_bundle_dir ID: the bundle containerd made for task ID (exists while the task exists).
rh_bundle_dir ()
{
  printf '%s/state/io.containerd.runtime.v2.task/%s/%s\n' "$RH_CTRD_DIR" "$RH_NS" "${1:?}"
}

# ---------------------------------------------------------------------------------------------
# Assertions (print what was expected and what was seen; return 1 on mismatch)

rh_assert_contains ()
{
  local hay=$1 needle=$2
  [[ $hay == *"$needle"* ]] && return 0
  printf '# expected to contain: %s\n# got:\n%s\n' "$needle" "$hay" | sed '2,$s/^/#   /' >&2
  return 1
}

rh_refute_contains ()
{
  local hay=$1 needle=$2
  [[ $hay != *"$needle"* ]] && return 0
  printf '# expected NOT to contain: %s\n# got:\n%s\n' "$needle" "$hay" | sed '2,$s/^/#   /' >&2
  return 1
}

# rh_assert_nothing_running ID: no task, no container, no runsc process for ID.
rh_assert_nothing_running ()
{
  local id=${1:?} bad=0 pids
  if rh_ctr tasks list -q 2>/dev/null | grep -qx "$id"; then
    rh_log "task $id still exists"; bad=1
  fi
  if rh_ctr containers list -q 2>/dev/null | grep -qx "$id"; then
    rh_log "container $id still exists"; bad=1
  fi
  pids=$(rh_runsc_pids "$id")
  if [[ -n $pids ]]; then
    rh_log "runsc processes for $id still running: $pids"; bad=1
  fi
  return "$bad"
}

# ---------------------------------------------------------------------------------------------
# TEE socket stand-in

rh_tee_socket_start ()
{
  mkdir -p "$RH_TEE_STATE"
  (
    flock 9
    # Prune users whose owner process is gone.
    local u
    for u in "$RH_TEE_STATE"/user.*; do
      [[ -e $u ]] || continue
      kill -0 "${u##*.}" 2>/dev/null || rm -f "$u"
    done
    if [[ ! -S $RH_TEE_SOCKET ]] || ! rh__tee_alive; then
      if [[ -e $RH_TEE_SOCKET && ! -f $RH_TEE_STATE/created-socket ]]; then
        echo "refusing to replace $RH_TEE_SOCKET that the harness did not create" >&2
        exit 1
      fi
      if [[ ! -d $RH_TEE_DIR ]]; then
        mkdir -p "$RH_TEE_DIR" && touch "$RH_TEE_STATE/created-dir"
        # The launcher keeps the attestation token beside the socket: a stand-in for it too.
        echo "stand-in attestation token" >"$RH_TEE_TOKEN"
        chmod 0600 "$RH_TEE_TOKEN"
      fi
      rm -f "$RH_TEE_SOCKET"
      # A stand-in for the launcher's TEE server: answers any request with HTTP 200.
      setsid socat -T5 "UNIX-LISTEN:$RH_TEE_SOCKET,fork,mode=0600" \
        SYSTEM:'printf "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nstand-in teeserver\n"' \
        </dev/null >/dev/null 2>&1 3>&- 9>&- &
      echo $! >"$RH_TEE_STATE/server.pid"
      touch "$RH_TEE_STATE/created-socket"
      local i
      for ((i = 0; i < 50; i++)); do
        [[ -S $RH_TEE_SOCKET ]] && break
        sleep 0.1
      done
      [[ -S $RH_TEE_SOCKET ]] || { echo "stand-in TEE socket did not appear" >&2; exit 1; }
    fi
    touch "$RH_TEE_STATE/user.$RH_OWNER_PID"
  ) 9>"$RH_TEE_LOCK" || return 1
  rh_cleanup_push rh_tee_socket_stop
}

rh__tee_alive ()
{
  local pid
  [[ -f $RH_TEE_STATE/created-socket ]] || return 0 # not ours: assume a real server
  pid=$(cat "$RH_TEE_STATE/server.pid" 2>/dev/null)
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

rh_tee_socket_stop ()
{
  [[ -d $RH_TEE_STATE ]] || return 0
  (
    flock 9
    rm -f "$RH_TEE_STATE/user.$RH_OWNER_PID"
    local u
    for u in "$RH_TEE_STATE"/user.*; do
      [[ -e $u ]] || continue
      kill -0 "${u##*.}" 2>/dev/null && exit 0 # still in use by another run
      rm -f "$u"
    done
    if [[ -f $RH_TEE_STATE/created-socket ]]; then
      local pid
      pid=$(cat "$RH_TEE_STATE/server.pid" 2>/dev/null)
      [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null
      rm -f "$RH_TEE_SOCKET" "$RH_TEE_STATE/created-socket" "$RH_TEE_STATE/server.pid"
      if [[ -f $RH_TEE_STATE/created-dir ]]; then
        rm -f "$RH_TEE_TOKEN"
        rmdir "$RH_TEE_DIR" 2>/dev/null
        rm -f "$RH_TEE_STATE/created-dir"
      fi
    fi
    rmdir "$RH_TEE_STATE" 2>/dev/null
    exit 0
  ) 9>"$RH_TEE_LOCK"
  return 0
}
