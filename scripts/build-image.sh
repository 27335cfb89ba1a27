#!/usr/bin/env bash
# Build the sandboxer's OCI image, reproducibly, as an OCI archive (docs/sandboxer.md).
#
#   scripts/build-image.sh [--work DIR] [--ref NAME:TAG] OUTPUT.tar
#
# The image holds this checkout's binaries (built here, in WORK/build, with no build path in
# them), the pinned Go tools (scripts/versions.env, built by scripts/deps-go.sh with -trimpath),
# and from Debian 12 only what the entrypoint and the hook run: busybox-static (the shell and
# its tools), iptables (the hook's iptables-restore, nft backend) with the libraries it loads, and
# the CA bundle (pulls over HTTPS). No network is used beyond what deps.sh already installed.
#
# Reproducible: fixed mtimes (SOURCE_DATE_EPOCH, default the commit's time), tar entries sorted,
# numeric owners 0:0, fixed modes, no compression, JSON written by jq with sorted keys. The last
# line printed is the image's digest (sha256 of its manifest), the value a verifier compares.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work= ref=runsc-host-sandboxer:latest
usage () { sed -n '4,5s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while (($#)); do
  case $1 in
  --work) work=${2:?}; shift 2 ;;
  --ref) ref=${2:?}; shift 2 ;;
  -h | --help) usage ;;
  -*) echo "build-image: unknown option $1" >&2; usage ;;
  *) break ;;
  esac
