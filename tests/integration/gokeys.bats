#!/usr/bin/env bats
# [gokeys] Key-spelling twins in config.json (docs/rewrite.md, "Key spellings").
#
# runsc reads config.json with Go's encoding/json, which matches keys case-insensitively (with
# Unicode folding) and lets the last match win; the rewrite looks keys up exactly. A bundle with
# a clean "mounts" and a "Mounts" twin that binds the TEE socket dir must be refused before
# runsc starts. These tests call the built runsc-host the way the runc shim does, on bundles of
# our own (containerd would write config.json itself), inside this file's network namespace.
# One test runs plain runsc on the same bundle, to show that the twin really reaches runsc:
# without that, the refusal tests could pass against a harmless input.

load lib.sh

setup_file ()
{
  rh_setup_env gokeys
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_policy_write
  rh_tee_socket_start
  export GK_ROOT=$RH_TMP/runsc-root
  mkdir -p "$GK_ROOT"
}

teardown_file ()
{
  rh_teardown
}

setup ()
{
  rh_skip_if_unavailable
}

# What the container reports about the TEE dir bound at /launcher (if anything is there). By
# name: this runsc, without --host-uds, lists a host socket but fails to stat it (EPERM), so
# `test -S` would miss it; ls prints the name either way (in its listing or in its error).
GK_PROBE='if ls -1a /launcher 2>&1 | grep -q -e teeserver.sock -e attestation_verifier_claims_token
then echo TEE-REACHED; else echo TEE-ABSENT; fi'

# The bind that the policy protects against, as a jq value.
GK_BIND='{"destination": "/launcher", "type": "bind", "source": $tee, "options": ["rbind", "rw"]}'

# gk_bundle DIR JQ-FILTER: a busybox bundle whose process runs the probe, then JQ-FILTER (which
# may use $tee, the TEE dir).
gk_bundle ()
{
  rh_bundle_make "$1" ".process.args = [\"/bin/sh\", \"-c\", \$probe] | $2" --arg probe "$GK_PROBE" \
    --arg tee "$RH_TEE_DIR"
}

