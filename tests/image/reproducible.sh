#!/usr/bin/env bash
# ctest image/reproducible: scripts/build-image.sh twice, from two copies of this checkout at
# different paths, with different work dirs and umasks, must give the same image digest and the
# same archive bytes. Skips (exit 77) when the pinned Go tools are not built.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/scripts/versions.env"
for t in nerdctl containerd containerd-shim-runc-v2 runsc; do
  [[ -x $RH_GO_PREFIX/$t ]] || { echo "SKIP: $RH_GO_PREFIX/$t not built (scripts/deps-go.sh)"; exit 77; }
done
tmp=$(mktemp -d /tmp/rh-repro.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The same commit, as two verifiers would have it: the tracked files (with local changes) at
# two different paths, each its own git checkout (SOURCE_DATE_EPOCH comes from the commit).
epoch=$(git -C "$src" log -1 --format=%ct)
export SOURCE_REVISION
SOURCE_REVISION=$(git -C "$src" rev-parse HEAD)
for d in "$tmp/one/runsc-host" "$tmp/second-machine/src/x"; do
  mkdir -p "$d"
  git -C "$src" ls-files -z | (cd "$src" && xargs -0 cp --parents -P -t "$d")
done
digest1=$(cd /tmp && umask 022 && SOURCE_DATE_EPOCH=$epoch "$tmp/one/runsc-host/scripts/build-image.sh" \
  --work "$tmp/w1" "$tmp/one.tar" | tail -n 1)
digest2=$(cd / && umask 077 && SOURCE_DATE_EPOCH=$epoch "$tmp/second-machine/src/x/scripts/build-image.sh" \
  --work "$tmp/elsewhere/w2" "$tmp/two.tar" | tail -n 1)
echo "build 1: $digest1"
echo "build 2: $digest2"
[[ $digest1 == sha256:* ]] || { echo "FAIL: no digest from build 1"; exit 1; }
if [[ $digest1 != "$digest2" ]]; then
  echo "FAIL: the two builds differ; first differing files:"
  mkdir -p "$tmp/x1" "$tmp/x2"
  tar -xf "$tmp/one.tar" -C "$tmp/x1"; tar -xf "$tmp/two.tar" -C "$tmp/x2"
  diff -r "$tmp/x1" "$tmp/x2" | head -n 5
  exit 1
fi
cmp "$tmp/one.tar" "$tmp/two.tar"
echo "PASS: the same digest from both builds ($digest1)"