done
(($# == 1)) || usage
out=$1
[[ -n $work ]] || work=$(mktemp -d /tmp/rh-build-image.XXXXXX)
mkdir -p "$work"
work=$(cd "$work" && pwd)

# shellcheck source=versions.env
source "$src/scripts/versions.env"
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct 2>/dev/null) ||
    { echo "build-image: not a git checkout: set SOURCE_DATE_EPOCH" >&2; exit 1; }
fi
export SOURCE_DATE_EPOCH LC_ALL=C TZ=UTC
umask 022

for t in cmake jq tar sha256sum busybox iptables-restore; do
  command -v "$t" >/dev/null || { echo "build-image: $t is missing (scripts/deps.sh)" >&2; exit 1; }
done
for t in nerdctl containerd containerd-shim-runc-v2 runsc; do
  [[ -x $RH_GO_PREFIX/$t ]] || { echo "build-image: $RH_GO_PREFIX/$t missing (scripts/deps-go.sh)" >&2; exit 1; }
done

# ---- 1. this repo's binaries, without build paths ---------------------------------------------
# -ffile-prefix-map rewrites the source and build dirs in debug info and __FILE__; Release has
# no debug info anyway. The build id is a hash of the content, so it is stable too.
b=$work/build
cmake -S "$src" -B "$b" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DRH_INTEGRATION=OFF \
  -DCMAKE_INSTALL_PREFIX=/usr/local \
  "-DCMAKE_C_FLAGS=-ffile-prefix-map=$src=. -ffile-prefix-map=$b=. -g0" >"$work/cmake.log" 2>&1 ||
  { tail -n 20 "$work/cmake.log" >&2; exit 1; }
cmake --build "$b" -j"$(nproc)" --target runsc-host runsc-host-hook containerd-shim-runsc-host-v1 \
  runsc-host-gate runsc-host-sandboxer-check >"$work/build.log" 2>&1 ||
  { tail -n 20 "$work/build.log" >&2; exit 1; }
if grep -l -a -F -e "$src" -e "$b" "$b/runtime-wrapper/runsc-host" "$b/hooks/runsc-host-hook" \
  "$b/sandboxer/runsc-host-sandboxer-check" 2>/dev/null; then
  echo "build-image: a build path is left in the binaries above" >&2
  exit 1
fi

# ---- 2. the root file system ------------------------------------------------------------------
r=$work/rootfs
rm -rf "$r"
mkdir -p "$r"/{bin,sbin,etc/runsc-host/seccomp,etc/runsc-host/nerdctl/net.d,etc/ssl/certs,dev,proc,sys,tmp,run,var/lib,root} \
  "$r"/usr/local/{bin,sbin,libexec/runsc-host} "$r"/usr/sbin "$r"/lib64

# ELF files with their shared libraries (the loader's view, ldd), at the same paths.
copy_elf ()
{
  local f=$1 dst=$2 lib
  install -m 0755 "$f" "$r$dst"
  for lib in $(ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
    [[ -e $r$lib ]] && continue
    mkdir -p "$r$(dirname "$lib")"
    install -m 0755 "$(readlink -f "$lib")" "$r$lib"
  done
}

# busybox-static: /bin/sh and the tools the entrypoint uses (every applet, as symlinks).
install -m 0755 /bin/busybox "$r/bin/busybox"
for a in $(busybox --list | sort); do
  [[ -e $r/bin/$a ]] || ln -s busybox "$r/bin/$a"
done

# This repo (paths as `cmake --install` with prefix /usr/local lays them out).
copy_elf "$b/runtime-wrapper/runsc-host" /usr/local/bin/runsc-host
copy_elf "$b/shim/containerd-shim-runsc-host-v1" /usr/local/bin/containerd-shim-runsc-host-v1
copy_elf "$b/hooks/runsc-host-hook" /usr/local/libexec/runsc-host/runsc-host-hook
copy_elf "$b/gate/runsc-host-gate" /usr/local/libexec/runsc-host/runsc-host-gate
copy_elf "$b/sandboxer/runsc-host-sandboxer-check" /usr/local/bin/runsc-host-sandboxer-check
install -m 0755 "$src/sandboxer/runsc-host-sandboxer" "$r/usr/local/bin/runsc-host-sandboxer"
# "runc" alias mode: a compose service that names no runtime still lands in gVisor.
ln -s ../bin/runsc-host "$r/usr/local/sbin/runc"

# The pinned Go tools (static, -trimpath), where the hook allow-list expects nerdctl.
for t in nerdctl containerd containerd-shim-runc-v2 runsc; do
  install -m 0755 "$RH_GO_PREFIX/$t" "$r/usr/local/bin/$t"
done

# iptables (nft backend) for the hook: the multi-call binary, its names, its extensions.
copy_elf "$(readlink -f /usr/sbin/xtables-nft-multi)" /usr/sbin/xtables-nft-multi
for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -s xtables-nft-multi "$r/usr/sbin/$n"
done
xt=/usr/lib/x86_64-linux-gnu/xtables
mkdir -p "$r$xt"
for f in "$xt"/*.so; do copy_elf "$f" "${f}"; done
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"

# The policy: the built default with the image's paths, the current runsc and its auto platform.
jq -S '.runsc.path = "/usr/local/bin/runsc" | .runsc.platform = "auto"' \
  "$b/config/runsc-host.json" >"$r/etc/runsc-host/config.json"
install -m 0644 "$src/config/seccomp/default.json" "$r/etc/runsc-host/seccomp/default.json"
install -m 0644 "$src/config/nerdctl/net.d/bridge.conflist" "$r/etc/runsc-host/nerdctl/net.d/bridge.conflist"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
chmod 1777 "$r/tmp"

# ---- 3. the OCI layout ----------------------------------------------------------------------
o=$work/oci
rm -rf "$o"
mkdir -p "$o/blobs/sha256"
det_tar () # det_tar DIR OUT: a tar that depends only on DIR's names, contents, modes and links
{
  find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  tar -C "$1" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -cf "$2" .
}
blob () # blob FILE: move into the store, print "sha256:HEX SIZE"
{
  local h s
  h=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$o/blobs/sha256/$h"
  echo "sha256:$h $s"
}
det_tar "$r" "$work/layer.tar"
read -r ld ls < <(blob "$work/layer.tar")
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
jq -S -n --arg created "$created" --arg diff "$ld" --arg rev "${SOURCE_REVISION:-$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)}" '{
  architecture: "amd64", os: "linux", created: $created,
  config: {
    Entrypoint: ["/usr/local/bin/runsc-host-sandboxer"],
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    WorkingDir: "/",
    StopSignal: "SIGTERM",
    Labels: {
      "org.opencontainers.image.revision": $rev,
      "tee.launch_policy.allow_cmd_override": "true",
      "tee.launch_policy.allow_env_override": "IMAGE,COMPOSE_FILE,SANDBOXER_GRACE,SANDBOXER_PULL_TIMEOUT",
      "tee.launch_policy.log_redirect": "always"
    }
  },
  rootfs: {type: "layers", diff_ids: [$diff]},
  history: [{created: $created, created_by: "scripts/build-image.sh"}]
}' >"$work/config.json"
read -r cd cs < <(blob "$work/config.json")
jq -S -n --arg cd "$cd" --argjson cs "$cs" --arg ld "$ld" --argjson ls "$ls" '{schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]}' \
  >"$work/manifest.json"
read -r md ms < <(blob "$work/manifest.json")
jq -S -n --arg md "$md" --argjson ms "$ms" --arg ref "$ref" '{schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
    platform: {architecture: "amd64", os: "linux"},
    annotations: {"org.opencontainers.image.ref.name": $ref}}]}' >"$o/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$o/oci-layout"
det_tar "$o" "$out"
echo "build-image: wrote $out ($ref, $(du -h "$out" | cut -f1), SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
echo "$md"
