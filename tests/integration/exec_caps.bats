#!/usr/bin/env bats
# [execcaps] The capability policy holds for exec'd processes too (docs/cli.md, "Exec-time
# policy"). runsc gives an exec'd process exactly the capabilities its process.json or --cap
# flags list, not the container's trimmed set; containerd builds that process.json from the
# client's original spec, so `ctr task exec` into a `ctr run --privileged` container (like
# `docker exec --privileged`) asks for every capability. Each test reads the effective set
# (CapEff) the process itself sees inside the sandbox.

load lib.sh

setup_file ()
{
  rh_setup_env execcaps
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  # runsc (2022-12-19) knows capabilities up to CAP_AUDIT_READ and refuses the sandbox when the
  # spec lists a later one; ctr 1.6's --privileged adds CAP_CHECKPOINT_RESTORE, which the
  # default drop-list keeps. Dropping it here lets --privileged start (see the report).
  rh_policy_write '.capabilities.drop += ["CAP_CHECKPOINT_RESTORE"]'
  cp "$RH_POLICY" "$RH_TMP/policy.execcaps.json"
  rh_containerd_start
  rh_image_build busybox
  # One privileged container for the whole file: every test execs into it.
  export CID
  CID=$(rh_cid priv)
  rh_cleanup_push "rh_container_cleanup '$CID'"
  rh_run_detached --privileged "$RH_IMAGE" "$CID" sleep 600
}

teardown_file ()
{
  rh_teardown
}

setup ()
{
  rh_skip_if_unavailable
}

teardown ()
{
  [[ -z ${RH_TMP:-} ]] || cp "$RH_TMP/policy.execcaps.json" "$RH_POLICY" 2>/dev/null || true
}

# Capability numbers (linux/capability.h).
CAP_CHOWN=0 CAP_KILL=5 CAP_NET_ADMIN=12 CAP_NET_RAW=13 CAP_SYS_PTRACE=19 CAP_SYS_ADMIN=21

