#!/usr/bin/env bats
# [sandboxer] The sandboxer entrypoint (sandboxer/runsc-host-sandboxer, issue 13) run directly in
# this file's network namespace, with its own containerd under RH_TMP (SANDBOXER_ROOT), as it
# runs as PID 1 of the sandboxer container in Confidential Space: IMAGE pulled from a local
# registry (Debian's docker-registry on 127.0.0.1:5000 in the namespace) or imported from an
# oci-archive, run in gVisor with its EXPOSE ports opened and nothing else, the TEE socket out of
# reach, SIGTERM forwarded as the image's stop signal, the workload's exit code, nothing left;
# compose mode with two services and the refusals; bad IMAGEs fail clearly and in bounded time.

load lib.sh
load lib_net.sh
load lib_nerdctl.sh
load lib_sandboxer.sh

# The workload: httpd on 8080 (EXPOSEd) and on 8081 (not EXPOSEd); exits 7 on SIGTERM.
WEB_CMD='httpd -p 8081 -h /www; trap "exit 7" TERM; httpd -f -p 8080 -h /www & wait'

setup_file ()
{
  rh_setup_env sandboxer
  rh_nerd_env
  rh_sbx_env
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_require_binary "$RH_SBX_CHECK"
  rh_netns_create
  rh_net_outside_create
  rh_net_default_drop
  rh_tee_socket_start
  rh_sbx_policy
  rh_sbx_registry_start
  local tar
  tar=$(rh_image_tar sbxweb --expose 8080/tcp --cmd sh --cmd -c --cmd "$WEB_CMD")
  rh_sbx_push "$tar" test/web:1
  cp "$tar" "$RH_TMP/web.tar"
  tar=$(rh_image_tar sbxworker --expose 8090/tcp --cmd sh --cmd -c \
    --cmd 'trap "exit 0" TERM; httpd -f -p 8090 -h /www & wait')
  rh_sbx_push "$tar" test/worker:1
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
  [[ -z ${RH_SBX_PID:-} ]] || kill -TERM "$RH_SBX_PID" 2>/dev/null || true
  [[ -z ${RH_SBX_PID:-} ]] || rh_sbx_wait_exit 60 || true
}

# nerdctl against the sandboxer's own containerd (to look inside the running workload).
sbx_nerdctl ()
{
  timeout 60 nsenter --net="/run/netns/$RH_NETNS" "$RH_NERDCTL" \
    --address="$RH_SBX_ROOT/containerd/containerd.sock" --namespace="$RH_NS" \
    --data-root="$RH_SBX_ROOT/nerdctl" "$@"
}

http_outside ()
{
  nsenter --net="/run/netns/$RH_NET_OUT" curl -sS -m 3 "http://$RH_NET_IN_ADDR:$1/"
}

# A served page from outside: busybox httpd in gVisor sometimes closes the very first connection
# just after it starts listening ("Empty reply from server"), so up to three tries.
http_outside_ok ()
{
  local i
  for i in 1 2 3; do
    http_outside "$1" && return 0
    sleep 1
  done
  return 1
}

