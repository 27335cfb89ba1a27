#!/usr/bin/env bats
# [hardening] Fault injection (issue 15). Each test breaks one thing runsc-host depends on and
# checks what a user would see: the exact error, config.json whole, no rule, mount, process or
# file left behind, and that things work again once the fault is gone. Everything runs in this
# file's own network namespace with its own containerd.
#
#   RH_FAULT_KILLS   SIGKILLs of the create test (default 300)

load lib.sh
load lib_net.sh
load lib_gate.sh

setup_file ()
{
  rh_setup_env faults
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_require_binary "$RH_HOOK"
  rh_netns_create
  rh_policy_write '.egress.deny = ["127.0.0.77/32", "fd20:ce::254/128"]'
  cp "$RH_POLICY" "$RH_TMP/policy.std.json"
  rh_containerd_start
  rh_image_build busybox
  export FAULT_BIN=$RH_TMP/faultbin
  mkdir -p "$FAULT_BIN"
  # A stand-in runsc for the direct creates: records its argv (so a test can tell whether runsc
  # was ever started) and succeeds without starting a sandbox.
  cat >"$FAULT_BIN/runsc-record" <<EOF
#!/bin/sh
echo "\$*" >>"$FAULT_BIN/runsc.calls"
exit 0
EOF
  chmod 0755 "$FAULT_BIN/runsc-record"
  # Kill whatever of ours a failed test left running (by the unique stand-in paths).
  rh_cleanup_push "pkill -KILL -f -- '^/bin/sh $FAULT_BIN/' 2>/dev/null; true"
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
  [[ -z ${RH_TMP:-} ]] || { cp "$RH_TMP/policy.std.json" "$RH_POLICY" && cp "$RH_POLICY" "$RH_TMP/policy.good.json"; } \
    2>/dev/null || true
}

# direct_create BUNDLE ID: runsc-host create on our own bundle, as the runc shim calls it.
direct_create ()
{
  local bundle=$1 id=$2
  status=0
  timeout 60 nsenter --net="/run/netns/$RH_NETNS" "$RUNSC_HOST" --root "$RH_TMP/direct-root" \
    --log "$RH_TMP/log-$id.json" --log-format json create --bundle "$bundle" --pid-file "$bundle/pid" "$id" \
    </dev/null >"$RH_TMP/out-$id" 2>&1 3>&- || status=$?
  output=$(cat "$RH_TMP/out-$id")
}

last_error ()
{
  jq -r 'select(.level == "error") | .msg' "$RH_TMP/log-$1.json" 2>/dev/null | tail -n 1
}

# A stand-in tool: a shell script at FAULT_BIN/NAME with BODY.
standin ()
{
  printf '#!/bin/sh\n%s\n' "$2" >"$FAULT_BIN/$1"
  chmod 0755 "$FAULT_BIN/$1"
  echo "$FAULT_BIN/$1"
}

stop_container ()
{
  rh_ctr tasks kill -s SIGKILL "$1" >/dev/null 2>&1 || true
  rh_task_wait_gone_or_stopped "$1" || true
  rh_ctr tasks delete "$1" >/dev/null 2>&1 || rh_ctr tasks delete --force "$1" >/dev/null 2>&1 || true
  rh_ctr containers delete "$1" >/dev/null 2>&1 || true
}

# Nothing of container ID left: task, container, runsc process, rules, record, cgroup.
assert_all_gone ()
{
  local id=$1 mnt bad=0
  rh_assert_nothing_running "$id" || bad=1
  run rh_net_container_rules "$id"
  [[ -z $output ]] || { rh_log "rules of $id left: $output"; bad=1; }
  [[ ! -e $RH_TMP/runsc-host-state/net/$id.json ]] ||
    { rh_log "record of $id left: $(cat "$RH_TMP/runsc-host-state/net/$id.json")"; bad=1; }
  mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
  [[ ! -e $mnt/runsc-host/$id ]] || { rh_log "cgroup $mnt/runsc-host/$id left"; bad=1; }
  return "$bad"
}

# ---- SIGKILL at random points of create ----

