#!/usr/bin/env bats
# [adversarial] Issue 11 end to end: specs written by hand, as an attacker would, handed to the
# built runsc-host (`run`, the way the runc shim calls it) on bundles of this file's own, with
# real runsc in this file's network namespace. For each:
#   denied    the run fails; the error names the item and the policy key (on stderr and as the
#             last error line of log.json, which containerd shows); config.json is byte-for-byte
#             what it was; runsc never started; nothing was written on the host;
#   stripped  the workload runs, and from inside it nothing protected is visible.
# The pure rewrite's corpus (tests/data/adversarial/) holds the many spellings; these are a dozen
# representative ones through the real runtime.
#
# Written before the fix of issue 11 and run against that tree: 9 of the 12 fail there (the two
# relative roots run with the host's / as root and read the host's /tmp; roots inside the TEE
# dir and /etc/runsc-host run; q/../ev and q/../runlink mount the TEE dir; /sys/kernel/config is
# not protected, so runsc fails on this host, where it does not exist; the TPM's number under
# another name stays in the spec). A symlinked config.json, the ../../run/container_launcher
# source and the control passed there already.

load lib.sh

setup_file ()
{
  rh_setup_env adv
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_policy_write
  cp "$RH_POLICY" "$RH_TMP/policy.std.json"
  rh_image_tar busybox >/dev/null
  rh_tee_socket_start
  # What must never be visible or written: a marker in the TEE dir, a file in the host's /tmp.
  export ADV_MARK=rh-adv-marker-$RH_OWNER_PID
  echo "TEE-DIR-CONTENT" >"$RH_TEE_DIR/$ADV_MARK"
  rh_cleanup_push "rm -f '$RH_TEE_DIR/$ADV_MARK'"
  export ADV_HOST=/tmp/rh-adv-host-$RH_OWNER_PID
  echo "HOST-TMP-CONTENT" >"$ADV_HOST.secret"
  rh_cleanup_push "rm -f '$ADV_HOST.secret' '$ADV_HOST.written'"
  # A root inside protected trees (a copy of the image's files).
  export ADV_TEE_ROOT=$RH_TEE_DIR/rh-adv-root-$RH_OWNER_PID
  rh_bundle_make "$RH_TMP/rootsrc"
  cp -a "$RH_TMP/rootsrc/rootfs" "$ADV_TEE_ROOT"
  rh_cleanup_push "rm -rf --one-file-system '$ADV_TEE_ROOT'"
  if [[ ! -e /etc/runsc-host ]]; then
    mkdir /etc/runsc-host
    rh_cleanup_push "rmdir /etc/runsc-host 2>/dev/null || true"
  fi
  export ADV_ETC_ROOT=/etc/runsc-host/rh-adv-root-$RH_OWNER_PID
  cp -a "$RH_TMP/rootsrc/rootfs" "$ADV_ETC_ROOT"
  rh_cleanup_push "rm -rf --one-file-system '$ADV_ETC_ROOT'"
}

teardown_file ()
{
  rh_teardown
}

setup ()
{
  rh_skip_if_unavailable
  # An earlier test's escape must not count against this one.
  rm -f "$ADV_HOST.written"
}

teardown ()
{
  [[ -z ${RH_TMP:-} ]] || cp "$RH_TMP/policy.std.json" "$RH_POLICY" 2>/dev/null || true
}

