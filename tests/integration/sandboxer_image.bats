#!/usr/bin/env bats
# [sandboxer] The sandboxer image itself (scripts/build-image.sh), started by containerd as
# Confidential Space starts it: a container in a container. The test's containerd (the pinned 2.x)
# runs the image with runc, privileged, on the test namespace's host network, with the TEE dir and
# the host's cgroup tree bound in; inside, the entrypoint starts its own containerd and runs the
# customer image in gVisor with runsc-host.

load lib.sh
load lib_net.sh
load lib_nerdctl.sh
load lib_sandboxer.sh

WEB_CMD='httpd -p 8081 -h /www; trap "exit 7" TERM; httpd -f -p 8080 -h /www & wait'

setup_file ()
{
  rh_setup_env sbximage
  rh_nerd_env
  rh_sbx_env
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_netns_create
  rh_net_outside_create
  rh_net_default_drop
  rh_tee_socket_start
  rh_nerd_policy
  rh_nerd_containerd_start
  "$RH_SOURCE_DIR/scripts/build-image.sh" --work "$RH_TMP/image-build" "$RH_TMP/sandboxer.tar" \
    >"$RH_TMP/build-image.log" 2>&1 || { cat "$RH_TMP/build-image.log" >&2; return 1; }
  mkdir -p "$RH_TMP/images"
  cp "$(rh_image_tar sbxweb --expose 8080/tcp --cmd sh --cmd -c --cmd "$WEB_CMD")" "$RH_TMP/images/web.tar"
  rh_ctr images import --snapshotter native "$RH_TMP/sandboxer.tar" >/dev/null
}

teardown_file ()
{
  rh_teardown
}

setup ()
{
  rh_skip_if_unavailable
}

@test "the sandboxer image, run by containerd with runc (privileged, host network), runs IMAGE in gVisor: EXPOSE port open, others closed, no TEE socket, SIGTERM -> exit code" {
  local id out
  id=$(rh_cid cic)
  rh_cleanup_push "rh_container_cleanup $id"
  rh_in_netns timeout 300 ctr --address "$RH_CTRD_SOCK" -n "$RH_NS" run --rm --privileged --net-host \
    --snapshotter native \
    --mount "type=bind,src=$RH_TMP/images,dst=/images,options=rbind:ro" \
    --mount "type=bind,src=$RH_TEE_DIR,dst=/run/container_launcher,options=rbind:rw" \
    --mount "type=bind,src=/sys/fs/cgroup,dst=/sys/fs/cgroup,options=rbind:rw" \
    --env IMAGE=oci-archive:/images/web.tar --env FOO=bar \
    runsc-host-sandboxer:latest "$id" >"$RH_TMP/cic.out" 2>&1 &
  local pid=$! i
  for ((i = 0; i < 600; i++)); do
    grep -q 'sandboxer: ready:' "$RH_TMP/cic.out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  grep -q 'sandboxer: ready:' "$RH_TMP/cic.out" || { cat "$RH_TMP/cic.out" >&2; return 1; }
  rh_net_wait_listen 127.0.0.1 8080
  rh_net_wait_listen 127.0.0.1 8081
  # The sandboxer itself sees the TEE socket (Confidential Space mounts it in); its workload not.
  run rh_ctr task exec --exec-id probe1 "$id" ls /run/container_launcher
  rh_assert_contains "$output" "teeserver.sock"
  run rh_ctr task exec --exec-id probe2 "$id" nerdctl --namespace=sandboxer exec sandboxer-workload \
    sh -c 'uname -r; echo "FOO=$FOO"; ls /run/container_launcher 2>&1'
  rh_refute_contains "$output" "teeserver.sock"
  rh_assert_contains "$output" "FOO=bar"
  rh_refute_contains "$output" "$(uname -r)"
  for i in 1 2 3; do
    out=$(nsenter --net="/run/netns/$RH_NET_OUT" curl -sS -m 3 "http://$RH_NET_IN_ADDR:8080/") && break
    sleep 1
  done
  rh_assert_contains "$out" "runsc-host test image"
  run nsenter --net="/run/netns/$RH_NET_OUT" curl -sS -m 3 "http://$RH_NET_IN_ADDR:8081/"
  [ "$status" -ne 0 ]
  # SIGTERM to PID 1 of the sandboxer container, as the launcher stops it.
  rh_ctr task kill -s SIGTERM "$id"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 7 ] || { cat "$RH_TMP/cic.out" >&2; return 1; }
  out=$(tail -n 1 "$RH_TMP/cic.out")
  [[ $out == *"summary: image=oci-archive:/images/web.tar digest=sha256:"*"ports=8080/tcp runtime=runsc-host"*"exit=7" ]]
  # Nothing left: the rules are gone, the port is closed, no task.
  [ -z "$(rh_net_ours)" ]
  run nsenter --net="/run/netns/$RH_NET_OUT" curl -sS -m 3 "http://$RH_NET_IN_ADDR:8080/"
  [ "$status" -ne 0 ]
  run rh_ctr task ls -q
  rh_refute_contains "$output" "$id"
}
