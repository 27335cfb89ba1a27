#!/usr/bin/env bats
# [conformance] runc compatibility (issue 16): `runsc-host spec` writes runc's starter spec, whose
# container starts and stays up behind a console socket (as runc's own test suite runs it), and
# `update` changes a running container's limits in its host cgroup, from runsc-host directly
# and through `docker update`. The full suites run from tests/conformance/run.sh
# (docs/conformance.md).

load lib.sh
load lib_docker.sh

setup_file ()
{
  rh_setup_env conformance
  rh_docker_env
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_policy_write
  rh_containerd_start
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

rh_host ()
{
  rh_in_netns "$RUNSC_HOST" --root "$RH_TMP/state" "$@"
}

# The sandbox's group for a cgroup v1 controller, as a path under /sys/fs/cgroup/CONTROLLER.
v1_group ()  # PID CONTROLLER
{
  awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup"
}

@test "spec writes runc's template; its container starts and stays up with a console socket" {
  local b=$RH_TMP/spec id sock=$RH_TMP/console.sock out=$RH_TMP/console.out
  id=$(rh_cid spec)
  rh_bundle_make "$b"
  rm "$b/config.json"
  run "$RUNSC_HOST" spec --bundle "$b"
  [ "$status" -eq 0 ]
  # runc's template, not runsc's: a terminal, devpts, masked /proc paths, a read-only root.
  [ "$(jq -r '.process.terminal' "$b/config.json")" = true ]
  [ "$(jq -r '.mounts[] | select(.destination == "/dev/pts") | .type' "$b/config.json")" = devpts ]
  [ "$(jq -r '.linux.maskedPaths | index("/proc/kcore") != null' "$b/config.json")" = true ]
  [ "$(jq -r '.hostname' "$b/config.json")" = runc ]
  # Never over an existing spec; --rootless is refused, naming why.
  run "$RUNSC_HOST" spec --bundle "$b"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "config.json exists. Remove it first"
  run "$RUNSC_HOST" spec --rootless
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "spec --rootless is not supported"

  # As runc's suite runs it: create with a console socket, start, and the shell on the
  # terminal stays up and answers what is typed into it.
  python3 "$BATS_TEST_DIRNAME/console_recv.py" "$sock" "$out" $'echo answer-$((6*7))\n' &
  local recv=$!
  rh_cleanup_push "kill $recv 2>/dev/null; true"
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  rh_cleanup_push "'$RUNSC_HOST' --root '$RH_TMP/state' delete --force '$id' 2>/dev/null; true"
  run rh_host create --console-socket "$sock" --bundle "$b" "$id"
  [ "$status" -eq 0 ]
  run rh_host start "$id"
  [ "$status" -eq 0 ]
  for _ in $(seq 50); do grep -q 'answer-42' "$out" 2>/dev/null && break; sleep 0.2; done
  rh_assert_contains "$(cat "$out")" "answer-42"
  sleep 1
  run rh_host state "$id"
  [ "$status" -eq 0 ]
  [ "$(jq -r .status <<<"$output")" = running ]
  run rh_host delete --force "$id"
  [ "$status" -eq 0 ]
  kill "$recv" 2>/dev/null || true
}

@test "update writes memory, cpu and pids limits into a running container's host cgroup" {
  local id pid mem cpu pids
  id=$(rh_cid upd)
  run rh_run_detached "$RH_IMAGE" "$id" sleep 300
  [ "$status" -eq 0 ]
  rh_cleanup_push "rh_container_cleanup '$id'"
  pid=$(rh_in_netns "$RUNSC_HOST" --root "$RH_RUNC_ROOT" state "$id" | jq -r .pid)
  [ "$pid" -gt 0 ]
  mem=/sys/fs/cgroup/memory$(v1_group "$pid" memory)
  cpu=/sys/fs/cgroup/cpu$(v1_group "$pid" cpu)
  pids=/sys/fs/cgroup/pids$(v1_group "$pid" pids)
  [ -d "$mem" ] && [ "$mem" != /sys/fs/cgroup/memory/ ]

  run rh_in_netns "$RUNSC_HOST" --root "$RH_RUNC_ROOT" update --memory 96m --cpu-quota 25000 \
    --cpu-period 100000 --cpu-share 256 --pids-limit 77 "$id"
  [ "$status" -eq 0 ]
  [ "$(cat "$mem/memory.limit_in_bytes")" = $((96 << 20)) ]
  [ "$(cat "$cpu/cpu.cfs_quota_us")" = 25000 ]
  [ "$(cat "$cpu/cpu.shares")" = 256 ]
  [ "$(cat "$pids/pids.max")" = 77 ]

  # runc's -r: the LinuxResources JSON on stdin, as containerd's shim sends it.
  run rh_in_netns sh -c "echo '{\"memory\":{\"limit\":134217728},\"pids\":{\"limit\":-1},\"cpu\":{\"period\":0}}' |
    '$RUNSC_HOST' --root '$RH_RUNC_ROOT' update -r - '$id'"
  [ "$status" -eq 0 ]
  [ "$(cat "$mem/memory.limit_in_bytes")" = 134217728 ]
  [ "$(cat "$pids/pids.max")" = max ]

  # Refusals name the flag; nothing is written.
  run rh_in_netns "$RUNSC_HOST" --root "$RH_RUNC_ROOT" update --blkio-weight 100 "$id"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "update --blkio-weight is not supported"
  run rh_in_netns "$RUNSC_HOST" --root "$RH_RUNC_ROOT" update --memory 12x "$id"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" 'invalid size "12x"'
  [ "$(cat "$mem/memory.limit_in_bytes")" = 134217728 ]
  run rh_in_netns "$RUNSC_HOST" --root "$RH_RUNC_ROOT" update --memory 1g "$RH_NAME-nosuch"
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "does not exist"
}

@test "docker update --memory changes a running runsc-host container's limit" {
  rh_docker_start
  [[ -z $RH_SKIP_REASON ]] || skip "$RH_SKIP_REASON"
  local img name=$RH_NAME-dupd pid mem
  img=$(rh_docker_image busybox)
  run rh_docker run -d --name "$name" --runtime=runsc-host --net=host --memory 256m "$img" sleep 300
  rh_log "status $status: $output"
  [ "$status" -eq 0 ]
  run rh_docker update --memory 128m --memory-swap 256m "$name"
  rh_log "status $status: $output"
  [ "$status" -eq 0 ]
  run rh_docker inspect -f '{{.HostConfig.Memory}}' "$name"
  [ "$output" = $((128 << 20)) ]
  pid=$(rh_docker inspect -f '{{.State.Pid}}' "$name")
  mem=/sys/fs/cgroup/memory$(v1_group "$pid" memory)
  [ "$(cat "$mem/memory.limit_in_bytes")" = $((128 << 20)) ]
  rh_docker rm -f "$name" >/dev/null
}

@test "ps prints runc's columns, kill ID 0 probes, exec -d keeps its command's arguments" {
  local b=$RH_TMP/compat id
  id=$(rh_cid compat)
  rh_bundle_make "$b" '.process.args = ["/bin/sleep", "300"] | .process.env = ["PATH=/bin:/usr/bin"]'
  rh_cleanup_push "rh_in_netns '$RUNSC_HOST' --root '$RH_TMP/state' delete --force '$id' 2>/dev/null; true"
  rh_host create --bundle "$b" "$id" </dev/null >"$RH_TMP/compat.out" 2>&1
  rh_host start "$id"
  # runsc's exec --detach appends --pid-file to the command unless one is given.
  run rh_host exec -d "$id" /bin/sh -c 'echo exec-d-ran-with-$# >/tmp/mark; sleep 100' zero one
  [ "$status" -eq 0 ]
  for _ in $(seq 30); do
    run rh_host exec "$id" cat /tmp/mark
    [[ $output == *exec-d-ran-with-1* ]] && break
    sleep 0.2
  done
  [ "$output" = exec-d-ran-with-1 ]
  run rh_host ps "$id"
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]]
  [[ ${lines[1]} =~ ^root\ +1\ +0\ + ]]
  run rh_host kill "$id" 0
  [ "$status" -eq 0 ]
  run rh_host kill "$id" KILL
  [ "$status" -eq 0 ]
  for _ in $(seq 50); do [ "$(rh_host state "$id" | jq -r .status)" = stopped ] && break; sleep 0.2; done
  run rh_host kill "$id" 0
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "container not running"
  run rh_host kill --all "$id" 0
  [ "$status" -eq 0 ]
  run rh_host kill "$RH_NAME-nosuch" 0
  [ "$status" -eq 1 ]
  rh_assert_contains "$output" "does not exist"
  run rh_host foo -h
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "No help topic for 'foo'"
}