@test "SIGKILL at random points of create: config.json is always whole (original or rewrite), a retry succeeds" {
  local b=$RH_TMP/bundle-kill id
  id=$(rh_cid kill)
  rh_policy_write ".runsc.path = \"$FAULT_BIN/runsc-record\""
  # A bind mount makes create stage (pin) its source in a private mount namespace as well.
  mkdir -p "$RH_TMP/vol"
  rh_bundle_make "$b" '.mounts += [{"destination": "/vol", "type": "bind", "source": $src, "options": ["rbind"]}]' \
    --arg src "$RH_TMP/vol"
  cp "$b/config.json" "$RH_TMP/kill-original.json"
  direct_create "$b" "$id"
  [ "$status" -eq 0 ]
  cp "$b/config.json" "$RH_TMP/kill-rewritten.json"
  cp "$RH_TMP/kill-original.json" "$b/config.json"
  rm -f "$b/config.json.orig"
  run python3 "$RH_SOURCE_DIR/tests/integration/fault_kill.py" --bundle "$b" \
    --rewritten "$RH_TMP/kill-rewritten.json" --count "${RH_FAULT_KILLS:-300}" -- \
    nsenter --net="/run/netns/$RH_NETNS" "$RUNSC_HOST" --root "$RH_TMP/direct-root" \
    --log "$RH_TMP/log-kill.json" --log-format json create --bundle "$b" --pid-file "$b/pid" "$id"
  echo "$output"
  echo "# $output" | head -n 1 >&3 # the figures, in the TAP output
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "violations 0"
  # A retried create sweeps the temp files a killed one left.
  rh_assert_contains "$output" "leftover temp files 0"
  # The kills landed on both sides of the rename, or the test proved nothing.
  [[ $output =~ original\ ([0-9]+)\ times ]] && ((BASH_REMATCH[1] > 0))
  [[ $output =~ rewrite\ ([0-9]+)\ times ]] && ((BASH_REMATCH[1] > 0))
  # The staging mounts lived in the killed process's own mount namespace: none is left here.
  run sh -c "findmnt -rn -o TARGET | grep -F -- '$RH_TMP' || true"
  [ -z "$output" ]
}

# ---- the bundle's file system full, then read-only ----

@test "a full bundle file system: create fails naming config.json, which is untouched; with space again it succeeds" {
  local b=$RH_TMP/bundle-full id sum used
  id=$(rh_cid full)
  rh_policy_write ".runsc.path = \"$FAULT_BIN/runsc-record\""
  rh_bundle_make "$RH_TMP/full-src"
  mkdir -p "$b"
  mount -t tmpfs -o size=64k,mode=0700 tmpfs "$b"
  rh_cleanup_push "umount -l '$b' 2>/dev/null || true"
  # The rootfs stays outside the small file system (an absolute root.path).
  jq --arg r "$RH_TMP/full-src/rootfs" '.root.path = $r' "$RH_TMP/full-src/config.json" >"$b/config.json"
  sum=$(sha256sum <"$b/config.json")
  # Fill what is left.
  dd if=/dev/zero of="$b/filler" bs=1k count=1024 2>/dev/null || true
  rm -f "$FAULT_BIN/runsc.calls"
  direct_create "$b" "$id"
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$(last_error "$id")" "config.json"
  rh_assert_contains "$(last_error "$id")" "No space left on device"
  [ "$(sha256sum <"$b/config.json")" = "$sum" ]
  # Nothing half-done: no .orig, no temp file, runsc never started.
  run ls -A "$b"
  [ "$output" = "$(printf 'config.json\nfiller')" ]
  [ ! -e "$FAULT_BIN/runsc.calls" ]
  # Space again: the same create succeeds.
  rm -f "$b/filler"
  direct_create "$b" "$id"
  [ "$status" -eq 0 ]
  jq -e '.annotations["run.runsc-host.policy-sha256"]' "$b/config.json"
  [ -e "$FAULT_BIN/runsc.calls" ]
  umount "$b"
}

