# shellcheck shell=bash
# tests/integration/lib_sandboxer.sh — the sandboxer entrypoint (sandboxer/runsc-host-sandboxer)
# and a local registry, in the test's own network namespace (load after lib.sh and
# lib_nerdctl.sh).
#
#   rh_sbx_env             After rh_setup_env + rh_nerd_env: RH_SBX (the entrypoint), RH_SBX_PATH
#                          (a PATH dir: runsc-host, its "runc" alias, the check helper, nerdctl),
#                          RH_SBX_ROOT (its state, SANDBOXER_ROOT); sets RH_SKIP_REASON when
#                          docker-registry is missing.
#   rh_sbx_policy [JQ]     The test policy, plus nerdctl's hook with the sandboxer's flags allowed.
#   rh_sbx_registry_start  Debian's docker-registry on 127.0.0.1:5000 inside RH_NETNS.
#   rh_sbx_push TAR REPO:TAG  Push an OCI layout tarball to that registry (HTTP API v2, curl).
#   rh_sbx_start [VAR=VAL...] -- [ARGS...]  Start the entrypoint in RH_NETNS in the background,
#                          output in RH_SBX_OUT; RH_SBX_PID is its pid.
#   rh_sbx_wait_ready SECS  Wait until it logs "ready:" (fails if it exits first).
#   rh_sbx_wait_exit SECS  Wait for it to exit; RH_SBX_RC is its exit code.
#   rh_sbx_left            Print what it left behind (containerd, shims, runsc, rules, state).

rh_sbx_env ()
{
  export RH_SBX=$RH_SOURCE_DIR/sandboxer/runsc-host-sandboxer
  export RH_SBX_CHECK=$RH_BUILD_DIR/sandboxer/runsc-host-sandboxer-check
  export RH_SBX_ROOT=$RH_TMP/sbx RH_SBX_PATH=$RH_TMP/sbx-path RH_SBX_OUT=$RH_TMP/sbx.out
  [[ -z ${RH_SKIP_REASON:-} ]] || return 0
  command -v docker-registry >/dev/null ||
    { RH_SKIP_REASON="docker-registry is missing (Debian package docker-registry; scripts/deps.sh)"; return 0; }
  mkdir -p "$RH_SBX_PATH"
  ln -sf "$RUNSC_HOST" "$RH_SBX_PATH/runsc-host"
  ln -sf "$RUNSC_HOST" "$RH_SBX_PATH/runc"
  ln -sf "$RH_SBX_CHECK" "$RH_SBX_PATH/runsc-host-sandboxer-check"
}