# The whole user-visible contract of one running workload, then SIGTERM.
check_workload_then_stop ()
{
  local want_rc=$1 out left
  rh_sbx_wait_ready 120
  rh_net_wait_listen 127.0.0.1 8080
  rh_net_wait_listen 127.0.0.1 8081
  # The EXPOSEd port is open to another namespace; the other one stays closed (the listener is
  # there, the firewall drops it).
  run http_outside_ok 8080
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "runsc-host test image"
  run http_outside 8081
  [ "$status" -ne 0 ]
  # Inside: gVisor's kernel, the variable Confidential Space gave the sandboxer, no TEE socket
  # (it exists on the host: rh_tee_socket_start).
  [ -S "$RH_TEE_SOCKET" ]
  run sbx_nerdctl exec sandboxer-workload sh -c \
    'uname -r; echo "FOO=$FOO IMAGE=${IMAGE:-unset}"; ls -la /run/container_launcher/teeserver.sock 2>&1; ls /run/container_launcher 2>&1'
  rh_refute_contains "$output" "$(uname -r)"
  rh_assert_contains "$output" "FOO=bar baz IMAGE=unset"
  rh_assert_contains "$output" "No such file or directory"
  rh_refute_contains "$output" "srw"
  # SIGTERM to the entrypoint: the workload gets its stop signal and exits with its own code.
  kill -TERM "$RH_SBX_PID"
  rh_sbx_wait_exit 60
  out=$(cat "$RH_SBX_OUT")
  [ "$RH_SBX_RC" -eq "$want_rc" ] || { echo "$out" >&2; return 1; }
  rh_assert_contains "$out" "SIGTERM received"
  # The last line is the summary.
  run tail -n 1 "$RH_SBX_OUT"
  [[ $output == *"sandboxer: summary: "*"digest=sha256:"*"ports=8080/tcp runtime=runsc-host runsc="*"policy=sha256:"*"exit=$want_rc" ]]
  # Nothing left: no process, no state, no rule, no mount; the port is closed again.
  left=$(rh_sbx_left)
  [ -z "$left" ] || { echo "left behind: $left" >&2; return 1; }
  run http_outside 8080
  [ "$status" -ne 0 ]
  RH_SBX_PID=
}

@test "IMAGE from a registry: pulled, run in gVisor; its EXPOSE port is reachable, no other; no TEE socket; SIGTERM gives the workload's exit code; nothing left" {
  rh_sbx_start IMAGE=127.0.0.1:5000/test/web:1 SANDBOXER_INSECURE_REGISTRY=1 "FOO=bar baz" --
  check_workload_then_stop 7
  rh_assert_contains "$(cat "$RH_SBX_OUT")" "pulling 127.0.0.1:5000/test/web:1"
}

@test "IMAGE=oci-archive: imported and run the same way; the sandboxer's arguments replace the image's Cmd" {
  rh_sbx_start IMAGE="oci-archive:$RH_TMP/web.tar" "FOO=bar baz" -- \
    sh -c "echo args-from-the-sandboxer; $WEB_CMD"
  check_workload_then_stop 7
  rh_assert_contains "$(cat "$RH_SBX_OUT")" "args-from-the-sandboxer"
}

@test "a bad IMAGE fails clearly, non-zero, in bounded time, leaving nothing: no such image, unreachable registry, corrupt archive, not a reference" {
  local t0 out
  printf 'not a tar file\n' >"$RH_TMP/corrupt.tar"
  for case in "127.0.0.1:5000/test/nope:1|pull failed" "127.0.0.1:5999/test/web:1|pull failed" \
    "oci-archive:$RH_TMP/corrupt.tar|import failed" "oci-archive:$RH_TMP/missing.tar|no such file" \
    "-v|is not an image reference"; do
    t0=$SECONDS
    rh_sbx_start "IMAGE=${case%%|*}" SANDBOXER_INSECURE_REGISTRY=1 SANDBOXER_PULL_TIMEOUT=30 --
    rh_sbx_wait_exit 60
    out=$(cat "$RH_SBX_OUT")
    ((RH_SBX_RC != 0)) || { echo "$out" >&2; return 1; }
    ((SECONDS - t0 < 45))
    rh_assert_contains "$out" "error: "
    rh_assert_contains "$out" "${case##*|}"
    [ -z "$(rh_sbx_left)" ]
  done
  RH_SBX_PID=
}