@test "a read-only bundle file system: create fails naming config.json, which is untouched; runsc never starts" {
  local b=$RH_TMP/bundle-ro id sum
  id=$(rh_cid ro)
  rh_policy_write ".runsc.path = \"$FAULT_BIN/runsc-record\""
  rh_bundle_make "$RH_TMP/ro-src"
  mkdir -p "$b"
  mount -t tmpfs -o size=1m,mode=0700 tmpfs "$b"
  rh_cleanup_push "umount -l '$b' 2>/dev/null || true"
  jq --arg r "$RH_TMP/ro-src/rootfs" '.root.path = $r' "$RH_TMP/ro-src/config.json" >"$b/config.json"
  sum=$(sha256sum <"$b/config.json")
  mount -o remount,ro "$b"
  rm -f "$FAULT_BIN/runsc.calls"
  direct_create "$b" "$id"
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$(last_error "$id")" "config.json"
  rh_assert_contains "$(last_error "$id")" "Read-only file system"
  [ "$(sha256sum <"$b/config.json")" = "$sum" ]
  run ls -A "$b"
  [ "$output" = "config.json" ]
  [ ! -e "$FAULT_BIN/runsc.calls" ]
  umount "$b"
}

# ---- runsc missing, not executable, crashing ----

@test "runsc missing or not executable: create fails naming the path and the policy key; config.json untouched" {
  local b=$RH_TMP/bundle-norunsc id sum
  id=$(rh_cid norunsc)
  rh_bundle_make "$b"
  sum=$(sha256sum <"$b/config.json")
  rh_policy_write ".runsc.path = \"$FAULT_BIN/no-such-runsc\""
  direct_create "$b" "$id"
  [ "$status" -ne 0 ]
  rh_assert_contains "$(last_error "$id")" "$FAULT_BIN/no-such-runsc"
  [ "$(sha256sum <"$b/config.json")" = "$sum" ]
  printf '#!/bin/sh\nexit 0\n' >"$FAULT_BIN/runsc-noexec"
  chmod 0644 "$FAULT_BIN/runsc-noexec"
  rh_policy_write ".runsc.path = \"$FAULT_BIN/runsc-noexec\""
  direct_create "$b" "$id"
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$(last_error "$id")" "$FAULT_BIN/runsc-noexec"
  rh_assert_contains "$output" "$FAULT_BIN/runsc-noexec"
  [ "$(sha256sum <"$b/config.json")" = "$sum" ]
}

@test "runsc crashing in create: ctr run fails, nothing is left running, and the next run works" {
  local id crash
  id=$(rh_cid crash)
  # Crashes (SIGSEGV) on create; every other subcommand goes to the real runsc (delete must work).
  crash=$(standin runsc-crash "case \" \$* \" in *' create '*) kill -SEGV \$\$;; esac; exec $RH_RUNSC \"\$@\"")
  rh_policy_write ".runsc.path = \"$crash\""
  run rh_run "$RH_IMAGE" "$id" echo never
  echo "$output"
  [ "$status" -ne 0 ]
  rh_refute_contains "$output" "never"
  rh_container_cleanup "$id"
  assert_all_gone "$id"
  rh_policy_write
  run rh_run "$RH_IMAGE" "$(rh_cid crash2)" echo ran
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ran"
}

# ---- iptables-restore failing half-way, and hanging ----

@test "ip6tables-restore failing after iptables-restore applied: create fails clearly, no rule is left" {
  local id bad
  id=$(rh_cid half6)
  bad=$(standin ip6-refuse 'cat >/dev/null; echo "stand-in: ip6tables-restore refused half-way" >&2; exit 1')
  rh_policy_write ".ports.ip6tables_restore = \"$bad\""
  run rh_run --annotation org.opencontainers.image.exposedPorts=8080/tcp "$RH_IMAGE" "$id" echo never
  echo "$output"
  [ "$status" -ne 0 ]
  rh_refute_contains "$output" "never"
  rh_assert_contains "$output" "stand-in: ip6tables-restore refused half-way"
  rh_container_cleanup "$id"
  assert_all_gone "$id"
  # The shared RUNSC-HOST-* chains stay by design (docs/hooks.md); no container chain may.
  run rh_net_ours
  rh_refute_contains "$output" "RH-I-"
  rh_refute_contains "$output" "RH-E-"
}

