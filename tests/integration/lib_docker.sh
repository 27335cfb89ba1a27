# shellcheck shell=bash
# tests/integration/lib_docker.sh — dockerd and docker-compose on top of lib.sh.
#
# Load after lib (`load lib; load lib_docker`). dockerd runs inside the test's network
# namespace (nsenter --net, like containerd), against the test's own containerd, with every
# directory it writes under RH_TMP, and no firewall, bridge or forwarding changes of its own.
#
#   rh_docker_start [DOCKERD-ARGS...]  Start dockerd: --data-root/--exec-root under RH_TMP, a
#                        socket RH_DOCKER_SOCK, --containerd RH_CTRD_SOCK (namespace RH_DOCKER_NS),
#                        --add-runtime runsc-host=RUNSC_HOST, --iptables=false --ip6tables=false
#                        --bridge=none --ip-forward=false --ip-masq=false, cgroup parent
#                        /RH_DOCKER_CGROUP (removed on stop), its own --config-file
#                        (so /etc/docker is never read nor written). Storage driver: overlay2,
#                        else vfs (RH_DOCKER_STORAGE overrides). Its environment's PATH is the
#                        caller's: for alias mode, put the alias dir first when calling.
#                        Sets RH_SKIP_REASON when dockerd or the client is missing, or when
#                        dockerd does not start here at all (with its first error line).
#   rh_docker_stop       Remove our containers and volumes, stop dockerd, kill leftover shims.
#   rh_docker ARGS...    /usr/bin/docker (the 20.10 client, never /usr/local/bin/docker) on our
#                        socket, bounded by RH_CTR_TIMEOUT.
#   rh_docker_image NAME Import the harness's busybox image NAME into dockerd (`docker import`
#                        of its rootfs layer); prints its reference.
#   rh_compose ARGS...   docker-compose 1.29 on our socket (DOCKER_HOST), project RH_COMPOSE_PROJECT.
#   rh_docker_wait_state CONTAINER STATUS [SECS]  Wait until .State.Status is STATUS.

: "${RH_DOCKER_BIN:=/usr/bin/docker}"
: "${RH_DOCKERD_BIN:=$(command -v dockerd 2>/dev/null || echo /usr/sbin/dockerd)}"
: "${RH_COMPOSE_BIN:=$(command -v docker-compose 2>/dev/null || echo /usr/bin/docker-compose)}"
export RH_DOCKER_BIN RH_DOCKERD_BIN RH_COMPOSE_BIN