@test "compose: two services forced onto runsc-host, each image's EXPOSE port opened; SIGTERM stops both; nothing left" {
  cat >"$RH_TMP/compose.yml" <<'EOF2'
services:
  web:
    image: 127.0.0.1:5000/test/web:1
    network_mode: host
  worker:
    image: 127.0.0.1:5000/test/worker:1
    network_mode: host
    runtime: runsc-host
EOF2
  rh_sbx_start COMPOSE_FILE="$RH_TMP/compose.yml" SANDBOXER_INSECURE_REGISTRY=1 \
    SANDBOXER_NETCONF="$RH_SOURCE_DIR/config/nerdctl/net.d/bridge.conflist" --
  rh_sbx_wait_ready 180
  rh_net_wait_listen 127.0.0.1 8080
  rh_net_wait_listen 127.0.0.1 8090
  run http_outside_ok 8080
  rh_assert_contains "$output" "runsc-host test image"
  run http_outside_ok 8090
  rh_assert_contains "$output" "runsc-host test image"
  run http_outside 8081
  [ "$status" -ne 0 ]
  # Both in gVisor (web names no runtime: the "runc" alias is runsc-host).
  local c
  for c in $(sbx_nerdctl ps -q); do
    run sbx_nerdctl exec "$c" uname -r
    rh_refute_contains "$output" "$(uname -r)"
  done
  [ "$(sbx_nerdctl ps -q | wc -l)" -eq 2 ]
  kill -TERM "$RH_SBX_PID"
  rh_sbx_wait_exit 90
  # web exits 7 on SIGTERM, worker 0: the first non-zero code.
  [ "$RH_SBX_RC" -eq 7 ] || { cat "$RH_SBX_OUT" >&2; return 1; }
  run tail -n 1 "$RH_SBX_OUT"
  rh_assert_contains "$output" "ports=web=8080/tcp,worker=8090/tcp"
  [ -z "$(rh_sbx_left)" ]
  RH_SBX_PID=
}

@test "compose: another runtime, privileged, a protected host path are refused before anything starts, naming the service and the key" {
  mkdir -p "$RH_TMP/ok-dir"
  ln -sfn /run "$RH_TMP/sneaky"
  cat >"$RH_TMP/bad.yml" <<EOF2
services:
  fine:
    image: 127.0.0.1:5000/test/web:1
    network_mode: host
    volumes: ["$RH_TMP/ok-dir:/data"]
  other:
    image: 127.0.0.1:5000/test/web:1
    network_mode: host
    runtime: runc
  priv:
    image: 127.0.0.1:5000/test/web:1
    network_mode: host
    privileged: true
  tee:
    image: 127.0.0.1:5000/test/web:1
    network_mode: host
    volumes: ["/run/container_launcher/teeserver.sock:/tee.sock"]
  link:
    image: 127.0.0.1:5000/test/web:1
    network_mode: host
    volumes:
      - type: bind
        source: $RH_TMP/sneaky
        target: /host-run
EOF2
  rh_sbx_start COMPOSE_FILE="$RH_TMP/bad.yml" SANDBOXER_INSECURE_REGISTRY=1 \
    SANDBOXER_NETCONF="$RH_SOURCE_DIR/config/nerdctl/net.d/bridge.conflist" --
  rh_sbx_wait_exit 90
  local out
  out=$(cat "$RH_SBX_OUT")
  [ "$RH_SBX_RC" -ne 0 ]
  rh_assert_contains "$out" 'compose service other: runtime "runc" refused (key runtime)'
  rh_assert_contains "$out" "compose service priv: privileged refused (key privileged)"
  rh_assert_contains "$out" "compose service tee: volume source /run/container_launcher/teeserver.sock refused (key volumes)"
  rh_assert_contains "$out" "protected by policy (protected_paths)"
  rh_assert_contains "$out" "compose service link: volume source $RH_TMP/sneaky refused (key volumes)"
  rh_refute_contains "$out" "compose service fine"
  # Nothing started: no pull, no container.
  rh_refute_contains "$out" "pulling"
  rh_refute_contains "$out" "running"
  [ -z "$(rh_sbx_left)" ]
  RH_SBX_PID=
}
