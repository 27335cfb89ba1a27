#!/usr/bin/env bats
# [runtime] docker-compose with runsc-host (issue 5): docker-compose 1.29 (file format 2.4)
# against a dockerd of our own (lib_docker.sh) in this file's network namespace. A two-service
# app comes up in gVisor, serves over loopback, survives a crash through its restart policy,
# and comes down leaving nothing behind. Then "runc" alias mode: a service that says
# `runtime: runc` lands in gVisor all the same. containerd runs with an alias dir first in its
# PATH; a `runc` -> runsc-host link appears there only while the alias test needs it (the
# sandboxer image installs runsc-host as runc for good).

load lib.sh
load lib_docker.sh

API_PORT=18081
WEB_PORT=18080

setup_file ()
{
  rh_setup_env compose
  rh_docker_env
  if [[ -z $RH_SKIP_REASON ]] && ! rh_compose_available; then
    RH_SKIP_REASON="docker-compose is not installed ($RH_COMPOSE_BIN; apt-get install docker-compose)"
  fi
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_policy_write
  export RH_ALIAS_DIR=$RH_TMP/alias
  mkdir -p "$RH_ALIAS_DIR"
  PATH="$RH_ALIAS_DIR:$PATH" rh_containerd_start
  rh_docker_start
  [[ -z $RH_SKIP_REASON ]] || return 0
  export IMG
  IMG=$(rh_docker_image busybox)
  mkdir -p "$RH_TMP/app" "$RH_TMP/alias-app"
  write_app >"$RH_TMP/app/docker-compose.yml"
  write_alias_app >"$RH_TMP/alias-app/docker-compose.yml"
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
  [[ -z ${RH_TMP:-} || ! -d ${RH_TMP:-} ]] || rm -f "$RH_ALIAS_DIR/runc"
  return 0
}

# api: writes a page naming the kernel it runs on and serves it; exits 1 when told to crash.
# web: fetches the api's page over loopback every half second and serves it. (nc, not busybox
# wget: under this gVisor's host network, busybox wget fails to read any response with
# "error getting response: Resource temporarily unavailable", and segfaults with -T.)
write_app ()
{
  cat <<EOF
version: "2.4"
services:
  api:
    image: $IMG
    runtime: runsc-host
    network_mode: host
    restart: on-failure
    volumes:
      - apidata:/srv
    command:
      - sh
      - -c
      - |
        echo "api on \$\$(uname -r), boot \$\$(date +%s%N)" > /srv/index.html
        httpd -p 127.0.0.1:$API_PORT -h /srv
        while [ ! -f /srv/crash ]; do sleep 0.2; done
        rm -f /srv/crash
        exit 1
  web:
    image: $IMG
    runtime: runsc-host
    network_mode: host
    restart: on-failure
    depends_on:
      - api
    command:
      - sh
      - -c
      - |
        mkdir -p /www
        while :; do
          printf 'GET / HTTP/1.0\r\n\r\n' | nc 127.0.0.1 $API_PORT | grep '^api on ' >/www/next &&
            mv /www/next /www/index.html
          sleep 0.5
        done &
        exec httpd -f -p 127.0.0.1:$WEB_PORT -h /www
volumes:
  apidata:
EOF
}

write_alias_app ()
{
  cat <<EOF
version: "2.4"
services:
  probe:
    image: $IMG
    runtime: runc
    network_mode: host
    command: ["sh", "-c", "echo kernel=\$\$(uname -r)"]
EOF
}

app ()
{
  rh_compose -f "$RH_TMP/app/docker-compose.yml" "$@"
}

# The page web serves, as a client in the test namespace sees it.
web_page ()
{
  rh_in_netns curl -fsS --max-time 2 "http://127.0.0.1:$WEB_PORT/" 2>/dev/null
}

wait_page ()
{
  local want=$1 i page
  for ((i = 0; i < 100; i++)); do
    page=$(web_page) && [[ $page == *"$want"* ]] && { echo "$page"; return 0; }
    sleep 0.2
  done
  echo "last page: ${page:-none}"
  return 1
}

# What must be back to its state before `up`: containers, volumes, networks, sandboxes, rules.
snapshot ()
{
  echo "containers: $(rh_docker ps -aq | sort | tr '\n' ' ')"
  echo "volumes: $(rh_docker volume ls -q | sort | tr '\n' ' ')"
  echo "networks: $(rh_docker network ls --format '{{.Name}}' | sort | tr '\n' ' ')"
  echo "sandboxes: $(pgrep -f -- "runsc.*--root[= ]$RH_DOCKER_DIR/exec/" | tr '\n' ' ')"
  echo "rules: $(container_rules iptables-save) $(container_rules ip6tables-save)"
}