# Set names; sets RH_SKIP_REASON (keeping an earlier one) when a docker component is missing.
rh_docker_env ()
{
  [[ -n ${RH_TMP:-} ]] || return 0
  export RH_DOCKER_DIR=$RH_TMP/docker
  export RH_DOCKER_SOCK=$RH_DOCKER_DIR/docker.sock
  export RH_DOCKER_LOG=$RH_TMP/dockerd.log
  export RH_DOCKER_NS=$RH_NS-docker
  export RH_COMPOSE_PROJECT=${RH_NAME//-/}
  # Containers' cgroups go under a parent of our own (not the shared /docker), removed on stop.
  export RH_DOCKER_CGROUP=$RH_NAME-docker
  # Keep the client away from ~/.docker.
  export DOCKER_CONFIG=$RH_DOCKER_DIR/client
  [[ -z ${RH_SKIP_REASON:-} ]] || return 0
  local b missing=()
  for b in "$RH_DOCKERD_BIN" "$RH_DOCKER_BIN"; do
    [[ -x $b ]] || missing+=("$b")
  done
  if ((${#missing[@]})); then
    RH_SKIP_REASON="docker is not installed: missing ${missing[*]} (apt-get install docker.io)"
  fi
}

rh_compose_available ()
{
  [[ -x $RH_COMPOSE_BIN ]]
}

rh_docker ()
{
  timeout --foreground -k 5 "$RH_CTR_TIMEOUT" "$RH_DOCKER_BIN" -H "unix://$RH_DOCKER_SOCK" "$@"
}

rh_compose ()
{
  DOCKER_HOST="unix://$RH_DOCKER_SOCK" COMPOSE_PROJECT_NAME=$RH_COMPOSE_PROJECT \
    COMPOSE_INTERACTIVE_NO_CLI=1 timeout --foreground -k 5 "$RH_CTR_TIMEOUT" "$RH_COMPOSE_BIN" "$@"
}

rh__dockerd_pid ()
{
  local f=$RH_DOCKER_DIR/dockerd.pid.launch
  [[ -f $f ]] && cat "$f"
}

# One attempt with one storage driver; 0 when dockerd answers.
rh__docker_try ()
{
  local driver=$1
  shift
  local d=$RH_DOCKER_DIR
  mkdir -p "$d/data" "$d/exec" "$d/client"
  # A config file of our own: dockerd otherwise reads /etc/docker/daemon.json and writes its
  # trust key to /etc/docker/key.json.
  jq -n --arg key "$d/key.json" '{"deprecated-key-path": $key}' >"$d/daemon.json"
  : >"$RH_DOCKER_LOG"
  nsenter --net="/run/netns/$RH_NETNS" "$RH_DOCKERD_BIN" \
    --config-file "$d/daemon.json" \
    --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
    --host "unix://$RH_DOCKER_SOCK" \
    --containerd "$RH_CTRD_SOCK" --containerd-namespace "$RH_DOCKER_NS" \
    --containerd-plugins-namespace "$RH_DOCKER_NS-plugins" \
    --storage-driver "$driver" \
    --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
    --userland-proxy=false --cgroup-parent "/$RH_DOCKER_CGROUP" \
    --add-runtime "runsc-host=$RUNSC_HOST" \
    "$@" </dev/null >>"$RH_DOCKER_LOG" 2>&1 3>&- &
  echo $! >"$d/dockerd.pid.launch"
  local i pid=$!
  for ((i = 0; i < 300; i++)); do
    if rh_docker version >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

rh_docker_start ()
{
  rh_docker_env
  [[ -z ${RH_SKIP_REASON:-} ]] || return 0
  [[ -S ${RH_CTRD_SOCK:-} ]] || rh_die "rh_docker_start needs rh_containerd_start first" || return 1
  rh_cleanup_push rh_docker_stop
  # dockerd creates /run/docker/plugins (plugin discovery) whatever its --exec-root: note
  # whether it was there, so that stopping removes only what this run created.
  if [[ ! -e /run/docker ]]; then
    touch "$RH_TMP/docker-created-run-docker"
  fi
  local drivers=(overlay2 vfs) driver
  [[ -z ${RH_DOCKER_STORAGE:-} ]] || drivers=("$RH_DOCKER_STORAGE")
  for driver in "${drivers[@]}"; do
    if rh__docker_try "$driver" "$@"; then
      export RH_DOCKER_STORAGE=$driver
      return 0
    fi
    rh_log "dockerd did not come up with storage driver $driver; its log ($RH_DOCKER_LOG):"
    sed 's/^/#   /' "$RH_DOCKER_LOG" | tail -n 20 >&2
    rh__dockerd_kill
    rh__unmount_under "$RH_DOCKER_DIR"
    rm -rf "$RH_DOCKER_DIR/data" "$RH_DOCKER_DIR/exec" || true
  done
  # dockerd does not start at all: an environment problem (kernel, cgroups), not runsc-host's,
  # since dockerd does not run any runtime before it answers. Skip, saying why.
  RH_SKIP_REASON="dockerd does not start on this host (storage drivers tried: ${drivers[*]}): $(grep -m1 -iE 'level=(fatal|error)|failed' "$RH_DOCKER_LOG" | cut -c1-200)"
  export RH_SKIP_REASON
  return 0
}

rh__dockerd_kill ()
{
  local pid i
  pid=$(rh__dockerd_pid)
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  rm -f "$RH_DOCKER_DIR/dockerd.pid.launch"
  return 0
}

rh_docker_stop ()
{
  local pid ids p
  pid=$(rh__dockerd_pid)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    ids=$(rh_docker ps -aq 2>/dev/null)
    # shellcheck disable=SC2086
    [[ -z $ids ]] || rh_docker rm -f -v $ids >/dev/null 2>&1
    rh_docker volume prune -f >/dev/null 2>&1
  fi
  rh__dockerd_kill
  # Shims of docker's containerd namespace that outlived dockerd, killed by pid.
  for p in $(pgrep -f -- "-namespace $RH_DOCKER_NS -id " 2>/dev/null); do
    kill -KILL "$p" 2>/dev/null
  done
  [[ -n ${RH_DOCKER_DIR:-} && -d $RH_DOCKER_DIR ]] && rh__unmount_under "$RH_DOCKER_DIR"
  rh__docker_cgroups_remove
  # Empty directories only: another dockerd may be using them.
  if [[ -f $RH_TMP/docker-created-run-docker ]]; then
    rmdir /run/docker/plugins /run/docker 2>/dev/null
    rm -f "$RH_TMP/docker-created-run-docker"
  fi
  return 0
}


rh__docker_cgroups_remove ()
{
  [[ -n ${RH_DOCKER_CGROUP:-} ]] || return 0
  rh_cgroups_remove "$RH_DOCKER_CGROUP"
}

# The harness image NAME, imported into dockerd from its rootfs layer. Prints the reference.
rh_docker_image ()
{
  local name=${1:?usage: rh_docker_image NAME [rh_image_tar OPTS]}
  local tarball ref w layer
  ref=$(rh_image_ref "$name")
  if rh_docker image inspect "$ref" >/dev/null 2>&1; then
    printf '%s\n' "$ref"
    return 0
  fi
  tarball=$(rh_image_tar "$@") || return 1
  w=$(mktemp -d "$RH_TMP/dimg.XXXXXX") || return 1
  tar -C "$w" -xf "$tarball" || return 1
  # index.json -> manifest -> the one layer: a plain rootfs tarball.
  layer=$(jq -r '.manifests[0].digest' "$w/index.json" | sed 's/^sha256://')
  layer=$(jq -r '.layers[0].digest' "$w/blobs/sha256/$layer" | sed 's/^sha256://')
  rh_docker import --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["sh"]' \
    "$w/blobs/sha256/$layer" "$ref" >/dev/null || { rm -rf "$w"; return 1; }
  rm -rf "$w"
  printf '%s\n' "$ref"
}

rh_docker_wait_state ()
{
  local c=${1:?} want=${2:?} secs=${3:-30} i st
  for ((i = 0; i < secs * 5; i++)); do
    st=$(rh_docker inspect -f '{{.State.Status}}' "$c" 2>/dev/null)
    [[ $st == "$want" ]] && return 0
    sleep 0.2
  done
  rh_log "container $c is '$st', not '$want', after ${secs}s"
  return 1
}
