#!/usr/bin/env bash
# The create path under valgrind memcheck (issue 15): a docker-style spec (bench/rewrite_bench.c
# "gen", 300 seccomp names and Docker's argument rules, volumes) is rewritten on disk the way
# `runsc-host create` does it (policy file loaded, rh_rewrite_bundle: parse, every modifier,
# atomic write), once by the rewrite driver's "rss" mode, which then exits, so memcheck sees the
# end of the process and checks for leaks; then the real runsc-host create on the same bundle
# (root only: it stages binds in a private mount namespace), up to its execv of a stand-in runsc.
# Fails on any memcheck error or any definite/indirect/possible leak. (valgrind 3.19 does not
# know openat2, so under it runsc-host pins but does not stage, and says so in a warning.)
#
#   tests/valgrind/create.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=${1:?usage: create.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed (apt-get install valgrind)"; exit 77; }
tmp=$(mktemp -d /tmp/rh-valgrind.XXXXXX)
trap 'rm -rf --one-file-system "$tmp"' EXIT
chmod 0700 "$tmp"
drv=$tmp/rewrite_bench
# As bench/lib.sh builds it (-iquote on each lib/ folder: lib/policy/seccomp.h must not hide
# <seccomp.h>).
# shellcheck disable=SC2046
cc -O1 -g -std=gnu11 -D_GNU_SOURCE $(for d in "$src"/lib/*/; do printf -- '-iquote %s ' "$d"; done) -o "$drv" "$src/bench/rewrite_bench.c" \
  "$build/lib/librhcore.a" $(pkg-config --libs jansson libseccomp libcap openssl) -lm

jq --arg state "$tmp/state" '.runsc.path = "/bin/true" | .runsc.platform = "ptrace" | .state_dir = $state' \
  "$build/config/runsc-host.json" >"$tmp/policy.json"
"$drv" gen "$tmp/bundle" 300 docker >/dev/null
cp "$tmp/bundle/config.json" "$tmp/config.orig.json"

vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --track-fds=no -q)
echo "== rewrite of a docker-style spec, on disk, to exit (leak check)"
"${vg[@]}" "$drv" rss "$tmp/policy.json" "$tmp/bundle"
jq -e '.annotations["run.runsc-host.policy-sha256"]' "$tmp/bundle/config.json" >/dev/null

if [[ $(id -u) -eq 0 ]]; then
  echo "== runsc-host create on the same spec, up to the execv of runsc (memcheck errors)"
  cp "$tmp/config.orig.json" "$tmp/bundle/config.json"
  rm -f "$tmp/bundle/config.json.orig"
  RUNSC_HOST_CONFIG=$tmp/policy.json "${vg[@]}" "$build/runtime-wrapper/runsc-host" --root "$tmp/root" \
    --log "$tmp/log.json" --log-format json create --bundle "$tmp/bundle" bench-0123456789abcdef
  jq -e '.annotations["run.runsc-host.policy-sha256"]' "$tmp/bundle/config.json" >/dev/null
else
  echo "(not root: runsc-host create itself skipped; the rewrite above ran)"
fi
echo "valgrind memcheck: 0 errors, 0 leaks"