# gk_run DIR ID [RUNTIME...]: `run` the bundle in the test netns with runsc-host (default) or
# the given runtime command; sets status and output (stdout+stderr). Output goes to a file, not
# a pipe: should a sandbox start, it must not hold bats' pipe.
gk_run ()
{
  local b=$1 id=$2
  shift 2
  local rt=("$@")
  ((${#rt[@]})) || rt=(env RUNSC_HOST_CONFIG="$RH_POLICY" "$RUNSC_HOST" --root "$GK_ROOT" --log "$b/log.json"
    --log-format json)
  rh_cleanup_push "rh_in_netns '$RH_RUNSC' --root '$GK_ROOT' delete --force '$id' >/dev/null 2>&1; \
kill -KILL \$(rh_runsc_pids '$id' '$GK_ROOT') 2>/dev/null"
  status=0
  timeout 90 nsenter --net="/run/netns/$RH_NETNS" "${rt[@]}" run --bundle "$b" "$id" \
    </dev/null >"$b/out" 2>&1 3>&- || status=$?
  output=$(cat "$b/out")
  echo "exit status $status: $output"
  [[ ! -f $b/log.json ]] || { echo "log.json:"; cat "$b/log.json"; }
}

# gk_assert_refused DIR ID SUM NEEDLE: runsc-host refused with NEEDLE, on stderr and as the last
# error line of the runc-style log (what containerd shows the user); the bundle is untouched
# and runsc never started (no process, no state for the id).
gk_assert_refused ()
{
  local b=$1 id=$2 sum=$3 needle=$4
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "$needle"
  rh_refute_contains "$output" "TEE-"
  rh_assert_contains "$(jq -r 'select(.level == "error") | .msg' "$b/log.json" | tail -n 1)" "$needle"
  [ "$(sha256sum <"$b/config.json")" = "$sum" ]
  [ ! -e "$b/config.json.orig" ]
  [ -z "$(rh_runsc_pids "$id" "$GK_ROOT")" ]
  run sh -c "ls -A '$GK_ROOT' | grep -F -- '$id'"
  [ -z "$output" ]
}

@test "a Mounts twin binding the TEE dir is refused, naming the key; nothing starts" {
  local b=$RH_TMP/b-twin id sum
  id=$(rh_cid twin)
  gk_bundle "$b" ". + {\"Mounts\": (.mounts + [$GK_BIND])}"
  # The exact "mounts" is clean: the rewrite alone would have found nothing to strip.
  [ "$(jq '[.mounts[] | select(.destination == "/launcher")] | length' "$b/config.json")" -eq 0 ]
  sum=$(sha256sum <"$b/config.json")
  gk_run "$b" "$id"
  gk_assert_refused "$b" "$id" "$sum" \
    'spec.Mounts: refused: runsc would read this key as "mounts" (it matches keys case-insensitively); spell it "mounts"'
}

@test "plain runsc honours the Mounts twin: the TEE socket is inside (the attack the refusal stops)" {
  local b=$RH_TMP/b-raw id
  id=$(rh_cid raw)
  gk_bundle "$b" ". + {\"Mounts\": (.mounts + [$GK_BIND])}"
  gk_run "$b" "$id" "$RH_RUNSC" --root "$GK_ROOT" --platform=ptrace --network=host
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "TEE-REACHED"
}

@test "twins spelled with U+017F, and a Process twin restoring CAP_SYS_ADMIN, are refused" {
  local b=$RH_TMP/b-longs id sum
  id=$(rh_cid longs)
  gk_bundle "$b" ". + {\"mount\u017f\": (.mounts + [$GK_BIND])}"
  sum=$(sha256sum <"$b/config.json")
  gk_run "$b" "$id"
  gk_assert_refused "$b" "$id" "$sum" \
    "spec.mount$(printf '\xc5\xbf'): refused: runsc would read this key as \"mounts\" (it matches keys case-insensitively, and U+017F as 's')"

  b=$RH_TMP/b-proc
  id=$(rh_cid proc)
  gk_bundle "$b" '. + {"Process": (.process | .capabilities.bounding += ["CAP_SYS_ADMIN"]
                                           | .capabilities.effective += ["CAP_SYS_ADMIN"]
                                           | .capabilities.permitted += ["CAP_SYS_ADMIN"])}'
  sum=$(sha256sum <"$b/config.json")
  gk_run "$b" "$id"
  gk_assert_refused "$b" "$id" "$sum" 'spec.Process: refused: runsc would read this key as "process"'

  b=$RH_TMP/b-src
  id=$(rh_cid src)
  gk_bundle "$b" '.mounts += [{"destination": "/launcher", "type": "bind", "source": "/srv",
                               "Source": $tee, "options": ["rbind"]}]'
  sum=$(sha256sum <"$b/config.json")
  gk_run "$b" "$id"
  gk_assert_refused "$b" "$id" "$sum" \
    "spec.mounts[$(($(jq '.mounts | length' "$b/config.json") - 1))].Source: refused: runsc would read this key as \"source\""
}

@test "control: the same bind under the exact key runs, with the TEE socket stripped" {
  local b=$RH_TMP/b-exact id
  id=$(rh_cid exact)
  gk_bundle "$b" ".mounts += [$GK_BIND] | .annotations = {\"Mounts\": \"free-form keys stay\"}"
  gk_run "$b" "$id"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "TEE-ABSENT"
  rh_refute_contains "$output" "TEE-REACHED"
  # The annotation with a field-like key was kept, and the mount was stripped by policy.
  [ "$(jq -r '.annotations.Mounts' "$b/config.json")" = "free-form keys stay" ]
  [ "$(jq '[.mounts[] | select(.destination == "/launcher")] | length' "$b/config.json")" -eq 0 ]
}
