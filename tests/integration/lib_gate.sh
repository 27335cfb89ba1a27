# shellcheck shell=bash
# tests/integration/lib_gate.sh — helpers for the attestation gate's tests (gate.bats) and its
# benchmark (bench/gate.sh). Sourced after lib.sh.
#
#   gate_build_client      Build tests/integration/gate_client.c statically into RH_TMP/gatebin
#                          (GATE_CLIENT); it is bind-mounted into test containers at /gate,
#                          because busybox's nc and wget cannot speak to a Unix socket.
#   gate_standin_start     Start the STAND-IN TEE server (tests/integration/standin_tee.py; the
#                          real one needs a TPM and Google) on GATE_UPSTREAM, counting calls in
#                          GATE_COUNTS; pushes its stop.
#   gate_standin_stop      Stop it (idempotent).
#   gate_upstream_calls [KEY]  Calls the stand-in has served (KEY: total, token_post, ...).
#   gate_policy_write [JQ] rh_policy_write with the gate on, pointed at the stand-in, small
#                          limits, the test's state_dir and stand-in dir added to
#                          protected_paths; JQ is applied last. Sets GATE_CONTROL and
#                          GATE_SOCKET_DIR.
#   gate_daemon_stop       Stop the gate daemon the wrapper started (found through its control
#                          socket), if any. Pushed by gate_standin_start.
#   gate_control OP [ID]   One control request ({"op":OP[,"id":ID]}); prints the JSON answer.
#                          create/remove are exactly what runsc-host create/delete send.
#   gate_daemon_restart    Stop the daemon and start it again under the current RH_POLICY
#                          (a policy change needs a restart); waits for its control socket.
#   gate_exec [--user U] ID CMD...  Run CMD inside container ID (ctr task exec, fresh exec id).
#   GATE_SOCK              The socket path inside containers.

GATE_SOCK=/run/container_launcher/teeserver.sock
export GATE_SOCK

gate_build_client ()
{
  command -v cc >/dev/null 2>&1 || rh_die "cc is needed to build the static test client" || return 1
  mkdir -p "$RH_TMP/gatebin"
  cc -O2 -static -o "$RH_TMP/gatebin/gate-client" "$RH_SOURCE_DIR/tests/integration/gate_client.c" ||
    rh_die "building the static gate test client failed (is libc6-dev installed?)" || return 1
  export GATE_CLIENT=$RH_TMP/gatebin/gate-client
}

gate_standin_start ()
{
  command -v python3 >/dev/null 2>&1 || rh_die "python3 is needed for the stand-in TEE server" || return 1
  export GATE_TEE_DIR=$RH_TMP/tee
  export GATE_UPSTREAM=$GATE_TEE_DIR/teeserver.sock
  export GATE_COUNTS=$GATE_TEE_DIR/counts.json
  mkdir -p "$GATE_TEE_DIR"
  chmod 0700 "$GATE_TEE_DIR"
  rm -f "$GATE_TEE_DIR/ready"
  setsid python3 "$RH_SOURCE_DIR/tests/integration/standin_tee.py" "$GATE_UPSTREAM" \
    --count-file "$GATE_COUNTS" --ready-file "$GATE_TEE_DIR/ready" --slow 3 \
    </dev/null >"$GATE_TEE_DIR/standin.log" 2>&1 3>&- &
  echo $! >"$GATE_TEE_DIR/standin.pid"
  rh_cleanup_push gate_standin_stop
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -e $GATE_TEE_DIR/ready ]] && return 0
    sleep 0.05
  done
  rh_die "stand-in TEE server did not start: $(cat "$GATE_TEE_DIR/standin.log")"
}

gate_standin_stop ()
{
  local pid
  pid=$(cat "$GATE_TEE_DIR/standin.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null
  rm -f "$GATE_TEE_DIR/standin.pid" "$GATE_UPSTREAM"
  return 0
}

gate_upstream_calls ()
{
  jq -r ".${1:-total}" "$GATE_COUNTS"
}

gate_policy_write ()
{
  local extra=${1:-.}
  local state=$RH_TMP/runsc-host-state
  rh_policy_write ".protected_paths += [\"$state\", \"$GATE_TEE_DIR\"]
    | .gate = {enabled: true, upstream: \"$GATE_UPSTREAM\", binary: \"$RH_GATE\",
               sandbox_rate: 0.5, sandbox_burst: 3, global_rate: 20, global_burst: 40,
               allowed_audiences: [\"https://allowed.example\", \"https://cached.example\",
                                   \"https://other.example\", \"https://flood.example\",
                                   \"standin:garbage\", \"standin:close\", \"standin:delay\"],
               allowed_token_types: [\"OIDC\", \"PKI\"],
               max_body_bytes: 4096, client_timeout_ms: 5000, upstream_timeout_ms: 2000}
    | $extra"
  export GATE_CONTROL=$state/gate.sock
  export GATE_SOCKET_DIR=$state/gate
}

gate_daemon_pid ()
{
  [[ -S ${GATE_CONTROL:-/nonexistent} ]] || return 1
  printf '{"op":"ping"}\n' | timeout 5 socat -t5 - "UNIX-CONNECT:$GATE_CONTROL" 2>/dev/null | jq -er .pid
}

gate_daemon_stop ()
{
  local pid i
  pid=$(gate_daemon_pid) || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    [[ -S $GATE_CONTROL ]] || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  return 0
}

gate_control ()
{
  local req
  req=$(jq -cn --arg op "$1" --arg id "${2:-}" 'if $id == "" then {op: $op} else {op: $op, id: $id} end')
  printf '%s\n' "$req" | timeout 5 socat -t5 - "UNIX-CONNECT:$GATE_CONTROL"
}

gate_daemon_restart ()
{
  local i
  gate_daemon_stop
  setsid "$RH_GATE" --config "$RH_POLICY" </dev/null >"$RH_TMP/gate-daemon.out" 2>&1 3>&- &
  for ((i = 0; i < 100; i++)); do
    gate_daemon_pid >/dev/null && return 0
    sleep 0.05
  done
  rh_die "gate daemon did not start: $(cat "$RH_TMP/gate-daemon.out")"
}

gate_exec ()
{
  local opts=()
  while [[ ${1:-} == --* ]]; do
    opts+=("$1" "$2")
    shift 2
  done
  local id=${1:?usage: gate_exec [--user U] ID CMD...}
  shift
  GATE_EXEC_N=$((${GATE_EXEC_N:-0} + 1))
  rh_ctr tasks exec "${opts[@]}" --exec-id "gx$$-$GATE_EXEC_N-$RANDOM" "$id" "$@"
}

# Start a long-running container with the test client mounted at /gate.
gate_start ()
{
  local id=${1:?}
  shift
  rh_run_detached --mount "type=bind,src=$RH_TMP/gatebin,dst=/gate,options=rbind:ro" "$@" "$RH_IMAGE" "$id" \
    sleep 600
}