# nerdctl's own hook carries the sandboxer's global flags; the test's data root and netconf dir
# are under RH_TMP, not nerdctl's defaults that the shipped policy pins.
rh_sbx_policy ()
{
  rh_policy_write "(${1:-.}) | .hooks.allowed |= map(if .path == \"/usr/local/bin/nerdctl\"
    then .args[1] |= (rtrimstr(\"...\") + \"|--data-root=$RH_SBX_ROOT/nerdctl|--cni-netconfpath=$RH_SBX_ROOT/work/net.d...\")
    else . end)"
}

rh_sbx_registry_start ()
{
  mkdir -p "$RH_TMP/registry"
  cat >"$RH_TMP/registry.yml" <<EOF2
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $RH_TMP/registry
http:
  addr: 127.0.0.1:5000
EOF2
  nsenter --net="/run/netns/$RH_NETNS" docker-registry serve "$RH_TMP/registry.yml" \
    >"$RH_TMP/registry.log" 2>&1 &
  echo $! >"$RH_TMP/registry.pid"
  rh_cleanup_push "kill \$(cat '$RH_TMP/registry.pid') 2>/dev/null; sleep 0.2"
  local i
  for ((i = 0; i < 50; i++)); do
    rh_in_netns curl -fsS -o /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && return 0
    sleep 0.2
  done
  cat "$RH_TMP/registry.log" >&2
  rh_die "docker-registry did not answer on 127.0.0.1:5000 in $RH_NETNS"
}

# Blobs first (monolithic upload: POST for a session, PUT with the digest), then the manifest.
rh_sbx_push ()
{
  local tar=${1:?} ref=${2:?} repo tag w d loc md mt
  repo=${ref%:*} tag=${ref##*:}
  w=$(mktemp -d "$RH_TMP/push.XXXX")
  tar -xf "$tar" -C "$w" || return 1
  md=$(jq -r '.manifests[0].digest' "$w/index.json")
  mt=$(jq -r '.mediaType' "$w/blobs/sha256/${md#sha256:}")
  for d in $(jq -r '.config.digest, .layers[].digest' "$w/blobs/sha256/${md#sha256:}"); do
    loc=$(rh_in_netns curl -fsS -D - -o /dev/null -X POST "http://127.0.0.1:5000/v2/$repo/blobs/uploads/" |
      tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    [[ -n $loc ]] || rh_die "registry: no upload location for $repo" || return 1
    [[ $loc == http* ]] || loc=http://127.0.0.1:5000$loc
    [[ $loc == *\?* ]] && loc="$loc&digest=$d" || loc="$loc?digest=$d"
    rh_in_netns curl -fsS -X PUT -H 'Content-Type: application/octet-stream' \
      --data-binary "@$w/blobs/sha256/${d#sha256:}" "$loc" || return 1
  done
  rh_in_netns curl -fsS -X PUT -H "Content-Type: $mt" \
    --data-binary "@$w/blobs/sha256/${md#sha256:}" "http://127.0.0.1:5000/v2/$repo/manifests/$tag" || return 1
  rm -rf "$w"
}

rh_sbx_start ()
{
  local envs=()
  while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
  (($#)) && shift
  # PATH as the image has it: runsc-host (and its runc alias) and the go tools first.
  setsid nsenter --net="/run/netns/$RH_NETNS" env -i \
    PATH="$RH_SBX_PATH:$RH_GO_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    RUNSC_HOST_CONFIG="$RH_POLICY" SANDBOXER_ROOT="$RH_SBX_ROOT" SANDBOXER_NAMESPACE="$RH_NS" \
    "${envs[@]}" "$RH_SBX" "$@" >"$RH_SBX_OUT" 2>&1 &
  export RH_SBX_PID=$!
  rh_cleanup_push "kill -KILL $RH_SBX_PID 2>/dev/null; true"
}

rh_sbx_wait_ready ()
{
  local secs=${1:-120} i
  for ((i = 0; i < secs * 5; i++)); do
    grep -q 'sandboxer: ready:' "$RH_SBX_OUT" && return 0
    kill -0 "$RH_SBX_PID" 2>/dev/null || { cat "$RH_SBX_OUT" >&2; rh_die "sandboxer exited before ready"; return 1; }
    sleep 0.2
  done
  cat "$RH_SBX_OUT" >&2
  rh_die "sandboxer not ready within ${secs}s"
}

rh_sbx_wait_exit ()
{
  local secs=${1:-120} i
  for ((i = 0; i < secs * 5; i++)); do
    if ! kill -0 "$RH_SBX_PID" 2>/dev/null; then
      export RH_SBX_RC=0
      wait "$RH_SBX_PID" || RH_SBX_RC=$?
      return 0
    fi
    sleep 0.2
  done
  cat "$RH_SBX_OUT" >&2
  rh_die "sandboxer still running after ${secs}s"
}

rh_sbx_left ()
{
  pgrep -a -f -- "$RH_SBX_ROOT" || true
  pgrep -a -f -- "runsc.*--root=$RH_RUNC_ROOT" || true
  [[ ! -e $RH_SBX_ROOT/containerd && ! -e $RH_SBX_ROOT/nerdctl && ! -e $RH_SBX_ROOT/work ]] ||
    ls -d "$RH_SBX_ROOT"/* 2>/dev/null
  rh_in_netns iptables-save 2>/dev/null | grep -i 'RUNSC-HOST' || true
  findmnt -rn -o TARGET | grep -F "$RH_SBX_ROOT" || true
}
