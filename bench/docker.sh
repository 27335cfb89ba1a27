#!/usr/bin/env bash
# Lifecycle latency through docker: `docker run --rm --network host busybox true` with the
# runtimes raw-runsc (exec wrapper with runsc-host's flags), runsc-host and runc, interleaved.
# dockerd (/usr/bin/docker's 20.10 daemon) runs inside this bench's network namespace, with its
# own data root, exec root and socket, on this bench's own containerd, with bridge networking
# and iptables management off: nothing outside the namespace is touched.
#
#   bench/docker.sh [ROUNDS]        (default 15)
#
# Side product: the config.json docker generates for a busybox container (docker's default
# seccomp profile included) is saved to /tmp/rh-bench-docker-spec.json (outside the tree);
# bench/rewrite.sh adds a row for it when it exists.
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-${BENCH_ROUNDS:-15}}
# shellcheck source=../tests/integration/lib_docker.sh
source "$RH_SOURCE_DIR/tests/integration/lib_docker.sh"

bench_setup docker
rh_require_binary "$RUNSC_HOST"
rh_netns_create
bench_state_tmpfs
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\""
rh_containerd_start
bench_raw_wrapper
# dockerd from the integration harness (tests/integration/lib_docker.sh): in our namespace, on
# our containerd, no bridge, no iptables, its own dirs; plus the raw runsc wrapper as a runtime.
# Optional: the alternative build (bench/proposals/build-alt.sh) as one more runtime, through a
# compiled wrapper that gives it a policy naming its own hook.
alt_args=()
if [[ -n ${BENCH_ALT_BUILD_DIR:-} ]]; then
  jq --arg h "$BENCH_ALT_BUILD_DIR/hooks/runsc-host-hook" '.hook_path = $h' "$RH_POLICY" >"$RH_TMP/policy-alt.json"
  bench_env_wrapper "$RH_TMP/runsc-host-alt" RUNSC_HOST_CONFIG "$RH_TMP/policy-alt.json" \
    "$BENCH_ALT_BUILD_DIR/runtime-wrapper/runsc-host"
  alt_args=(--add-runtime "runsc-host-alt=$RH_TMP/runsc-host-alt")
fi
rh_docker_start --add-runtime "raw-runsc=$BENCH_RAW" "${alt_args[@]}"
rh_skip_if_unavailable || exit 1
IMG=$(rh_docker_image busybox)
dk () { rh_docker "$@"; }

run_with () { dk run --rm --network host --runtime "$1" "$IMG" true; }
v_raw () { run_with raw-runsc; }
v_host () { run_with runsc-host; }
v_runc () { run_with runc; }

variants=()
v_alt () { run_with runsc-host-alt; }
alt=()
[[ -z ${BENCH_ALT_BUILD_DIR:-} ]] || alt=(runsc-host-alt v_alt)
bench_warm raw-runsc v_raw runsc-host v_host "${alt[@]}" runc v_runc
bench_interleave "$ROUNDS" "$BENCH_CSV" "${variants[@]}"

# The spec docker writes (for bench/rewrite.sh): a runc container, read from the bundle.
cid=$(dk run -d --network host --runtime runc "$IMG" sleep 60)
cp "$RH_CTRD_DIR/state/io.containerd.runtime.v2.task/$RH_DOCKER_NS/$cid/config.json" /tmp/rh-bench-docker-spec.json 2>/dev/null ||
  rh_log "could not save docker's spec"
dk rm -f "$cid" >/dev/null

{
  echo
  echo "### Lifecycle through docker: \`docker run --rm --network host busybox true\`"
  echo
  echo "Command: \`bench/docker.sh $ROUNDS\`; $ROUNDS interleaved rounds; dockerd $(dk version --format '{{.Server.Version}}') on the bench's containerd, storage driver $RH_DOCKER_STORAGE (image imported from the busybox rootfs)."
  [[ -z ${BENCH_ALT_BUILD_DIR:-} ]] || echo "runsc-host-alt: the build in $BENCH_ALT_BUILD_DIR (bench/proposals/build-alt.sh: no OpenSSL, static), with its own hook, through a wrapper that sets RUNSC_HOST_CONFIG (one extra exec per runtime call, against it)."
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  bench_table "$BENCH_CSV" raw-runsc
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
