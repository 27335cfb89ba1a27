#!/usr/bin/env bats
# [sec-mods] Issue 11, classes 4, 5 and 9 through the real runsc: a client prestart hook that
# reads the TEE directory on the host is refused and never runs (with a control showing that
# runsc does run it when the policy allows it), a sandbox-join annotation is refused with the
# error a ctr user sees, and cgroupsPath escapes are refused, each leaving config.json untouched.

load lib.sh

setup_file ()
{
  rh_setup_env secmods
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_policy_write
  rh_containerd_start
  rh_image_build busybox
  rh_tee_socket_start
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
  [[ -z ${RH_TMP:-} || ! -d ${RH_TMP:-} ]] || rh_policy_write
  return 0
}


# Refused: config.json unchanged, no runsc state or process, the error as the log's last line.
assert_refused ()
{
  local bundle=$1 sum_before=$2 id=$3 want=$4
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "$want"
  rh_assert_contains "$(jq -r 'select(.level == "error") | .msg' "$bundle/log.json" | tail -n 1)" "$want"
  [ "$(sha256sum <"$bundle/config.json")" = "$sum_before" ]
  [ -z "$(rh_runsc_pids "$id" "$RH_TMP/direct-root")" ]
  run sh -c "ls -A '$RH_TMP/direct-root' 2>/dev/null | grep -F -- '$id'"
  [ -z "$output" ]
}

# A prestart hook that copies the TEE directory's contents to a host file.
hook_filter='.hooks.prestart = [{"path": "/bin/sh", "args": ["sh", "-c", $cmd]}]
  | .linux.cgroupsPath = "/" + $ns + "/" + $id'

@test "a client prestart hook reading /run/container_launcher is refused and never runs (control: allowed, it runs)" {
  local b id sum stolen cmd
  [ -d "$RH_TEE_DIR" ]

  # Control: a policy that allows /bin/sh lets runsc run the hook on the host, as root.
  b=$RH_TMP/bundle-hook-allowed
  id=$(rh_cid hook-allowed)
  stolen=$RH_TMP/stolen-allowed
  cmd="ls -la $RH_TEE_DIR > $stolen; cat $RH_TEE_TOKEN >> $stolen 2>/dev/null; true"
  rh_bundle_make "$b" "$hook_filter" --arg cmd "$cmd" --arg ns "$RH_NS" --arg id "$id"
  rh_policy_write '.hooks.allowed += [{"path": "/bin/sh", "args": ["sh", "-c", "*"], "kinds": ["prestart"]}]'
  rh_create_direct "$b" "$id"
  [ "$status" -eq 0 ]
  [ -f "$stolen" ]
  rh_assert_contains "$(cat "$stolen")" "teeserver.sock"
  rh_in_netns "$RUNSC_HOST" --root "$RH_TMP/direct-root" delete --force "$id" || true

  # The default policy: refused before runsc starts; the hook never ran.
  rh_policy_write
  b=$RH_TMP/bundle-hook-denied
  id=$(rh_cid hook-denied)
  stolen=$RH_TMP/stolen-denied
  cmd="ls -la $RH_TEE_DIR > $stolen; cat $RH_TEE_TOKEN >> $stolen 2>/dev/null; true"
  rh_bundle_make "$b" "$hook_filter" --arg cmd "$cmd" --arg ns "$RH_NS" --arg id "$id"
  sum=$(sha256sum <"$b/config.json")
  rh_create_direct "$b" "$id"
  assert_refused "$b" "$sum" "$id" "hook prestart[0] /bin/sh denied by policy (hooks.allowed)"
  [ ! -e "$stolen" ]

  # The same shell under other spellings.
  for spelling in //bin/./sh /usr/../bin/sh "$RH_TMP/shlink"; do
    ln -sfn /bin/sh "$RH_TMP/shlink"
    id=$(rh_cid hook-spell-$RANDOM)
    rh_bundle_make "$b" "$hook_filter | .hooks.prestart[0].path = \$p" --arg cmd "$cmd" --arg ns "$RH_NS" \
      --arg id "$id" --arg p "$spelling"
    sum=$(sha256sum <"$b/config.json")
    rh_create_direct "$b" "$id"
    assert_refused "$b" "$sum" "$id" "hook prestart[0] $spelling denied by policy (hooks.allowed)"
    [ ! -e "$stolen" ]
  done
}

