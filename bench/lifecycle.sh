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
# runsc-host with nothing for the hook to do (no egress deny list, no ports): separates the
# wrapper's own cost from the hook's iptables work.
jq '.egress.deny = [] | .ports.static = []' "$RH_POLICY" >"$RH_TMP/policy-nohook.json"
bench_env_wrapper "$RH_TMP/runsc-host-nohook" RUNSC_HOST_CONFIG "$RH_TMP/policy-nohook.json" "$RUNSC_HOST"
v_nohook () { run_with "$RH_TMP/runsc-host-nohook" nohook "$1"; }

# Warm-up (image unpack into the snapshotter, page cache, platform probe cache): not recorded.
# A variant whose warm-up fails is left out and the result says so.
variants=()
bench_warm raw-runsc v_raw runsc-host v_host runsc-host-no-rules v_nohook runc v_runc
bench_interleave "$ROUNDS" "$BENCH_CSV" "${variants[@]}"

{
  echo
  echo "### Lifecycle through containerd: \`ctr run --rm --net-host busybox true\`"
  echo
  echo "Command: \`bench/lifecycle.sh $ROUNDS\`; $ROUNDS interleaved rounds; raw runsc = \`$RH_RUNSC $BENCH_RAW_FLAGS\`."
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  bench_table "$BENCH_CSV" raw-runsc
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
