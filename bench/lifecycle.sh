#!/usr/bin/env bash
# Create -> start -> wait -> delete latency of a busybox `true` through containerd
# (`ctr run --rm --net-host`): raw runsc (exec wrapper with runsc-host's own global flags)
# against runsc-host against runc, interleaved in the same rounds.
#
#   bench/lifecycle.sh [ROUNDS]          (default 20; BENCH_ROUNDS also works)
#
# Target (issue 6): runsc-host / raw runsc <= 1.03 at the median, hook included.
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-${BENCH_ROUNDS:-20}}
bench_setup lifecycle
rh_require_binary "$RUNSC_HOST"
rh_netns_create
bench_state_tmpfs
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\""
rh_containerd_start
rh_image_build busybox
bench_raw_wrapper

run_with ()
{
  local bin=$1 tag=$2 r=$3
  rh_ctr run --rm --runc-binary "$bin" --net-host --snapshotter native "$RH_IMAGE" "$(rh_cid "$tag$r")" true
}
v_raw () { run_with "$BENCH_RAW" raw "$1"; }
v_host () { run_with "$RUNSC_HOST" host "$1"; }
v_runc () { run_with "$BENCH_RUNC" runc "$1"; }
# Raw runsc given the same seccomp profile runsc-host installs: runsc builds the filter of ~300
# allowed calls at create, which is the policy's cost rather than the wrapper's. Against this
# variant what is left is runsc-host itself (wrapper, rewrite, hook).
bench_policy_profile "$RH_TMP/profile.json"
v_rawprof ()
{
  rh_ctr run --rm --runc-binary "$BENCH_RAW" --net-host --snapshotter native --seccomp \
    --seccomp-profile "$RH_TMP/profile.json" "$RH_IMAGE" "$(rh_cid "rawprof$1")" true
}
# runsc-host without the hook's work: no egress deny list, no ports, and hook_path a static
# program that exits 0. What is left is the wrapper itself and what its rewritten spec costs runsc.
printf 'int main (void) { return 0; }\n' | cc -O2 -static -x c -o "$RH_TMP/static-true" -
jq --arg t "$RH_TMP/static-true" '.egress.deny = [] | .ports.static = [] | .hook_path = $t' "$RH_POLICY" \
  >"$RH_TMP/policy-nohook.json"
bench_env_wrapper "$RH_TMP/runsc-host-nohook" RUNSC_HOST_CONFIG "$RH_TMP/policy-nohook.json" "$RUNSC_HOST"
v_nohook () { run_with "$RH_TMP/runsc-host-nohook" nohook "$1"; }

# Warm-up (image unpack into the snapshotter, page cache, platform probe cache): not recorded.
# A variant whose warm-up fails is left out and the result says so.
variants=()
# Optional: the same with a second build (bench/proposals/build-alt.sh), its own hook too.
alt=()
if [[ -n ${BENCH_ALT_BUILD_DIR:-} ]]; then
  jq --arg h "$BENCH_ALT_BUILD_DIR/hooks/runsc-host-hook" '.hook_path = $h' "$RH_POLICY" >"$RH_TMP/policy-alt.json"
  bench_env_wrapper "$RH_TMP/runsc-host-alt" RUNSC_HOST_CONFIG "$RH_TMP/policy-alt.json" \
    "$BENCH_ALT_BUILD_DIR/runtime-wrapper/runsc-host"
  v_alt () { run_with "$RH_TMP/runsc-host-alt" alt "$1"; }
  alt=(runsc-host-alt v_alt)
fi
bench_warm raw-runsc v_raw raw-runsc+profile v_rawprof runsc-host v_host runsc-host-nohook v_nohook "${alt[@]}" \
  runc v_runc
bench_interleave "$ROUNDS" "$BENCH_CSV" "${variants[@]}"

{
  echo
  echo "### Lifecycle through containerd: \`ctr run --rm --net-host busybox true\`"
  echo
  echo "Command: \`bench/lifecycle.sh $ROUNDS\`; $ROUNDS interleaved rounds; raw runsc = \`$RH_RUNSC $BENCH_RAW_FLAGS\`."
  echo "raw-runsc+profile: raw runsc, and the spec gets the seccomp profile runsc-host would install (\`ctr run --seccomp --seccomp-profile\`, the profile taken from a rewrite by this build): runsc-host / raw-runsc+profile is the wrapper's own cost, without what the policy's filter costs runsc."
  echo "runsc-host-nohook: policy with an empty egress deny list, no ports, and hook_path a static program that exits 0 (the wrapper and the rewritten spec, without the hook's work)."
  [[ -z ${BENCH_ALT_BUILD_DIR:-} ]] || echo "runsc-host-alt: the build in $BENCH_ALT_BUILD_DIR (bench/proposals/build-alt.sh: no OpenSSL, static), with its own hook."
  echo "Variants with their own policy (no-rules, alt) go through a compiled wrapper that sets RUNSC_HOST_CONFIG: one extra exec per runtime call, against them."
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  bench_table "$BENCH_CSV" raw-runsc
  if grep -q '^raw-runsc+profile,' "$BENCH_CSV"; then
    echo
    echo "The same rounds against raw-runsc+profile (the wrapper's own cost):"
    echo
    bench_table "$BENCH_CSV" raw-runsc+profile
  fi
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
