#!/usr/bin/env bash
# Build a busybox test image from Debian's busybox-static, as an OCI image layout tarball:
# one uncompressed layer (busybox with every applet linked, /etc/passwd, /www/index.html),
# a config with Env/Cmd and optional ExposedPorts, a manifest, index.json naming the image
# rh.local/NAME:latest, oci-layout. No registry needed.
#
#   scripts/mkimage.sh [--expose 8080/tcp]... [--env K=V]... [--cmd ARG]... NAME OUTPUT.tar
#
# Then:  ctr -n NS images import --snapshotter native OUTPUT.tar
# The integration harness (tests/integration/lib.sh, rh_image_build) uses the same builder.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage () { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }

opts=()
while (($#)); do
  case $1 in
  --expose | --env | --cmd) (($# >= 2)) || usage; opts+=("$1" "$2"); shift 2 ;;
  -h | --help) usage ;;
  -*) echo "mkimage: unknown option $1" >&2; usage ;;
  *) break ;;
  esac
done
(($# == 2)) || usage
name=$1 out=$2
[[ $name =~ ^[a-z0-9][a-z0-9._-]*$ ]] || { echo "mkimage: bad image name: $name" >&2; exit 2; }

# shellcheck source=../tests/integration/lib.sh
source "$root/tests/integration/lib.sh"
for c in busybox jq tar sha256sum flock; do
  command -v "$c" >/dev/null || { echo "mkimage: $c is missing (scripts/deps.sh)" >&2; exit 1; }
done
tarball=$(rh_image_tar "$name" "${opts[@]+"${opts[@]}"}")
cp "$tarball" "$out"
echo "mkimage: wrote $out ($(rh_image_ref "$name"))"
