#!/usr/bin/env bats
# [checkpoint] checkpoint/restore per runsc version (README, "Known limits"). runsc-host refuses
# both on every runsc, with one message; what runsc itself can do with a host-network sandbox
# differs: runsc 2022 cannot checkpoint it at all, the current runsc checkpoints it and restores
# it into a new sandbox that carries on where it stopped. The raw runs use runsc directly with the
# flags that matter here (--network=host, the platform), on a container containerd started.

load lib.sh
load lib_seccomp.sh

setup_file ()
{
  rh_setup_env checkpoint
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_policy_write
  rh_containerd_start
  rh_image_build busybox
  # runsc as the runc shim would call it, without runsc-host: host networking and the platform
  # each runsc has here (runsc 2022 has no systrap).
  export RAW=$RH_TMP/raw-runsc
  if rh_runsc_is_2022; then
    printf '#!/bin/sh\nexec %s --network=host --platform=ptrace "$@"\n' "$RH_RUNSC" >"$RAW"
  else
    printf '#!/bin/sh\nexec %s --network=host --platform=systrap "$@"\n' "$RH_RUNSC" >"$RAW"
  fi
  chmod 0755 "$RAW"
}

teardown_file ()
{
  rh_teardown
}

setup ()
{
  rh_skip_if_unavailable
}

# A workload whose progress shows: a counter in /tmp, five steps a second.
COUNTER='i=0; while true; do i=$((i+1)); echo $i >/tmp/count; sleep 0.2; done'

raw ()
{
  rh_in_netns "$RAW" --root "$RH_RUNC_ROOT" "$@"
}

@test "runsc-host refuses checkpoint and restore with a clear error; the container keeps running, no image is written" {
  local id
  id=$(rh_cid refuse)
  rh_cleanup_push "rh_container_cleanup '$id'"
  rh_run_detached "$RH_IMAGE" "$id" sh -c "$COUNTER"
  # As the runc shim calls it (same --root, same policy, the test's namespace).
  run rh_in_netns env RUNSC_HOST_CONFIG="$RH_POLICY" "$RUNSC_HOST" --root "$RH_RUNC_ROOT" \
    checkpoint --image-path "$RH_TMP/img-refused" "$id"
  echo "checkpoint: status $status: $output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "checkpoint is not supported by runsc-host"
  [ ! -e "$RH_TMP/img-refused" ]
  run rh_in_netns env RUNSC_HOST_CONFIG="$RH_POLICY" "$RUNSC_HOST" --root "$RH_RUNC_ROOT" \
    restore --image-path "$RH_TMP/img-refused" --bundle "$(rh_bundle_dir "$id")" "$(rh_cid restored)"
  echo "restore: status $status: $output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "restore is not supported by runsc-host"
  [ "$(rh_ctr tasks list | awk -v id="$id" '$1 == id {print $3}')" = RUNNING ]
  rh_container_cleanup "$id"
  rh_assert_nothing_running "$id"
}

@test "raw runsc and a host-network sandbox: runsc 2022 cannot checkpoint it; the current runsc checkpoints and restores it" {
  local id id2 a b
  id=$(rh_cid raw)
  id2=$(rh_cid raw2)
  rh_cleanup_push "rh_container_cleanup '$id'"
  rh_cleanup_push "raw delete --force '$id2' >/dev/null 2>&1 || true"
  rh_ctr run -d --runc-binary "$RAW" --net-host --snapshotter native "$RH_IMAGE" "$id" sh -c "$COUNTER"
  sleep 1
  run raw checkpoint --image-path "$RH_TMP/img" "$id"
  echo "checkpoint under $($RH_RUNSC --version | head -n 1): status $status: $output"
  if rh_runsc_is_2022; then
    [ "$status" -ne 0 ]
    rh_assert_contains "$output" "checkpoint not supported when using hostinet"
    return 0
  fi
  [ "$status" -eq 0 ]
  [ -s "$RH_TMP/img/checkpoint.img" ]
  # A new sandbox from the image, with a copy of the bundle: the counter goes on from where it
  # was, it does not start again at 1.
  cp -a "$(rh_bundle_dir "$id")" "$RH_TMP/bundle2"
  # Output to a file: the restored sandbox keeps its stdio, and a pipe would never close.
  raw restore --detach --image-path "$RH_TMP/img" --bundle "$RH_TMP/bundle2" "$id2" </dev/null \
    >"$RH_TMP/restore.out" 2>&1 || { cat "$RH_TMP/restore.out"; return 1; }
  a=$(timeout 30 nsenter --net="/run/netns/$RH_NETNS" "$RAW" --root "$RH_RUNC_ROOT" exec "$id2" cat /tmp/count)
  sleep 1
  b=$(timeout 30 nsenter --net="/run/netns/$RH_NETNS" "$RAW" --root "$RH_RUNC_ROOT" exec "$id2" cat /tmp/count)
  echo "counter after restore: $a, then $b"
  [ "$a" -gt 3 ]
  [ "$b" -gt "$a" ]
  raw delete --force "$id2"
}
