#!/usr/bin/env bash
# Pass-through subcommand overhead: `state`, `kill` and `delete` through runsc-host against the
# same call straight to runsc (the raw exec wrapper with runsc-host's global flags), with the
# arguments containerd's runc shim uses (--root, --log, --log-format json), interleaved.
#
#   bench/passthrough.sh [ROUNDS]        (default 100 for state/kill, ROUNDS/4 for delete)
#
# runsc reaches a sandbox through an abstract Unix socket, which lives in a network namespace:
# the containers and every measured command run inside this bench's own namespace (the
# measuring loop is re-run there with nsenter, so nsenter itself is not in the figures).
#
# Target (issue 6): under 1 ms added at the median.
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

if [[ ${1:-} == --inner ]]; then
  # ---- inside the namespace -------------------------------------------------------------
  R=$RH_TMP/ptroot
  run_id=$(rh_cid run)
  log=$RH_TMP/pt-log.json
  host () { RUNSC_HOST_CONFIG=$RH_POLICY "$RUNSC_HOST" --root "$R" --log "$log" --log-format json "$@"; }
  raw () { "$BENCH_RAW" --root "$R" --log "$log" --log-format json "$@"; }

  s_host () { host state "$run_id"; }
  s_raw () { raw state "$run_id"; }
  # SIGCONT to the container's init: harmless, and a real signal delivery through the sandbox.
  k_host () { host kill "$run_id" SIGCONT; }
  k_raw () { raw kill "$run_id" SIGCONT; }

  # delete: a fresh stopped container each time (created, started with `true`, exited).
  fresh ()
  {
    local id=$1 i
    raw create --bundle "$RH_TMP/bundle-true" "$id" </dev/null && raw start "$id" || return 1
    for ((i = 0; i < 100; i++)); do
      raw state "$id" | grep -q '"status": "stopped"' && return 0
      sleep 0.02
    done
    return 1
  }
  d_host_prep () { fresh "$(rh_cid "dh$1")"; }
  d_raw_prep () { fresh "$(rh_cid "dr$1")"; }
  d_host () { host delete "$(rh_cid "dh$1")"; }
  d_raw () { raw delete "$(rh_cid "dr$1")"; }

  raw run --detach --bundle "$RH_TMP/bundle-sleep" "$run_id" </dev/null >/dev/null
  s_host >/dev/null && s_raw >/dev/null
  bench_interleave "$BENCH_ROUNDS_FAST" "$RH_TMP/state.csv" raw-runsc s_raw runsc-host s_host
  bench_interleave "$BENCH_ROUNDS_FAST" "$RH_TMP/kill.csv" raw-runsc k_raw runsc-host k_host
  bench_interleave "$BENCH_ROUNDS_SLOW" "$RH_TMP/delete.csv" raw-runsc d_raw runsc-host d_host
  raw delete --force "$run_id" >/dev/null 2>&1 || true
  exit 0
fi

ROUNDS=${1:-${BENCH_ROUNDS:-100}}
bench_setup passthrough
rh_require_binary "$RUNSC_HOST"
rh_netns_create
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\""
bench_raw_wrapper
# Bundles without cgroup settings: runsc-managed cgroups are not what is measured here.
rh_bundle_make "$RH_TMP/bundle-sleep" \
  '.process.args = ["/bin/sleep", "100000"] | .process.terminal = false | del(.linux.resources, .linux.cgroupsPath)'
rh_bundle_make "$RH_TMP/bundle-true" \
  '.process.args = ["/bin/true"] | .process.terminal = false | del(.linux.resources, .linux.cgroupsPath)'
# Whatever the inner run leaves (a failed round): killed with the namespace, state dir removed.
rh_cleanup_push "for d in \$(ls '$RH_TMP/ptroot' 2>/dev/null | grep -o '^$RH_NAME-[a-z0-9]*' | sort -u); do nsenter --net=/run/netns/$RH_NETNS '$BENCH_RAW' --root '$RH_TMP/ptroot' delete --force \$d >/dev/null 2>&1; done"

export BENCH_ROUNDS_FAST=$ROUNDS BENCH_ROUNDS_SLOW=$(((ROUNDS + 3) / 4)) BENCH_RAW BENCH_RAW_FLAGS
rh_in_netns bash "$0" --inner

{
  echo
  echo "### Pass-through subcommands (runsc-host against runsc, same arguments as containerd's shim)"
  echo
  echo "Command: \`bench/passthrough.sh $ROUNDS\`; $ROUNDS interleaved rounds for state and kill, $BENCH_ROUNDS_SLOW for delete (each on a fresh stopped container)."
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  for c in state kill delete; do
    echo
    echo "\`$c\`:"
    echo
    bench_table "$RH_TMP/$c.csv" raw-runsc
    sed "s/^/$c,/" "$RH_TMP/$c.csv" >>"$BENCH_CSV"
  done
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