# What a workload prints: everything it can see of the protected places, and a write attempt.
PROBE='
for d in /m /m2 /; do ls -A "$d" 2>/dev/null | tr "\n" " "; echo; done
find /m /m2 -maxdepth 3 2>/dev/null | grep -E "teeserver|attestation|rh-adv-marker|tsm" | sed "s/^/FOUND /"
cat /m/* /m2/* /m/container_launcher/* /m2/container_launcher/* 2>/dev/null
cat "/tmp/rh-adv-host-$ADV_OWNER.secret" 2>/dev/null
for f in /dev/rh-adv-tpm-$ADV_OWNER /dev/tpm0 /dev/tpmrm0; do test -e $f && echo "DEVICE $f"; done
echo written >"/tmp/rh-adv-host-$ADV_OWNER.written" 2>/dev/null && echo WRITE-OK
echo PROBE-DONE'

# adv_bundle NAME [JQ-FILTER [JQ-ARGS...]]: a bundle whose workload runs PROBE; prints its dir.
adv_bundle ()
{
  local name=$1 b=$RH_TMP/adv/$1
  shift
  mkdir -p "$RH_TMP/adv"
  rh_bundle_make "$b" "${1:-.}" "${@:2}" >&2
  jq --arg p "$PROBE" --arg o "$RH_OWNER_PID" \
    '.process.args = ["/bin/sh", "-c", $p] | .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ADV_OWNER=" + $o]' "$b/config.json" >"$b/config.tmp"
  mv "$b/config.tmp" "$b/config.json"
  echo "$b"
}

# adv_run BUNDLE ID: runsc-host run, as the shim would; sets status and output.
adv_run ()
{
  local b=$1 id=$2
  rh_cleanup_push "kill -KILL \$(rh_runsc_pids '$id' '$RH_TMP/adv-root') 2>/dev/null; true"
  SUM_BEFORE=$(sha256sum <"$b/config.json")
  LINK_BEFORE=$(readlink "$b/config.json" || true)
  status=0
  # A file, not a pipe: a sandbox that did start must not hold bats' pipe.
  rh_in_netns timeout 60 "$RUNSC_HOST" --root "$RH_TMP/adv-root" --log "$b/log.json" --log-format json \
    run --bundle "$b" "$id" </dev/null >"$b/out" 2>&1 3>&- || status=$?
  output=$(cat "$b/out")
  rh_in_netns "$RUNSC_HOST" --root "$RH_TMP/adv-root" delete --force "$id" >/dev/null 2>&1 || true
  echo "exit status $status: $output"
  echo "log.json: $(cat "$b/log.json" 2>/dev/null)"
}

# Nothing protected reached the workload's output, and nothing landed on the host.
assert_nothing_leaked ()
{
  rh_refute_contains "$output" "TEE-DIR-CONTENT"
  rh_refute_contains "$output" "$ADV_MARK"
  rh_refute_contains "$output" "teeserver.sock"
  rh_refute_contains "$output" "attestation_verifier"
  rh_refute_contains "$output" "stand-in"
  rh_refute_contains "$output" "HOST-TMP-CONTENT"
  rh_refute_contains "$output" "DEVICE "
  rh_refute_contains "$output" "FOUND "
  [ ! -e "$ADV_HOST.written" ] || { rh_log "the workload wrote into the host's /tmp"; return 1; }
  [ ! -e "$ADV_TEE_ROOT/tmp/rh-adv-host-$RH_OWNER_PID.written" ] || { rh_log "written inside the TEE dir"; return 1; }
  [ ! -e "$ADV_ETC_ROOT/tmp/rh-adv-host-$RH_OWNER_PID.written" ] || { rh_log "written inside /etc/runsc-host"; return 1; }
}

# expect_denied BUNDLE ID KEY NEEDLE...: refused with the policy key and each needle in the error.
expect_denied ()
{
  local b=$1 id=$2 key=$3 n
  shift 3
  [ "$status" -ne 0 ]
  rh_refute_contains "$output" "PROBE-DONE"
  rh_assert_contains "$output" "($key"
  for n in "$@"; do rh_assert_contains "$output" "$n"; done
  [ "$(jq -r 'select(.level == "error") | .msg' "$b/log.json" | tail -n 1 | grep -cF "($key")" -eq 1 ]
  [ "$(sha256sum <"$b/config.json")" = "$SUM_BEFORE" ]
  [ "$(readlink "$b/config.json" || true)" = "$LINK_BEFORE" ]
  [ ! -e "$b/config.json.orig" ]
  [ -z "$(rh_runsc_pids "$id" "$RH_TMP/adv-root")" ]
  run sh -c "ls -A '$RH_TMP/adv-root' 2>/dev/null | grep -F -- '$id'"
  [ -z "$output" ]
  assert_nothing_leaked
}

# expect_stripped: the workload ran (so the checks inside it happened) and saw nothing.
expect_stripped ()
{
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "PROBE-DONE"
  assert_nothing_leaked
}

bind_at ()
{
  printf '.mounts += [{"destination": "%s", "type": "bind", "source": $src, "options": ["rbind", "ro"]}]' "$1"
}

# ---- roots: denied (a root cannot be stripped) ----

@test "denied: root nope/../rootfs with rootfs -> / (the issue's reproducer); host /tmp neither read nor written" {
  local b id
  id=$(rh_cid rootnope)
  b=$(adv_bundle rootnope '.root.path = "nope/../rootfs"')
  mv "$b/rootfs" "$b/rootfs.real"
  ln -s / "$b/rootfs"
  adv_run "$b" "$id"
  expect_denied "$b" "$id" protected_paths root
}

@test "denied: root link/../rootfs, where the kernel's link/.. is a harmless rootfs but runsc's is rootfs -> /" {
  local b id
  id=$(rh_cid rootlink)
  b=$(adv_bundle rootlink '.root.path = "link/../rootfs"')
  mkdir -p "$b/sub/real"
  mv "$b/rootfs" "$b/sub/rootfs"
  ln -s sub/real "$b/link"
  ln -s / "$b/rootfs"
  adv_run "$b" "$id"
  expect_denied "$b" "$id" protected_paths root
}

@test "denied: root inside /run/container_launcher (a full rootfs there)" {
  local b id
  id=$(rh_cid roottee)
  b=$(adv_bundle roottee '.root.path = $r' --arg r "$ADV_TEE_ROOT")
  adv_run "$b" "$id"
  expect_denied "$b" "$id" protected_paths root
}

@test "denied: root inside /etc/runsc-host, reached through a symlink in the bundle" {
  local b id
  id=$(rh_cid rootetc)
  b=$(adv_bundle rootetc '.root.path = "etclink"')
  ln -s "$ADV_ETC_ROOT" "$b/etclink"
  adv_run "$b" "$id"
  expect_denied "$b" "$id" protected_paths root
}

@test "denied: config.json is a symlink (to a spec elsewhere); both stay as they were" {
  local b id
  id=$(rh_cid cfglink)
  b=$(adv_bundle cfglink)
  mv "$b/config.json" "$RH_TMP/adv/cfglink.elsewhere.json"
  ln -s "$RH_TMP/adv/cfglink.elsewhere.json" "$b/config.json"
  adv_run "$b" "$id"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "config.json"
  [ "$(sha256sum <"$b/config.json")" = "$SUM_BEFORE" ]
  [ "$(readlink "$b/config.json")" = "$LINK_BEFORE" ]
  [ ! -e "$b/config.json.orig" ]
  [ -z "$(rh_runsc_pids "$id" "$RH_TMP/adv-root")" ]
  assert_nothing_leaked
}

# ---- mounts: stripped by default, denied in deny mode ----

@test "stripped: mount source q/../ev (relative, q missing) with ev -> /run/container_launcher" {
  local b id
  id=$(rh_cid qev)
  b=$(adv_bundle qev "$(bind_at /m)" --arg src "q/../ev")
  ln -s "$RH_TEE_DIR" "$b/ev"
  adv_run "$b" "$id"
  expect_stripped
}

@test "denied in deny mode: mount source q/../ev; the error names the mount and the key" {
  local b id
  rh_policy_write '.protected_mount_action = "deny"'
  id=$(rh_cid qevdeny)
  b=$(adv_bundle qevdeny "$(bind_at /m)" --arg src "q/../ev")
  ln -s "$RH_TEE_DIR" "$b/ev"
  adv_run "$b" "$id"
  expect_denied "$b" "$id" protected_paths "mount" "$RH_TEE_DIR"
}

@test "stripped: a relative source ../../../../../../../../run/container_launcher" {
  local b id
  id=$(rh_cid relup)
  b=$(adv_bundle relup "$(bind_at /m)" --arg src "../../../../../../../../run/container_launcher")
  adv_run "$b" "$id"
  expect_stripped
}

@test "stripped: a bind of /var/run/container_launcher, and of /run through a relative q/../runlink" {
  local b id
  id=$(rh_cid varrun)
  b=$(adv_bundle varrun "$(bind_at /m) | $(bind_at /m2 | sed 's/\$src/$src2/')" \
    --arg src /var/run/container_launcher --arg src2 "q/../runlink")
  ln -s /run "$b/runlink"
  adv_run "$b" "$id"
  expect_stripped
}

@test "stripped: a bind of /sys/kernel/config (configfs-tsm attestation reports)" {
  local b id
  id=$(rh_cid cfgfs)
  b=$(adv_bundle cfgfs "$(bind_at /m)" --arg src /sys/kernel/config)
  adv_run "$b" "$id"
  expect_stripped
  rh_refute_contains "$output" "tsm"
}

# ---- devices: stripped ----

@test "stripped: a linux.devices entry with another name and the TPM's number (char 10:224)" {
  local b id dev=/dev/rh-adv-tpm-$RH_OWNER_PID
  # A host node with the TPM's number under a name no glob in protected_devices matches (this
  # host has no TPM: the node is what runsc would pass through).
  mknod -m 0600 "$dev" c 10 224
  rh_cleanup_push "rm -f '$dev'"
  id=$(rh_cid tpmnum)
  b=$(adv_bundle tpmnum '.linux.devices = [{"path": $d, "type": "c", "major": 10, "minor": 224,
                                            "fileMode": 384, "uid": 0, "gid": 0}]' --arg d "$dev")
  adv_run "$b" "$id"
  rm -f "$dev"
  expect_stripped
  # This runsc does not create the node either way; what it was handed must not hold it.
  [ "$(jq '[.linux.devices[]? | select(.type == "c" and .major == 10 and .minor == 224)] | length' \
    "$b/config.json")" -eq 0 ]
}

# ---- control: an ordinary bundle runs, so the refusals above are the policy's ----

@test "control: an ordinary bundle with an ordinary bind runs and sees its content" {
  local b id
  id=$(rh_cid control)
  mkdir -p "$RH_TMP/adv/vol"
  echo "ordinary-volume" >"$RH_TMP/adv/vol/f"
  b=$(adv_bundle control "$(bind_at /m)" --arg src "$RH_TMP/adv/vol")
  adv_run "$b" "$id"
  expect_stripped
  rh_assert_contains "$output" "ordinary-volume"
  # The workload can write (into its own /tmp), so "nothing written on the host" means something.
  rh_assert_contains "$output" "WRITE-OK"
}