@test "hooks.action strip: the hook is removed, the container starts, the hook never ran" {
  local b=$RH_TMP/bundle-hook-strip id stolen=$RH_TMP/stolen-strip
  id=$(rh_cid hook-strip)
  rh_bundle_make "$b" "$hook_filter" --arg cmd "ls $RH_TEE_DIR > $stolen" --arg ns "$RH_NS" --arg id "$id"
  rh_policy_write '.hooks.action = "strip"'
  rh_create_direct "$b" "$id"
  [ "$status" -eq 0 ]
  [ ! -e "$stolen" ]
  run jq -e '.hooks.prestart // [] | map(select(.path == "/bin/sh")) | length == 0' "$b/config.json"
  [ "$status" -eq 0 ]
  rh_assert_contains "$(cat "$b/log.json")" "hook prestart[0] /bin/sh stripped by policy (hooks.allowed)"
}

@test "a sandbox-join annotation is refused with the error the ctr user sees" {
  local id out
  id=$(rh_cid join)
  run rh_run --annotation io.kubernetes.cri.container-type=container \
    --annotation "io.kubernetes.cri.sandbox-id=$(rh_cid victim)" "$RH_IMAGE" "$id" echo JOINED
  echo "$output"
  [ "$status" -ne 0 ]
  rh_refute_contains "$output" "JOINED"
  rh_assert_contains "$output" \
    "annotation io.kubernetes.cri.container-type=container denied by policy (allow_sandbox_join)"
  rh_container_cleanup "$id"
  rh_assert_nothing_running "$id"

  # CRI-O's spelling, and a pid namespace path, directly.
  local b=$RH_TMP/bundle-join sum
  id=$(rh_cid join-crio)
  rh_bundle_make "$b" '.annotations = {"io.kubernetes.cri-o.ContainerType": "container",
                                       "io.kubernetes.cri-o.SandboxID": "other"}
                       | .linux.cgroupsPath = "/" + $ns + "/" + $id' --arg ns "$RH_NS" --arg id "$id"
  sum=$(sha256sum <"$b/config.json")
  rh_create_direct "$b" "$id"
  assert_refused "$b" "$sum" "$id" "annotation io.kubernetes.cri-o.ContainerType=container denied by policy (allow_sandbox_join)"

  id=$(rh_cid join-pidns)
  rh_bundle_make "$b" '.linux.namespaces |= map(if .type == "pid" then .path = "/proc/1/ns/pid" else . end)
                       | .linux.cgroupsPath = "/" + $ns + "/" + $id' --arg ns "$RH_NS" --arg id "$id"
  sum=$(sha256sum <"$b/config.json")
  rh_create_direct "$b" "$id"
  assert_refused "$b" "$sum" "$id" "(pid) path /proc/1/ns/pid denied by policy (allow_sandbox_join)"
}

@test "a cgroupsPath escape is refused (and the harness's own /<namespace>/<id> still runs)" {
  local b=$RH_TMP/bundle-cg id sum path
  # Control: ctr's /<namespace>/<id> passes and the container runs.
  run rh_run "$RH_IMAGE" "$(rh_cid cg-ok)" echo CGOK
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "CGOK"

  for path in "/$RH_NS/../../escape-X" "/" "/runsc-host/ID" "/system.slice/ID" "$RH_NS/ID" \
      "system.slice:docker:../ID" "/$RH_NS/other-container"; do
    id=$(rh_cid cg-$RANDOM)
    path=${path//ID/$id}
    path=${path//X/$id}
    rh_bundle_make "$b" '.linux.cgroupsPath = $p' --arg p "$path"
    sum=$(sha256sum <"$b/config.json")
    rh_create_direct "$b" "$id"
    assert_refused "$b" "$sum" "$id" "linux.cgroupsPath $path denied by policy (cgroups."
  done
  # Nothing was created at the escaped places.
  [ ! -e "/sys/fs/cgroup/memory/escape-$id" ]
  [ ! -e "/sys/fs/cgroup/escape-$id" ]
}