# Per-container firewall state: every chain and rule except the runsc-host base chains and
# their jumps, which the hook creates once and keeps (lib/net/netrules.h).
container_rules ()
{
  rh_in_netns "$1" 2>/dev/null | grep -E '^(:|-A )' |
    grep -vE '^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING|RUNSC-HOST-INPUT|RUNSC-HOST-OUTPUT) ' |
    grep -vxE -- '-A (INPUT -j RUNSC-HOST-INPUT|OUTPUT -j RUNSC-HOST-OUTPUT)' | tr '\n' ' '
}

@test "compose: a two-service app comes up in gVisor, serves over loopback, restarts, and comes down clean" {
  local host_kernel before after page api web
  host_kernel=$(uname -r)
  before=$(snapshot)

  run app up -d
  echo "$output"
  [ "$status" -eq 0 ]
  api=$(app ps -q api)
  web=$(app ps -q web)
  [ -n "$api" ] && [ -n "$web" ]
  [ "$(rh_docker inspect -f '{{.HostConfig.Runtime}} {{.HostConfig.NetworkMode}}' "$api")" = "runsc-host host" ]
  [ "$(rh_docker inspect -f '{{.HostConfig.Runtime}} {{.HostConfig.NetworkMode}}' "$web")" = "runsc-host host" ]

  # web serves what it fetched from api over loopback; api says it runs on gVisor's kernel.
  page=$(wait_page "api on ")
  echo "page: $page"
  rh_refute_contains "$page" "api on $host_kernel"
  run rh_docker exec "$web" uname -r
  [ "$output" != "$host_kernel" ]

  # The restart policy: api crashes (exit 1), docker restarts it, web serves its new boot.
  local first_boot=$page i st
  rh_docker exec "$api" touch /srv/crash
  for ((i = 0; i < 150; i++)); do
    st=$(rh_docker inspect -f '{{.State.Status}} {{.RestartCount}}' "$api")
    [ "$st" = "running 1" ] && break
    sleep 0.2
  done
  echo "api after crash: $st"
  [ "$st" = "running 1" ]
  for ((i = 0; i < 100; i++)); do
    page=$(web_page) && [[ $page == "api on "* && $page != "$first_boot" ]] && break
    sleep 0.2
  done
  echo "page after restart: $page"
  [[ $page == "api on "* && $page != "$first_boot" ]]
  local during
  during=$(snapshot)
  echo "while up: $during"
  # The hook gave each sandbox its egress rules (so "no rules left" below means something).
  rh_assert_contains "$during" "runsc-host:$(rh_docker inspect -f '{{.Id}}' "$api")"
  rh_assert_contains "$during" "runsc-host:$(rh_docker inspect -f '{{.Id}}' "$web")"
  # ... and the cgroups those rules match on.
  local cgroups
  cgroups=$(echo "$during" | grep -o -- '--path "[^"]*"' | cut -d'"' -f2)
  # The volume is shared state: the page api wrote is in it.
  run rh_docker volume ls -q
  rh_assert_contains "$output" "${RH_COMPOSE_PROJECT}_apidata"

  run app down -v --timeout 2
  echo "$output"
  [ "$status" -eq 0 ]
  after=$(snapshot)
  echo "before: $before"
  echo "after:  $after"
  [ "$after" = "$before" ]
  local cg
  for cg in $cgroups; do
    [ ! -d "/sys/fs/cgroup/unified$cg" ] && [ ! -d "/sys/fs/cgroup$cg" ] || {
      echo "cgroup $cg left behind"
      false
    }
  done
  run web_page
  [ "$status" -ne 0 ]
}

@test "compose in alias mode: a service that says runtime: runc still lands in gVisor" {
  local host_kernel probe
  host_kernel=$(uname -r)
  # Control: without the alias, runtime: runc is the real runc, on the host kernel.
  run rh_compose -f "$RH_TMP/alias-app/docker-compose.yml" up --exit-code-from probe
  echo "$output"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "kernel=$host_kernel"
  rh_compose -f "$RH_TMP/alias-app/docker-compose.yml" down -v --timeout 2 >/dev/null 2>&1

  # Alias mode: `runc`, as the runc shim finds it in containerd's PATH, is runsc-host.
  ln -s "$RUNSC_HOST" "$RH_ALIAS_DIR/runc"
  run rh_compose -f "$RH_TMP/alias-app/docker-compose.yml" up --exit-code-from probe
  echo "$output"
  local st=$status out=$output
  probe=$(rh_compose -f "$RH_TMP/alias-app/docker-compose.yml" ps -q probe)
  local runtime
  runtime=$(rh_docker inspect -f '{{.HostConfig.Runtime}}' "$probe")
  rh_compose -f "$RH_TMP/alias-app/docker-compose.yml" down -v --timeout 2 >/dev/null 2>&1
  [ "$st" -eq 0 ]
  [ "$runtime" = "runc" ] # compose really asked for runc
  rh_assert_contains "$out" "kernel="
  rh_refute_contains "$out" "kernel=$host_kernel"
}