@test "events streams a running container's stats and ends, with status 0, once it is deleted" {
  local b=$RH_TMP/events id pid st
  id=$(rh_cid events)
  rh_bundle_make "$b" '.process.args = ["/bin/sleep", "300"] | .process.env = ["PATH=/bin:/usr/bin"]'
  rh_cleanup_push "rh_in_netns '$RUNSC_HOST' --root '$RH_TMP/state' delete --force '$id' 2>/dev/null; true"
  rh_host create --bundle "$b" "$id" </dev/null >"$RH_TMP/events.create" 2>&1
  rh_host start "$id"
  rh_host events --interval 1s "$id" >"$RH_TMP/events.log" 2>"$RH_TMP/events.err" &
  pid=$!
  rh_cleanup_push "kill $pid 2>/dev/null; true"
  for _ in $(seq 50); do grep -q "\"id\":\"$id\"" "$RH_TMP/events.log" && break; sleep 0.2; done
  head -n 1 "$RH_TMP/events.log" | jq -e --arg id "$id" '.type == "stats" and .id == $id'
  run rh_host delete --force "$id"
  [ "$status" -eq 0 ]
  # runsc alone keeps polling a deleted container for ever; runsc-host ends the stream.
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  run kill -0 "$pid"
  [ "$status" -ne 0 ]
  st=0
  wait "$pid" || st=$?
  cat "$RH_TMP/events.err"
  [ "$st" -eq 0 ]
}

