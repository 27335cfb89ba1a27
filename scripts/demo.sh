#!/usr/bin/env bash
# The Quick start demo (run by setup.sh, or alone as root after `cmake --install build`).
#
# It starts a private containerd in a network namespace of its own, imports a busybox image
# built from busybox-static, puts a real listening Unix socket at the TEE server's path
# (/run/container_launcher/teeserver.sock; a stand-in unless the host already has one), and
# runs a container under the installed runsc-host that asks for that socket, and for /run, as
# bind mounts. It shows what runsc-host removed from the bundle and that the socket is absent
# inside gVisor, then removes everything it created.
#
# runsc-host runs with the installed policy (/etc/runsc-host/config.json, or the embedded
# default when that file does not exist): nothing is overridden.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RH_BUILD_DIR=${RH_BUILD_DIR:-$root/build}
# shellcheck source=../tests/integration/lib.sh
source "$root/tests/integration/lib.sh"

say () { printf '%s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  say "demo: needs root (network namespace, containerd, gVisor): sudo $0" >&2
  exit 1
fi

rh_setup_env demo
rh_skip_if_unavailable

# The installed runtime, as a user would run it; the build tree's only if it is not installed.
if command -v runsc-host >/dev/null 2>&1; then
  RUNSC_HOST=$(command -v runsc-host)
else
  say "demo: runsc-host is not installed (cmake --install build); using $RUNSC_HOST"
fi
export RUNSC_HOST
rh_require_binary "$RUNSC_HOST"
# No RUNSC_HOST_CONFIG: the installed policy decides.
export RH_POLICY=""
policy_src="embedded default (no /etc/runsc-host/config.json)"
[[ -f /etc/runsc-host/config.json ]] && policy_src=/etc/runsc-host/config.json

say "== runsc-host demo: the TEE server socket stays out of the sandbox =="
rh_netns_create
rh_containerd_start
rh_image_build busybox
rh_tee_socket_start

say "host kernel:         $(uname -r)"
say "host TEE socket:     $(ls -l "$RH_TEE_SOCKET")"
say "runtime:             $RUNSC_HOST"
say "policy:              $policy_src"

id=$(rh_cid demo)
m1="type=bind,src=$RH_TEE_SOCKET,dst=$RH_TEE_SOCKET,options=rbind:ro"
m2="type=bind,src=/run,dst=/host-run,options=rbind:ro"
say "container asks for:  --mount $m1"
say "                     --mount $m2"
if ! rh_run_detached --mount "$m1" --mount "$m2" "$RH_IMAGE" "$id" sleep 120 >"$RH_TMP/run.out" 2>&1; then
  say "demo: ctr run failed:"
  cat "$RH_TMP/run.out"
  exit 1
fi

bundle=$(rh_bundle_dir "$id")
say "mounts runsc-host removed from the bundle (config.json.orig -> config.json):"
jq -r --slurpfile now "$bundle/config.json" \
  '.mounts[] | select(. as $m | ($now[0].mounts | index([$m])) == null)
   | "    \(.source) -> \(.destination)"' "$bundle/config.json.orig" || true
say "policy recorded:     $(jq -r '.annotations["run.runsc-host.policy-sha256"] // "none"' "$bundle/config.json") (sha256)"

pid=$(rh_ctr tasks list | awk -v id="$id" '$1 == id {print $2}')
say "task process (host): $(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-60)..."

say "inside the container:"
rh_ctr tasks exec --exec-id check "$id" sh -c '
  echo "    kernel: $(uname -r) (gVisor'"'"'s, not the host'"'"'s)"
  for p in /run/container_launcher/teeserver.sock /run/container_launcher /host-run; do
    if test -e "$p" || test -S "$p" || test -L "$p"; then echo "    $p: PRESENT"; else echo "    $p: absent"; fi
  done' | tee "$RH_TMP/inside.out"

rh_container_cleanup "$id"
if grep -q PRESENT "$RH_TMP/inside.out"; then
  say "RESULT: FAILED: something protected is visible inside the container"
  exit 1
fi
say "RESULT: the TEE server socket is absent inside gVisor; the demo cleans up now."
