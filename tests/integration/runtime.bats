#!/usr/bin/env bats
# [runtime] runsc-host as a registered containerd runtime (issue 5): the shim runtime type
# io.containerd.runsc-host.v1 through `ctr run --runtime`, the "runc" alias mode, and
# `runsc-host check`. A private containerd in this file's own network namespace has the built
# shim dir first in its PATH (lib.sh) and, before it, an alias dir of ours: a `runc` symlink
# to runsc-host appears there only while an alias test needs it.

load lib.sh
load lib_docker.sh

setup_file ()
{
  rh_setup_env runtime
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_require_binary "$RH_SHIM"
  # Runs last: ctr's containers live under /<namespace>/<id> cgroups.
  rh_netns_create
  rh_policy_write
  rh_tee_socket_start
  export RH_ALIAS_DIR=$RH_TMP/alias
  mkdir -p "$RH_ALIAS_DIR"
  PATH="$RH_ALIAS_DIR:$PATH" rh_containerd_start
  rh_image_build busybox
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
  # Back to the default test policy (rh_policy_write also records it as the last good one).
  [[ -z ${RH_TMP:-} || ! -d ${RH_TMP:-} ]] || {
    rm -f "$RH_ALIAS_DIR/runc"
    rh_policy_write
  }
  return 0
}

SHIM_TYPE=io.containerd.runsc-host.v1

# ctr run through the shim runtime type (no --runc-binary: the shim alone picks runsc-host).
shim_run ()
{
  rh_ctr run --runtime "$SHIM_TYPE" --net-host --snapshotter native "$@"
}

tee_mount ()
{
  printf 'type=bind,src=%s,dst=%s,options=rbind:ro' "$RH_TEE_DIR" /run/container_launcher
}

@test "shim: ctr run --runtime io.containerd.runsc-host.v1 runs under gVisor with the TEE socket stripped" {
  local id host_kernel
  id=$(rh_cid shim)
  host_kernel=$(uname -r)
  [ -S "$RH_TEE_SOCKET" ] # the host really has it
  shim_run -d --mount "$(tee_mount)" "$RH_IMAGE" "$id" sleep 300
  run rh_ctr containers info "$id"
  local runtime
  runtime=$(echo "$output" | jq -r '.Runtime.Name')
  # Host side: the task's process is gVisor's sandbox. (dmesg's "Starting gVisor" served here
  # once, but syslog is outside the default profile and the current runsc filters exec'd
  # processes too: it answers EPERM.)
  local pid cmdline
  pid=$(rh_ctr tasks list | awk -v id="$id" '$1 == id {print $2}')
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  run rh_ctr tasks exec --exec-id probe "$id" sh -c '
    uname -r
    if test -e /run/container_launcher/teeserver.sock; then echo "TEE PRESENT"; else echo "TEE ABSENT"; fi'
  local out=$output st=$status
  # The bundle containerd made was rewritten by runsc-host, not by anything else.
  local hash
  hash=$(jq -r '.annotations["run.runsc-host.policy-sha256"] // "none"' "$(rh_bundle_dir "$id")/config.json")
  rh_container_cleanup "$id"
  echo "runtime=$runtime status=$st hash=$hash task pid $pid: $cmdline"
  echo "$out"
  [ "$runtime" = "$SHIM_TYPE" ]
  [ "$st" -eq 0 ]
  [ "$(echo "$out" | head -n 1)" != "$host_kernel" ]
  rh_assert_contains "$cmdline" "runsc-sandbox"
  rh_assert_contains "$out" "TEE ABSENT"
  [ "$hash" = "$(sha256sum "$RH_POLICY" | cut -d' ' -f1)" ]
  rh_assert_nothing_running "$id"
}

@test "shim: exit status propagates and --rm leaves nothing behind" {
  local id
  id=$(rh_cid exit)
  run shim_run --rm "$RH_IMAGE" "$id" sh -c 'echo ran in $(uname -r); exit 7'
  echo "$output"
  [ "$status" -eq 7 ]
  rh_assert_contains "$output" "ran in"
  rh_refute_contains "$output" "ran in $(uname -r)" # gVisor's kernel, not the host's
  rh_assert_nothing_running "$id"
}

