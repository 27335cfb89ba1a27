#!/usr/bin/env bats
# [runtime] docker with runsc-host (issue 5): a dockerd of our own (lib_docker.sh) in this
# file's network namespace, on our own containerd, with `--add-runtime runsc-host=<built
# runsc-host>`. Each test checks what a docker user sees: the kernel the workload runs on,
# files inside the container, `docker logs`, the restart count, the limits the sandbox gets.

load lib.sh
load lib_docker.sh

setup_file ()
{
  rh_setup_env docker
  rh_docker_env
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_policy_write
  rh_tee_socket_start
  rh_containerd_start
  rh_docker_start
  [[ -z $RH_SKIP_REASON ]] || return 0
  export IMG
  IMG=$(rh_docker_image busybox)
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

# docker run in gVisor through runsc-host, host network.
grun ()
{
  rh_docker run --runtime=runsc-host --net=host "$@"
}

name ()
{
  printf '%s-%s\n' "$RH_NAME" "${1:?}"
}

@test "docker run --runtime=runsc-host --net=host runs in gVisor with the TEE socket stripped" {
  local host_kernel
  host_kernel=$(uname -r)
  [ -S "$RH_TEE_SOCKET" ]
  # Control: docker's default runtime (runc) runs on the host kernel.
  run rh_docker run --rm --net=host "$IMG" uname -r
  [ "$status" -eq 0 ]
  [ "$output" = "$host_kernel" ]

  run grun --rm -v "$RH_TEE_DIR:/run/container_launcher:ro" -v "$RH_TEE_SOCKET:/tee.sock" "$IMG" sh -c '
    uname -r
    for p in /run/container_launcher/teeserver.sock /tee.sock; do
      if test -e $p; then echo "TEE PRESENT $p"; fi
    done
    echo done'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != "$host_kernel" ]
  rh_assert_contains "$output" "done"
  rh_refute_contains "$output" "TEE PRESENT"
}

@test "a policy refusal reaches the docker user, and nothing is left running" {
  rh_policy_write '.protected_mount_action = "deny"'
  run grun --rm --name "$(name deny)" -v "$RH_TEE_SOCKET:/tee.sock" "$IMG" true
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "mount of $RH_TEE_SOCKET denied by policy (protected_paths)"
  run rh_docker ps -aq --filter "name=$(name deny)"
  [ -z "$output" ]
  [ -z "$(pgrep -f -- "runsc.*--root[= ]$RH_DOCKER_DIR/exec/runtime-runsc-host")" ]
}

@test "docker exec and docker logs work" {
  local c
  c=$(name exec)
  grun -d --name "$c" "$IMG" sh -c 'echo started-$(uname -r); while :; do sleep 1; done'
  run rh_docker exec "$c" sh -c 'echo hello > /tmp/f; cat /tmp/f; uname -r'
  local ex=$output exst=$status
  run rh_docker exec -e WHO=world -w /tmp "$c" sh -c 'echo "$WHO in $(pwd)"; exit 5'
  local ex2=$output ex2st=$status
  local logs
  logs=$(rh_docker logs "$c" 2>&1)
  rh_docker rm -f "$c" >/dev/null
  echo "exec: $exst $ex | $ex2st $ex2 | logs: $logs"
  [ "$exst" -eq 0 ]
  rh_assert_contains "$ex" "hello"
  [ "$(echo "$ex" | tail -n 1)" != "$(uname -r)" ]
  [ "$ex2st" -eq 5 ]
  [ "$ex2" = "world in /tmp" ]
  rh_assert_contains "$logs" "started-"
  rh_refute_contains "$logs" "started-$(uname -r)"
}

@test "--restart=on-failure:2 restarts a failing container twice, then leaves it stopped" {
  local c i st
  c=$(name restart)
  grun -d --name "$c" --restart=on-failure:2 "$IMG" sh -c 'echo attempt-$(uname -r); exit 3'
  for ((i = 0; i < 150; i++)); do
    st=$(rh_docker inspect -f '{{.State.Status}} {{.RestartCount}}' "$c")
    [ "$st" = "exited 2" ] && break
    sleep 0.2
  done
  sleep 2 # a third restart would show up by now
  st=$(rh_docker inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' "$c")
  local logs
  logs=$(rh_docker logs "$c" 2>&1)
  rh_docker rm -f "$c" >/dev/null
  echo "state: $st"
  echo "logs: $logs"
  [ "$st" = "exited 2 3" ]
  [ "$(echo "$logs" | grep -c '^attempt-')" -eq 3 ]
  rh_refute_contains "$logs" "attempt-$(uname -r)"
}

@test "a named volume keeps its data across a container restart" {
  local c v
  c=$(name vol)
  v=$(name data)
  rh_docker volume create "$v" >/dev/null
  grun -d --name "$c" -v "$v:/data" "$IMG" sh -c '
    if test -f /data/boot; then echo second-boot; else echo first-boot; fi
    date >> /data/boot; while :; do sleep 1; done'
  rh_docker exec "$c" sh -c 'echo kept > /data/f'
  rh_docker restart -t 1 "$c" >/dev/null
  run rh_docker exec "$c" cat /data/f
  local after=$output
  local logs
  logs=$(rh_docker logs "$c" 2>&1)
  rh_docker rm -f "$c" >/dev/null
  # Another container sees the same data.
  run grun --rm -v "$v:/data" "$IMG" sh -c 'cat /data/f; wc -l < /data/boot'
  local other=$output
  rh_docker volume rm "$v" >/dev/null
  echo "after restart: $after; logs: $logs; other: $other"
  [ "$after" = "kept" ]
  rh_assert_contains "$logs" "first-boot"
  rh_assert_contains "$logs" "second-boot"
  [ "$(echo "$other" | head -n 1)" = "kept" ]
  [ "$(echo "$other" | tail -n 1 | tr -d ' ')" = "2" ]
}

@test "--memory and --cpus limit the sandbox" {
  local c pid cg mem quota period meminfo
  c=$(name limits)
  grun -d --name "$c" --memory 96m --cpus 0.5 "$IMG" sh -c 'while :; do sleep 1; done'
  pid=$(rh_docker inspect -f '{{.State.Pid}}' "$c")
  # Inside: gVisor sizes the sandbox's memory to the limit.
  meminfo=$(rh_docker exec "$c" grep MemTotal /proc/meminfo)
  # Outside: the sandbox process sits in cgroups that carry the limits.
  cg=$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
  mem=$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")
  cg=$(awk -F: '$2 == "cpu" || $2 == "cpu,cpuacct" {print $3}' "/proc/$pid/cgroup")
  quota=$(cat /sys/fs/cgroup/cpu*"$cg"/cpu.cfs_quota_us | head -n 1)
  period=$(cat /sys/fs/cgroup/cpu*"$cg"/cpu.cfs_period_us | head -n 1)
  rh_docker rm -f "$c" >/dev/null
  echo "meminfo: $meminfo; memory cgroup limit: $mem; cpu quota: $quota/$period"
  [ "$mem" -eq $((96 * 1024 * 1024)) ]
  [ "$(echo "$meminfo" | awk '{print $2}')" -eq $((96 * 1024)) ]
  [ "$((quota * 100 / period))" -eq 50 ]
}