# assert_cap / refute_cap CAPEFF_LINE NAME: is capability NAME (a variable above) set in a
# "CapEff:\t<hex>" line? Plain functions that return 1 with a message (bats ignores `! cmd`).
cap_bit ()
{
  local hex=${1##*:} bit=${!2}
  hex=${hex//[[:space:]]/}
  if ! [[ $hex =~ ^[0-9a-f]{16}$ ]]; then
    rh_log "not a CapEff line: '$1'"
    return 2
  fi
  echo $(((0x$hex >> bit) & 1))
}

assert_cap ()
{
  local b
  b=$(cap_bit "$1" "$2") || return 1
  [[ $b == 1 ]] && return 0
  rh_log "expected $2 in '$1'"
  return 1
}

refute_cap ()
{
  local b
  b=$(cap_bit "$1" "$2") || return 1
  [[ $b == 0 ]] && return 0
  rh_log "expected no $2 in '$1'"
  return 1
}

# The CapEff line out of mixed output.
capeff ()
{
  grep -m1 '^CapEff:' <<<"$1"
}

# runsc-host as the runc shim calls it for this file's containers: same --root, same policy, in
# the test's network namespace.
runsc_host ()
{
  rh_in_netns env RUNSC_HOST_CONFIG="$RH_POLICY" "$RUNSC_HOST" --root "$RH_RUNC_ROOT" "$@"
}

# A process.json asking for every capability runsc knows, in all five sets.
all_caps_process ()
{
  local caps
  caps=$(jq -c '.linux.capabilities' <<<"$("$RUNSC_HOST" features)")
  jq -n --argjson c "$caps" --argjson nnp "${2:-false}" \
    '{args: ["sh", "-c", "grep CapEff /proc/self/status"], cwd: "/", env: ["PATH=/bin"],
      user: {uid: 0, gid: 0}, noNewPrivileges: $nnp,
      capabilities: {bounding: $c, effective: $c, inheritable: $c, permitted: $c, ambient: $c}}' >"$1"
}

@test "ctr task exec into a --privileged container: dropped capabilities are gone" {
  run rh_ctr tasks exec --exec-id e1 "$CID" grep CapEff /proc/self/status
  [ "$status" -eq 0 ]
  line=$(capeff "$output")
  rh_log "exec: $line"
  refute_cap "$line" CAP_SYS_ADMIN
  refute_cap "$line" CAP_NET_ADMIN
  refute_cap "$line" CAP_NET_RAW
  refute_cap "$line" CAP_SYS_PTRACE
  # The privileged exec keeps what the policy allows.
  assert_cap "$line" CAP_CHOWN
  assert_cap "$line" CAP_KILL
  # The decision is in the container's runtime log (info level).
  rh_assert_contains "$(cat "$(rh_bundle_dir "$CID")/log.json")" \
    "CAP_SYS_ADMIN"
  rh_assert_contains "$(cat "$(rh_bundle_dir "$CID")/log.json")" \
    "dropped from process.capabilities"
}

@test "without the drop-list the same exec gets CAP_SYS_ADMIN (the filter is what closes the hole)" {
  jq '.capabilities.drop = ["CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]' "$RH_TMP/policy.execcaps.json" | rh_policy_write_raw
  run rh_ctr tasks exec --exec-id e2 "$CID" grep CapEff /proc/self/status
  [ "$status" -eq 0 ]
  line=$(capeff "$output")
  rh_log "exec, empty drop-list: $line"
  # The container itself was trimmed at create, yet runsc grants the exec what it asks for.
  assert_cap "$line" CAP_SYS_ADMIN
  assert_cap "$line" CAP_NET_ADMIN
}

@test "runsc-host exec --process with every capability: dropped ones gone, file untouched" {
  all_caps_process "$RH_TMP/all.json" false
  cp "$RH_TMP/all.json" "$RH_TMP/all.orig.json"
  run runsc_host exec --process "$RH_TMP/all.json" "$CID"
  [ "$status" -eq 0 ]
  line=$(capeff "$output")
  rh_log "exec --process: $line"
  refute_cap "$line" CAP_SYS_ADMIN
  refute_cap "$line" CAP_NET_RAW
  assert_cap "$line" CAP_CHOWN
  # runsc read a filtered copy; the caller's file is as it was.
  cmp "$RH_TMP/all.json" "$RH_TMP/all.orig.json"
}

@test "exec --process with a case-variant key that runsc would read as capabilities is refused" {
  all_caps_process "$RH_TMP/all.json" false
  jq '.Capabilities = .capabilities | .capabilities = {}' "$RH_TMP/all.json" >"$RH_TMP/variant.json"
  run runsc_host exec --process "$RH_TMP/variant.json" "$CID"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "process.Capabilities: refused: runsc would read this key as \"capabilities\""
  rh_refute_contains "$output" "CapEff"
}

@test "exec --process with a malformed capabilities field is refused, naming the field" {
  jq -n '{args: ["true"], cwd: "/", user: {uid: 0, gid: 0}, capabilities: {bounding: "CAP_SYS_ADMIN"}}' \
    >"$RH_TMP/bad.json"
  run runsc_host exec --process "$RH_TMP/bad.json" "$CID"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "exec --process $RH_TMP/bad.json: process.capabilities.bounding: expected an array"
}

@test "inline exec --cap CAP_SYS_ADMIN is refused; a --cap the policy allows works" {
  run runsc_host exec --cap CAP_SYS_ADMIN "$CID" grep CapEff /proc/self/status
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" \
    "exec --cap CAP_SYS_ADMIN refused: the capability is dropped by policy (policy key capabilities.drop)"
  rh_refute_contains "$output" "CapEff"

  run runsc_host exec --cap CAP_KILL "$CID" grep CapEff /proc/self/status
  [ "$status" -eq 0 ]
  line=$(capeff "$output")
  assert_cap "$line" CAP_KILL
  refute_cap "$line" CAP_SYS_ADMIN
}

@test "inline exec without --cap gets the container's capabilities, trimmed at create" {
  run runsc_host exec "$CID" grep CapEff /proc/self/status
  [ "$status" -eq 0 ]
  line=$(capeff "$output")
  rh_log "inline exec: $line"
  refute_cap "$line" CAP_SYS_ADMIN
  refute_cap "$line" CAP_NET_ADMIN
  assert_cap "$line" CAP_CHOWN
}

@test "inline exec --tty: the container's process, filtered under today's policy" {
  command -v script >/dev/null || skip "script(1) (util-linux) is needed to give exec --tty a terminal"
  # A container created while the policy dropped almost nothing keeps CAP_SYS_ADMIN...
  local id weak
  id=$(rh_cid weak)
  weak=$(jq -c '.capabilities.drop = ["CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]' \
    "$RH_TMP/policy.execcaps.json")
  rh_policy_write_raw <<<"$weak"
  rh_cleanup_push "rh_container_cleanup '$id'"
  rh_run_detached --privileged "$RH_IMAGE" "$id" sleep 600
  cp "$RH_TMP/policy.execcaps.json" "$RH_POLICY"
  run runsc_host exec "$id" grep CapEff /proc/self/status
  [ "$status" -eq 0 ]
  line=$(capeff "$output")
  rh_log "inline exec (container's caps, old policy): $line"
  assert_cap "$line" CAP_SYS_ADMIN
  # ...but an exec --tty, built from the container's process, runs under today's drop-list.
  run script -qec "env RUNSC_HOST_CONFIG='$RH_POLICY' nsenter --net=/run/netns/$RH_NETNS \
      '$RUNSC_HOST' --root '$RH_RUNC_ROOT' exec --tty '$id' sh -c 'test -t 0 && echo TTY; grep CapEff /proc/self/status'" \
    /dev/null
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "TTY"
  line=$(capeff "${output//$'\r'/}")
  rh_log "exec --tty: $line"
  refute_cap "$line" CAP_SYS_ADMIN
  assert_cap "$line" CAP_CHOWN
  rh_container_cleanup "$id"
}