@test "shim: after the shim daemon dies, containerd's delete mode removes the sandbox" {
  local id pid i
  id=$(rh_cid dead)
  shim_run -d "$RH_IMAGE" "$id" sleep 300
  [ -n "$(rh_runsc_pids "$id")" ]
  pid=$(pgrep -f -- "containerd-shim-runc-v2 -namespace $RH_NS -id $id( |\$)")
  [ -n "$pid" ] && [ "$(echo "$pid" | wc -l)" -eq 1 ]
  kill -KILL "$pid"
  # A shim killed this way leaves its ttrpc socket (/run/containerd/s/sha256(address/ns/id)),
  # which containerd does not remove: ours to clean.
  rh_cleanup_push rm -f "/run/containerd/s/$(printf '%s' "$RH_CTRD_SOCK/$RH_NS/$id" | sha256sum | cut -d' ' -f1)"
  # containerd notices, runs `containerd-shim-runsc-host-v1 ... delete`, which must reach
  # `runsc-host delete --force` through the shim's runc link.
  for ((i = 0; i < 100; i++)); do
    [ -z "$(rh_runsc_pids "$id")" ] && break
    sleep 0.2
  done
  run "$RH_RUNSC" --root "$RH_RUNC_ROOT" list
  local listing=$output
  local left
  left=$(rh_runsc_pids "$id")
  rh_container_cleanup "$id"
  echo "runsc list: $listing"
  echo "left: $left"
  [ -z "$left" ]
  rh_refute_contains "$listing" "$id"
}

@test "shim: it runs the runsc-host beside it, and refuses to start without it" {
  run "$RH_SHIM" --runsc-host-runtime
  [ "$status" -eq 0 ]
  [ "$output" = "$(readlink -f "$RUNSC_HOST")" ]

  # A copy with no runtime link next to it must fail loudly rather than let the runc shim
  # fall back to a `runc` found further along PATH.
  mkdir -p "$RH_TMP/lonely/bin"
  cp "$RH_SHIM" "$RH_TMP/lonely/bin/"
  run env PATH="/usr/sbin:/usr/bin:/sbin:/bin" "$RH_TMP/lonely/bin/containerd-shim-runsc-host-v1" \
    -namespace "$RH_NS" -address "$RH_CTRD_SOCK" -id "$(rh_cid lonely)" start
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "containerd-shim-runsc-host-v1: runtime directory"
  rh_assert_contains "$output" "reinstall runsc-host"

  # A link that points nowhere is refused the same way.
  mkdir -p "$RH_TMP/lonely/libexec/runsc-host/shim-path"
  ln -s /nonexistent/runsc-host "$RH_TMP/lonely/libexec/runsc-host/shim-path/runc"
  run "$RH_TMP/lonely/bin/containerd-shim-runsc-host-v1" --runsc-host-runtime
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "it must be a symlink to runsc-host"
}

# `runsc-host check` against config files of our own (the machine's /etc is not ours).
check ()
{
  rh_in_netns env RUNSC_HOST_CONFIG="$RH_POLICY" "$RUNSC_HOST" check \
    --containerd-config "$RH_TMP/check/config.toml" --docker-config "$RH_TMP/check/daemon.json" \
    --shim "${CHECK_SHIM:-$RH_SHIM}"
}

write_good_configs ()
{
  mkdir -p "$RH_TMP/check"
  sed "s#BinaryName = \".*\"#BinaryName = \"$RUNSC_HOST\"#" "$RH_SOURCE_DIR/config/containerd/config.toml" \
    >"$RH_TMP/check/config.toml"
  jq --arg p "$RUNSC_HOST" '.runtimes["runsc-host"].path = $p' "$RH_SOURCE_DIR/config/docker/daemon.json" \
    >"$RH_TMP/check/daemon.json"
}

@test "check: a correct install passes, with the shipped containerd and docker snippets" {
  write_good_configs
  [ -x "$RH_HOOK" ] || skip "hook binary not built ($RH_HOOK): the check would rightly fail"
  run check
  echo "$output"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "[ ok ] policy"
  rh_assert_contains "$output" "[ ok ] runsc            $RH_RUNSC: runsc version"
  rh_assert_contains "$output" "[ ok ] hook"
  rh_assert_contains "$output" "[ ok ] seccomp          default profile "
  rh_assert_contains "$output" "[ ok ] iptables"
  rh_assert_contains "$output" "[ ok ] shim             $RH_SHIM -> $(readlink -f "$RUNSC_HOST")"
  rh_assert_contains "$output" "CRI runtime \"runsc-host\" runs $RUNSC_HOST"
  rh_assert_contains "$output" "CRI runtime \"runsc-host-shim\" = io.containerd.runsc-host.v1"
  rh_assert_contains "$output" "runtime \"runsc-host\" runs $RUNSC_HOST"
  rh_refute_contains "$output" "[FAIL]"
}