@test "iptables-restore applying its rules and then failing: create fails clearly, no rule is left" {
  local id bad
  id=$(rh_cid half4)
  bad=$(standin ip4-apply-then-fail '/usr/sbin/iptables-restore "$@"; echo "stand-in: failed after applying" >&2; exit 1')
  rh_policy_write ".ports.iptables_restore = \"$bad\""
  run rh_run --annotation org.opencontainers.image.exposedPorts=8080/tcp "$RH_IMAGE" "$id" echo never
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "stand-in: failed after applying"
  rh_container_cleanup "$id"
  assert_all_gone "$id"
  # The shared RUNSC-HOST-* chains stay by design (docs/hooks.md); no container chain may.
  run rh_net_ours
  rh_refute_contains "$output" "RH-I-"
  rh_refute_contains "$output" "RH-E-"
}

@test "the hook timing out (ip6tables-restore hangs): create fails, no rule is left; gc finishes once the tool works" {
  local id hang
  id=$(rh_cid hang)
  hang=$(standin ip6-hang 'exec sleep 1017')
  rh_policy_write ".ports.ip6tables_restore = \"$hang\""
  SECONDS=0
  run rh_run --annotation org.opencontainers.image.exposedPorts=8080/tcp "$RH_IMAGE" "$id" echo never
  echo "after ${SECONDS}s: $output"
  [ "$status" -ne 0 ]
  rh_refute_contains "$output" "never"
  # The hook gives up by itself inside runsc's 30 s (RH_HOOK_BUDGET_MS) and says why, on either
  # runsc; runsc's own timeout never fires (runsc 2022 could hang create for good when it did).
  rh_assert_contains "$output" "$hang did not finish within"
  rh_refute_contains "$output" "timeout executing hook"
  # No hung tool is left behind: each was killed at its deadline, before the hook returned.
  run pgrep -f -- "^sleep 1017\$"
  echo "left: $output"
  [ -z "$output" ]
  rh_container_cleanup "$id"
  rh_assert_nothing_running "$id"
  # No rule of the container is left in either family...
  run rh_net_container_rules "$id"
  [ -z "$output" ]
  # The record names the tool that applied the rules, so removal retries with it: once that
  # tool works again, gc takes back the rest (record, cgroup).
  standin ip6-hang 'exec /usr/sbin/ip6tables-restore "$@"' >/dev/null
  run rh_in_netns "$RUNSC_HOST" gc
  echo "gc: $output"
  [ "$status" -eq 0 ]
  assert_all_gone "$id"
  run rh_net_ours
  rh_refute_contains "$output" "RH-I-"
  rh_refute_contains "$output" "RH-E-"
}

# ---- the gate's upstream hanging or refusing ----

@test "the gate's upstream hanging gives 504 and refusing gives 503; the gate keeps serving" {
  local id sock
  gate_build_client
  gate_standin_start
  gate_policy_write '.gate.allowed_audiences += ["standin:slow"] | .gate.upstream_timeout_ms = 1000'
  rh_cleanup_push gate_daemon_stop
  id=$(rh_cid gate)
  gate_start "$id"
  # Hanging: the stand-in answers after 3 s, the policy waits 1 s.
  run gate_exec "$id" /gate/gate-client -v -N -a standin:slow "$GATE_SOCK"
  echo "$output"
  rh_assert_contains "$output" "first 504"
  # Refusing: a socket file nobody listens on.
  gate_standin_stop
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$GATE_UPSTREAM"
  run gate_exec "$id" /gate/gate-client -v -N -a https://allowed.example "$GATE_SOCK"
  echo "$output"
  rh_assert_contains "$output" "first 503 runsc-host-gate: attestation service unavailable"
  rm -f "$GATE_UPSTREAM"
  # Back: served again.
  gate_standin_start
  run gate_exec "$id" /gate/gate-client -v -N -a https://allowed.example "$GATE_SOCK"
  echo "$output"
  rh_assert_contains "$output" "status 200"
  stop_container "$id"
  assert_all_gone "$id"
}