@test "help has runc's layout: NAME:, then the runc name line, for the runtime and every runc command" {
  local c
  for a in -h --help; do
    run "$RUNSC_HOST" "$a"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "NAME:" ]
    [[ ${lines[1]} == "   runc - Open Container Initiative runtime"* ]]
  done
  for c in checkpoint create delete events exec kill list pause restore resume run spec start state update ps; do
    run "$RUNSC_HOST" "$c" -h
    echo "$c: $output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "NAME:" ]
    [[ ${lines[1]} == "   runc $c - "* ]]
    rh_assert_contains "$output" "runsc-host [global flags] $c"
  done
}

@test "run of a terminal spec without a console socket prints the container's output on stdout" {
  local b=$RH_TMP/ttyrun id
  id=$(rh_cid ttyrun)
  rh_bundle_make "$b"
  rm "$b/config.json"
  "$RUNSC_HOST" spec --bundle "$b"
  jq '.process.args = ["/bin/sh", "-c", "test -t 0 && echo on-a-terminal-$((6*7)); exit 5"]' "$b/config.json" >"$b/c.json"
  mv "$b/c.json" "$b/config.json"
  rh_cleanup_push "rh_in_netns '$RUNSC_HOST' --root '$RH_TMP/state' delete --force '$id' 2>/dev/null; true"
  # As runc: the container gets a terminal of its own, and what it prints reaches run's stdout
  # (a pipe here), with the container's exit status.
  run rh_host run --bundle "$b" "$id" </dev/null
  rh_log "status $status: $output"
  [ "$status" -eq 5 ]
  rh_assert_contains "$output" "on-a-terminal-42"
}