@test "check: each broken item fails with its fix, and the exit status says so" {
  write_good_configs
  # runsc missing.
  rh_policy_write '.runsc.path = "/nonexistent/runsc"'
  run check
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "[FAIL] runsc            /nonexistent/runsc: No such file or directory"
  rh_assert_contains "$output" "fix: install gVisor (apt-get install runsc) or set runsc.path in $RH_POLICY"

  # runsc.path naming runsc-host itself (as the runc alias).
  ln -sf "$RUNSC_HOST" "$RH_ALIAS_DIR/runc"
  rh_policy_write ".runsc.path = \"$RH_ALIAS_DIR/runc\""
  run check
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "runsc-host itself"
  rm -f "$RH_ALIAS_DIR/runc"

  # A policy that does not parse.
  echo '{"runsc": {"path": "/usr/bin/runsc"}, "no_such_key": 1}' | rh_policy_write_raw
  run check
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "[FAIL] policy"
  rh_assert_contains "$output" "no_such_key"
  rh_assert_contains "$output" "[skip] runsc"
  rh_policy_write

  # The hook is missing.
  rh_policy_write '.hook_path = "/nonexistent/runsc-host-hook"'
  run check
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "[FAIL] hook             /nonexistent/runsc-host-hook: No such file or directory"
  rh_policy_write

  # The default seccomp profile: read only when a create needs it, so the check is where a
  # broken one shows first. Missing warns; a profile with a bad action fails.
  rh_policy_write ".seccomp.default_profile = \"$RH_TMP/no-such-profile.json\""
  run check
  echo "$output"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "[warn] seccomp          open $RH_TMP/no-such-profile.json: No such file or directory"
  echo '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_MAYBE"}]}' \
    >"$RH_TMP/bad-profile.json"
  rh_policy_write ".seccomp.default_profile = \"$RH_TMP/bad-profile.json\""
  run check
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "[FAIL] seccomp          policy key seccomp.default_profile: $RH_TMP/bad-profile.json: profile.syscalls[0].action"
  rh_policy_write

  # containerd: a stale BinaryName (runsc-host moved), then no registration at all.
  sed -i 's#BinaryName = ".*"#BinaryName = "/usr/local/bin/runsc-host-old"#' "$RH_TMP/check/config.toml"
  run check
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "runtime runsc-host has BinaryName /usr/local/bin/runsc-host-old, which is not this runsc-host"
  rh_assert_contains "$output" "BinaryName = \"$(readlink -f "$RUNSC_HOST")\""
  printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n' \
    >"$RH_TMP/check/config.toml"
  run check
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "registers no runtime that runs runsc-host"
  printf 'version = 2\n[plugins.\n' >"$RH_TMP/check/config.toml"
  run check
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "config.toml: line 2: expected a key"
  write_good_configs

  # dockerd: no runtimes entry.
  echo '{"log-level": "warn"}' >"$RH_TMP/check/daemon.json"
  run check
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "[FAIL] dockerd"
  rh_assert_contains "$output" "fix: add \"runtimes\": {\"runsc-host\": {\"path\": \"$(readlink -f "$RUNSC_HOST")\"}}"
  write_good_configs

  # The shim's runtime link is gone.
  mkdir -p "$RH_TMP/lonely2/bin"
  cp "$RH_SHIM" "$RH_TMP/lonely2/bin/"
  CHECK_SHIM=$RH_TMP/lonely2/bin/containerd-shim-runsc-host-v1 run check
  echo "$output"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "[FAIL] shim"
  rh_assert_contains "$output" "reinstall runsc-host"
}

@test "alias: with runsc-host installed as runc, ctr's default runtime runs in gVisor (and not without)" {
  local host_kernel id
  host_kernel=$(uname -r)
  id=$(rh_cid noalias)
  # Control: no alias, the default runtime is the real runc on the host kernel.
  run rh_ctr run --rm --net-host --snapshotter native "$RH_IMAGE" "$id" uname -r
  echo "without alias: $output"
  [ "$status" -eq 0 ]
  [ "$output" = "$host_kernel" ]

  ln -s "$RUNSC_HOST" "$RH_ALIAS_DIR/runc"
  id=$(rh_cid alias)
  run rh_ctr run --rm --net-host --snapshotter native --mount "$(tee_mount)" "$RH_IMAGE" "$id" sh -c '
    uname -r
    if test -e /run/container_launcher/teeserver.sock; then echo "TEE PRESENT"; else echo "TEE ABSENT"; fi'
  echo "with alias: $output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != "$host_kernel" ] # gVisor's own kernel
  rh_assert_contains "$output" "TEE ABSENT"
  rh_assert_nothing_running "$id"

  # The alias answers as runsc-host, whatever it is called, in runc's layout.
  run "$RH_ALIAS_DIR/runc" --version
  [[ ${lines[0]} =~ ^runc\ version\ 1\.1\.5\+runsc-host\.[0-9]+\.[0-9]+\.[0-9]+$ ]]
  [[ ${lines[1]} == "commit: runsc-host-"* ]]
  [[ ${lines[2]} =~ ^spec:\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "alias: a policy whose runsc.path is the alias itself is refused with a clear error" {
  local id
  ln -s "$RUNSC_HOST" "$RH_ALIAS_DIR/runc"
  rh_policy_write ".runsc.path = \"$RH_ALIAS_DIR/runc\""
  id=$(rh_cid loop)
  run rh_ctr run --rm --net-host --snapshotter native "$RH_IMAGE" "$id" true
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "runsc-host itself"
  rh_container_cleanup "$id"
  rh_assert_nothing_running "$id"
}
