# shellcheck shell=bash
# tests/integration/lib_nerdctl.sh — real nerdctl against the pinned containerd 2.x (load after
# lib.sh). nerdctl 2.x does not support Debian's containerd 1.6, so this file's containerd is the
# one scripts/deps-go.sh built (RH_GO_BIN, with its runc v2 shim); everything else (netns, policy,
# teardown) is lib.sh's.
#
#   rh_nerd_env            After rh_setup_env: RH_GO_BIN, RH_NERDCTL; sets RH_SKIP_REASON when the
#                          pinned tools are missing (naming scripts/deps-go.sh).
#   rh_nerd_policy [JQ-FILTER]  rh_policy_write, letting NERDCTL_TOML through to nerdctl's hook.
#   rh_nerd_containerd_start  containerd 2.x in RH_NETNS (restart monitor every second), with
#                          RH_GO_BIN then the built shim dir first in its PATH; writes
#                          RH_NERD_TOML (address, namespace, data root under RH_TMP, native
#                          snapshotter) and a PATH dir where `runsc-host` is the built binary.
#   rh_nerdctl ARGS...     nerdctl with that config, bounded by RH_CTR_TIMEOUT.
#   rh_nerd_run ARGS...    `nerdctl run` with the seed's flags: --runtime=runsc-host --net=host
#                          --snapshotter=native, then ARGS.
#   rh_nerd_load NAME [OPTS]  build (lib.sh rh_image_tar) and `nerdctl load` an image.
#   rh_nerd_image_stopsignal NAME SIGNAL  a busybox image whose config says StopSignal SIGNAL.
#   rh_nerd_id NAME        the full container id of a nerdctl container name.
#   rh_nerd_sandbox_pid NAME  pid of the runsc sandbox process of that container.

: "${RH_GO_BIN:=$(sed -n 's/^RH_GO_PREFIX=//p' "$RH_SOURCE_DIR/scripts/versions.env")}"
export RH_GO_BIN

rh_nerd_env ()
{
  export RH_NERDCTL=$RH_GO_BIN/nerdctl
  [[ -z ${RH_SKIP_REASON:-} ]] || return 0
  local t missing=()
  for t in nerdctl containerd containerd-shim-runc-v2; do
    [[ -x $RH_GO_BIN/$t ]] || missing+=("$RH_GO_BIN/$t")
  done
  if ((${#missing[@]})); then
    RH_SKIP_REASON="not built: ${missing[*]} (nerdctl needs containerd 2.x; run scripts/deps-go.sh)"
  fi
  return 0
}

# The test's nerdctl keeps its configuration in the test's own dir (NERDCTL_TOML), which its OCI
# hook must read too: the test policy lets that one variable through (the shipped policy removes
# NERDCTL_* from a hook's env; docs/policy.md).
rh_nerd_policy ()
{
  rh_policy_write "(${1:-.}) | .hooks.env_deny |= map(select(. != \"NERDCTL_*\"))"
}

rh_nerd_containerd_start ()
{
  export RH_NERD_PATH=$RH_TMP/nerd-path RH_NERD_TOML=$RH_TMP/nerdctl.toml
  mkdir -p "$RH_NERD_PATH" "$RH_TMP/nerdctl"
  # nerdctl resolves `--runtime=runsc-host` (and a compose file's `runtime: runsc-host`) in its own
  # PATH and hands containerd the absolute path as the runc shim's BinaryName.
  ln -sf "$RUNSC_HOST" "$RH_NERD_PATH/runsc-host"
  RH_CONTAINERD_EXTRA_TOML='[plugins."io.containerd.monitor.container.v1.restart"]
  interval = "1s"' PATH="$RH_GO_BIN:$PATH" rh_containerd_start || return 1
  cat >"$RH_NERD_TOML" <<EOF
address = "$RH_CTRD_SOCK"
namespace = "$RH_NS"
data_root = "$RH_TMP/nerdctl"
snapshotter = "native"
cni_netconfpath = "$RH_TMP/cni/net.d"
EOF
  # RH_NERD_NETCONF=1: the shipped stand-in for nerdctl's default "bridge" network
  # (config/nerdctl/net.d), which `nerdctl compose` needs even when every service is on host.
  if [[ ${RH_NERD_NETCONF:-0} == 1 ]]; then
    mkdir -p "$RH_TMP/cni/net.d"
    cp "$RH_SOURCE_DIR/config/nerdctl/net.d/bridge.conflist" "$RH_TMP/cni/net.d/"
  fi
}

rh_nerdctl ()
{
  timeout --foreground -k 5 "$RH_CTR_TIMEOUT" env NERDCTL_TOML="$RH_NERD_TOML" \
    PATH="$RH_NERD_PATH:$PATH" "$RH_NERDCTL" "$@"
}

rh_nerd_run ()
{
  rh_nerdctl run --runtime=runsc-host --net=host --snapshotter=native "$@"
}

rh_nerd_load ()
{
  local tarball
  tarball=$(rh_image_tar "$@") || return 1
  rh_nerdctl load -i "$tarball" >/dev/null
}

# rh_nerd_image_stopsignal NAME SIGNAL: the busybox image with "StopSignal": SIGNAL in its config
# (lib.sh's image builder has no such option), loaded as rh.local/NAME:latest.
rh_nerd_image_stopsignal ()
{
  local name=${1:?} sig=${2:?} base w md cd ld
  base=$(rh_image_tar busybox) || return 1
  w=$RH_TMP/img-$name
  mkdir -p "$w/oci"
  tar -xf "$base" -C "$w/oci" || return 1
  md=$(jq -r '.manifests[0].digest' "$w/oci/index.json" | cut -d: -f2)
  cd=$(jq -r '.config.digest' "$w/oci/blobs/sha256/$md" | cut -d: -f2)
  ld=$(jq -r '.layers[0].digest' "$w/oci/blobs/sha256/$md")
  jq --arg s "$sig" '.config.StopSignal = $s' "$w/oci/blobs/sha256/$cd" >"$w/config.json"
  cd=$(sha256sum "$w/config.json" | cut -d' ' -f1)
  mv "$w/config.json" "$w/oci/blobs/sha256/$cd"
  jq -n --arg cd "sha256:$cd" --argjson cs "$(stat -c %s "$w/oci/blobs/sha256/$cd")" --arg ld "$ld" \
    --argjson ls "$(stat -c %s "$w/oci/blobs/sha256/${ld#sha256:}")" '{schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]}' \
    >"$w/manifest.json"
  md=$(sha256sum "$w/manifest.json" | cut -d' ' -f1)
  jq --arg md "sha256:$md" --argjson ms "$(stat -c %s "$w/manifest.json")" \
    --arg ref "$(rh_image_ref "$name")" '.manifests[0].digest = $md | .manifests[0].size = $ms
      | .manifests[0].annotations["org.opencontainers.image.ref.name"] = $ref' \
    "$w/oci/index.json" >"$w/index.json"
  mv "$w/manifest.json" "$w/oci/blobs/sha256/$md"
  mv "$w/index.json" "$w/oci/index.json"
  tar -C "$w/oci" -cf "$w/image.tar" . || return 1
  rh_nerdctl load -i "$w/image.tar" >/dev/null
}

rh_nerd_id ()
{
  rh_nerdctl inspect --format '{{.ID}}' "${1:?}"
}

rh_nerd_sandbox_pid ()
{
  local id
  id=$(rh_nerd_id "${1:?}") || return 1
  pgrep -f -- "runsc-sandbox .*--root=$RH_RUNC_ROOT .*$id" | head -n 1
}
