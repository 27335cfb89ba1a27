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
  alt () { RUNSC_HOST_CONFIG=$RH_TMP/policy-alt.json "$BENCH_ALT_BUILD_DIR/runtime-wrapper/runsc-host" --root "$R" --log "$log" --log-format json "$@"; }
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
  s_alt () { alt state "$run_id"; }
  k_alt () { alt kill "$run_id" SIGCONT; }
  d_alt_prep () { fresh "$(rh_cid "da$1")"; }
  d_alt () { alt delete "$(rh_cid "da$1")"; }
  s_true () { "$BENCH_TRUE"; }
  s_host_true () { RUNSC_HOST_CONFIG=$RH_TMP/policy-true.json "$RUNSC_HOST" --root "$R" --log "$log" --log-format json state "$run_id"; }
  s_alt_true () { RUNSC_HOST_CONFIG=$RH_TMP/policy-alt-true.json "$BENCH_ALT_BUILD_DIR/runtime-wrapper/runsc-host" --root "$R" --log "$log" --log-format json state "$run_id"; }
  extra_s=() extra_k=() extra_d=() extra_t=()
  if [[ -n ${BENCH_ALT_BUILD_DIR:-} ]]; then
    extra_s=(runsc-host-alt s_alt) extra_k=(runsc-host-alt k_alt) extra_d=(runsc-host-alt d_alt)
    extra_t=(runsc-host-alt s_alt_true)
  fi

  raw run --detach --bundle "$RH_TMP/bundle-sleep" "$run_id" </dev/null >/dev/null
  s_host >/dev/null && s_raw >/dev/null
  bench_interleave "$BENCH_ROUNDS_FAST" "$RH_TMP/state.csv" raw-runsc s_raw runsc-host s_host "${extra_s[@]}"
  bench_interleave "$BENCH_ROUNDS_FAST" "$RH_TMP/kill.csv" raw-runsc k_raw runsc-host k_host "${extra_k[@]}"
  bench_interleave "$BENCH_ROUNDS_SLOW" "$RH_TMP/delete.csv" raw-runsc d_raw runsc-host d_host "${extra_d[@]}"
  # The wrapper alone: runsc.path is a static do-nothing program, so what is left is
  # runsc-host's own start-up, policy load and argv work (a Go runsc start-up is ~20 ms of noise).
  bench_interleave "$((BENCH_ROUNDS_FAST * 2))" "$RH_TMP/wrapper.csv" static-true s_true runsc-host s_host_true "${extra_t[@]}"
  # The same as CPU time per call (perf stat), which other load on the machine disturbs less.
  args="--root $R --log $log --log-format json state $run_id"
  cpu=(static-true "env RUNSC_HOST_CONFIG=$RH_TMP/policy-true.json $BENCH_TRUE $args"
    runsc-host "env RUNSC_HOST_CONFIG=$RH_TMP/policy-true.json $RUNSC_HOST $args")
  [[ -z ${BENCH_ALT_BUILD_DIR:-} ]] ||
    cpu+=(runsc-host-alt "env RUNSC_HOST_CONFIG=$RH_TMP/policy-alt-true.json $BENCH_ALT_BUILD_DIR/runtime-wrapper/runsc-host $args")
  bench_cpu_interleave 10 "$BENCH_ROUNDS_FAST" "$RH_TMP/wrapper-cpu.csv" "${cpu[@]}"
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

# For the wrapper-only figure: a static program that does nothing, as runsc.
export BENCH_TRUE=$RH_TMP/static-true
printf 'int main (void) { return 0; }\n' | cc -O2 -static -x c -o "$BENCH_TRUE" -
jq --arg t "$BENCH_TRUE" '.runsc.path = $t' "$RH_POLICY" >"$RH_TMP/policy-true.json"
if [[ -n ${BENCH_ALT_BUILD_DIR:-} ]]; then
  jq --arg h "$BENCH_ALT_BUILD_DIR/hooks/runsc-host-hook" '.hook_path = $h' "$RH_POLICY" >"$RH_TMP/policy-alt.json"
  jq --arg t "$BENCH_TRUE" '.runsc.path = $t' "$RH_TMP/policy-alt.json" >"$RH_TMP/policy-alt-true.json"
fi
export BENCH_ROUNDS_FAST=$ROUNDS BENCH_ROUNDS_SLOW=$(((ROUNDS + 3) / 4)) BENCH_RAW BENCH_RAW_FLAGS BENCH_ALT_BUILD_DIR
bench_subreaper "$RH_TMP/subreaper"
rh_in_netns "$RH_TMP/subreaper" bash "$0" --inner

{
  echo
  echo "### Pass-through subcommands (runsc-host against runsc, same arguments as containerd's shim)"
  echo
  echo "Command: \`bench/passthrough.sh $ROUNDS\`; $ROUNDS interleaved rounds for state and kill, $BENCH_ROUNDS_SLOW for delete (each on a fresh stopped container)."
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  [[ -z ${BENCH_ALT_BUILD_DIR:-} ]] || echo "runsc-host-alt: the build in $BENCH_ALT_BUILD_DIR (bench/proposals/build-alt.sh: no OpenSSL, static)."
  for c in state kill delete wrapper wrapper-cpu; do
    [[ -s $RH_TMP/$c.csv ]] || continue
    echo
    if [[ $c == wrapper-cpu ]]; then
      echo "The wrapper alone, CPU time per call (\`perf stat -e task-clock -r $ROUNDS\`, 10 interleaved batches; each command starts through \`env\`, the same for all):"
    elif [[ $c == wrapper ]]; then
      echo "The wrapper alone (\`state\` with runsc.path = a static program that exits 0; $((ROUNDS * 2)) rounds):"
    else
      echo "\`$c\`:"
    fi
    echo
    bench_table "$RH_TMP/$c.csv" "$([[ $c == wrapper* ]] && echo static-true || echo raw-runsc)"
    sed "s/^/$c,/" "$RH_TMP/$c.csv" >>"$BENCH_CSV"
  done
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
