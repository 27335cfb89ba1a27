#!/usr/bin/env bats
# [nerdctl] `nerdctl compose up -d` / `down -v` with runsc-host (issue 12): a three-service app
# (a web server, a client, a worker) sharing a named volume, all in gVisor, on the pinned
# containerd 2.x. The web service says `runtime: runsc-host`; the client names no runtime; the
# worker says `runtime: runc`. "runc" alias mode forces the last two onto runsc-host: a `runc`
# that is runsc-host comes first in PATH, both for nerdctl (which resolves a compose `runtime:`
# in its own PATH) and for containerd (whose runc shim runs `runc` from its PATH when no runtime
# is named). The sandboxer image installs runsc-host as /usr/local/sbin/runc for the same effect.

load lib.sh
load lib_net.sh
load lib_nerdctl.sh

PORT=18290

setup_file ()
{
  rh_setup_env nerdcompose
  rh_nerd_env
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_nerd_policy '.runsc.platform = "auto"'
  mkdir -p "$RH_TMP/alias" "$RH_TMP/app"
  ln -s "$RUNSC_HOST" "$RH_TMP/alias/runc"
  export PATH="$RH_TMP/alias:$PATH"
  RH_NERD_NETCONF=1 rh_nerd_containerd_start
  rh_nerd_load busybox
  write_app >"$RH_TMP/app/compose.yaml"
}

teardown_file ()
{
  rh_teardown
}

setup ()
{
  rh_skip_if_unavailable
}

write_app ()
{
  local img
  img=$(rh_image_ref busybox)
  cat <<EOF
services:
  web:
    image: $img
    pull_policy: never
    runtime: runsc-host
    network_mode: host
    volumes:
      - appdata:/srv
    command: ["sh", "-c", "echo web on \$\$(uname -r) > /srv/index.html; exec httpd -f -p $PORT -h /srv"]
  client:
    image: $img
    pull_policy: never
    network_mode: host
    volumes:
      - appdata:/srv
    command:
      - sh
      - -c
      - |
        while :; do
          printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc 127.0.0.1 $PORT > /srv/client.tmp 2>&1 &&
            { echo "client on \$\$(uname -r) fetched:"; cat /srv/client.tmp; } > /srv/client.txt
          sleep 0.5
        done
  worker:
    image: $img
    pull_policy: never
    runtime: runc
    network_mode: host
    volumes:
      - appdata:/srv
    command: ["sh", "-c", "echo worker on \$\$(uname -r) > /srv/worker.txt; exec sleep 600"]
volumes:
  appdata: {}
EOF
}

compose ()
{
  rh_nerdctl compose -f "$RH_TMP/app/compose.yaml" -p rhapp "$@"
}

@test "nerdctl compose up -d: three services, one volume, all in gVisor, reachable" {
  compose up -d
  rh_net_wait_listen 127.0.0.1 "$PORT"
  local i out
  for ((i = 0; i < 100; i++)); do
    out=$(rh_in_netns curl -sS --max-time 2 "http://127.0.0.1:$PORT/client.txt" 2>/dev/null || true)
    [[ $out == *"web on"* ]] && break
    sleep 0.2
  done
  rh_assert_contains "$out" "client on"
  rh_assert_contains "$out" "web on"
  run rh_in_netns curl -sS --max-time 2 "http://127.0.0.1:$PORT/worker.txt"
  rh_assert_contains "$output" "worker on"
  # Every service's kernel is gVisor's, whatever runtime its compose entry named.
  rh_refute_contains "$out$output" "on $(uname -r)"
  local name id
  for name in web client worker; do
    id=$(rh_nerdctl ps -q --no-trunc --filter "label=com.docker.compose.service=$name")
    [ -n "$id" ]
    [ -n "$(rh_runsc_pids "$id")" ] || { rh_log "$name ($id) has no runsc sandbox"; return 1; }
  done
}

@test "nerdctl compose down -v leaves no container, volume, sandbox, rule or mount" {
  local ids
  ids=$(rh_nerdctl ps -a -q --no-trunc)
  [ -n "$ids" ]
  compose down -v
  [ -z "$(rh_nerdctl ps -a -q)" ]
  run rh_nerdctl volume ls -q
  rh_refute_contains "$output" "appdata"
  local id
  for id in $ids; do
    rh_assert_nothing_running "$id"
  done
  run rh_net_ours
  rh_refute_contains "$output" "RH-I-"
  rh_refute_contains "$output" "RH-E-"
  [ -z "$(findmnt -rn -o TARGET | grep -F "$RH_TMP/" || true)" ]
  run rh_net_probe_inside 127.0.0.1 "$PORT"
  [ "$status" -ne 0 ]
}
