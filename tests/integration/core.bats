#!/usr/bin/env bats
# [core] runsc-host through real containerd and runsc (issue 2): `ctr run --runc-binary
# <built runsc-host>` against a private containerd in this file's own network namespace.
# Every check looks at what a user sees: the kernel the workload runs on, files present or
# absent inside the container, a TCP connection, an exit status, the text ctr prints.

load lib.sh

setup_file ()
{
  rh_setup_env core
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  rh_netns_create
  rh_policy_write
  rh_containerd_start
  rh_image_build busybox
  rh_tee_socket_start
  # A volume dir with an ordinary file (must stay visible) and planted symlinks that point at
  # the TEE socket and its directory (must not let the socket in).
  mkdir -p "$RH_TMP/vol/data"
  echo "ordinary volume content" >"$RH_TMP/vol/data/marker"
  ln -s "$RH_TEE_SOCKET" "$RH_TMP/vol/sock-link"
  ln -s "$RH_TEE_DIR" "$RH_TMP/vol/dir-link"
  ln -s /run "$RH_TMP/vol/run-link"
}

teardown_file ()
{
  rh_teardown
}

setup ()
{
  rh_skip_if_unavailable
}

teardown ()
{
  # Put the good policy back whatever a test did to it.
  [[ -z ${RH_TMP:-} ]] || cp "$RH_TMP/policy.good.json" "$RH_POLICY" 2>/dev/null || true
}

# A bind mount option for ctr run.
bind ()
{
  printf 'type=bind,src=%s,dst=%s,options=rbind:ro' "$1" "$2"
}

# Run one container with a protected mount (src -> dst) next to an ordinary volume; print
# what the workload sees.
run_with_protected_mount ()
{
  local src=$1 dst=$2 id=$3
  run rh_run --mount "$(bind "$src" "$dst")" --mount "$(bind "$RH_TMP/vol/data" /data)" \
    "$RH_IMAGE" "$id" sh -c "
      cat /data/marker
      if test -e '$dst' || test -L '$dst'; then echo 'DST PRESENT'; ls -d '$dst'; fi
      for p in /tee.sock /cl/teeserver.sock /hostrun/container_launcher /hostvarrun/container_launcher \
               /hostroot/run/container_launcher; do
        if test -e \$p || test -S \$p; then echo \"LEAK \$p\"; fi
      done
      exit 0"
  echo "$output"
}

@test "the workload runs under gVisor, not on the host kernel" {
  local id pid
  id=$(rh_cid kernel)
  rh_run_detached "$RH_IMAGE" "$id" sleep 300
  # Host side: the task's process is gVisor's sandbox, not the workload's own binary.
  pid=$(rh_ctr tasks list | awk -v id="$id" '$1 == id {print $2}')
  run tr '\0' ' ' <"/proc/$pid/cmdline"
  echo "task pid $pid: $output"
  rh_assert_contains "$output" "runsc-sandbox"
  # Inside: gVisor's kernel version, not the host's.
  run rh_ctr tasks exec --exec-id k "$id" uname -r
  rh_container_cleanup "$id"
  echo "inside: $output; host: $(uname -r)"
  [ "$status" -eq 0 ]
  [ -n "$output" ]
  [ "$output" != "$(uname -r)" ]
}

@test "the bundle is rewritten under the policy: hash recorded, original kept beside it" {
  local id bundle want
  id=$(rh_cid bundle)
  rh_run_detached "$RH_IMAGE" "$id" sleep 300
  bundle=$(rh_bundle_dir "$id")
  want=$(sha256sum "$RH_POLICY" | cut -d' ' -f1)
  run jq -r '.annotations["run.runsc-host.policy-sha256"]' "$bundle/config.json"
  local got=$output
  run jq -r '.annotations["run.runsc-host.policy-sha256"] // "none"' "$bundle/config.json.orig"
  local orig=$output
  run jq -r '[.linux.namespaces[]?.type] | index("network") // "none"' "$bundle/config.json"
  local netns=$output
  rh_container_cleanup "$id"
  echo "policy hash in config.json: $got, want $want; in config.json.orig: $orig; netns: $netns"
  [ "$got" = "$want" ]
  [ "$orig" = none ]
  [ "$netns" = none ]
}

@test "TEE socket bind-mounted directly is absent inside the container" {
  [ -S "$RH_TEE_SOCKET" ] # the host really has it
  run_with_protected_mount "$RH_TEE_SOCKET" /tee.sock "$(rh_cid direct)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
}

@test "TEE socket through an unclean spelling (//run/./container_launcher/..//...) is absent" {
  run_with_protected_mount "//run/./container_launcher/..//container_launcher/teeserver.sock" \
    /tee.sock "$(rh_cid spelling)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
}

@test "TEE socket through its parent dir /run/container_launcher is absent" {
  [ -f "$RH_TEE_TOKEN" ] || [ -S "$RH_TEE_SOCKET" ]
  run_with_protected_mount "$RH_TEE_DIR" /cl "$(rh_cid parent)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
}

@test "TEE socket through the ancestor /run is absent" {
  run_with_protected_mount /run /hostrun "$(rh_cid ancestor)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
}

@test "TEE socket through /var/run (a symlink to /run) is absent" {
  [ "$(readlink -f /var/run)" = /run ] || skip "/var/run is not a symlink to /run on this host"
  run_with_protected_mount /var/run /hostvarrun "$(rh_cid varrun)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
}

@test "TEE socket through the host root / is absent" {
  run_with_protected_mount / /hostroot "$(rh_cid root)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
}

@test "TEE socket through a symlink planted in a volume dir is absent" {
  run_with_protected_mount "$RH_TMP/vol/sock-link" /tee.sock "$(rh_cid symlink)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
}

@test "TEE dir through a symlinked dir and /run through a symlink in a volume are absent" {
  run_with_protected_mount "$RH_TMP/vol/dir-link" /cl "$(rh_cid dirlink)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
  run_with_protected_mount "$RH_TMP/vol/run-link" /hostrun "$(rh_cid runlink)"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_refute_contains "$output" "PRESENT"
  rh_refute_contains "$output" "LEAK"
}

@test "a volume holding a symlink to the socket is kept, and the link does not reach the host" {
  run rh_run --mount "$(bind "$RH_TMP/vol" /vol)" "$RH_IMAGE" "$(rh_cid vollink)" sh -c '
    cat /vol/data/marker
    test -L /vol/sock-link && echo "LINK KEPT"
    test -e /vol/sock-link && echo "LINK RESOLVES"
    exit 0'
  echo "$output"
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "ordinary volume content"
  rh_assert_contains "$output" "LINK KEPT"
  rh_refute_contains "$output" "LINK RESOLVES"
}

@test "the container listens on a port that a client in the test namespace reaches" {
  local id port=18080 i
  id=$(rh_cid httpd)
  rh_run_detached "$RH_IMAGE" "$id" httpd -f -p "$port" -h /www
  for ((i = 0; i < 50; i++)); do
    rh_in_netns curl -sS -m 2 "http://127.0.0.1:$port/" >"$RH_TMP/http.out" 2>/dev/null && break
    sleep 0.2
  done
  cat "$RH_TMP/http.out"
  rh_assert_contains "$(cat "$RH_TMP/http.out")" "runsc-host test image busybox"
  rh_container_cleanup "$id"
  # The listener was the container's: once it is gone, the connection is refused.
  run rh_in_netns curl -sS -m 2 "http://127.0.0.1:$port/"
  echo "$output"
  [ "$status" -eq 7 ] # curl: could not connect
}

@test "exit codes propagate" {
  run rh_run "$RH_IMAGE" "$(rh_cid exit7)" sh -c 'exit 7'
  [ "$status" -eq 7 ]
  run rh_run "$RH_IMAGE" "$(rh_cid exit0)" true
  [ "$status" -eq 0 ]
  run rh_run "$RH_IMAGE" "$(rh_cid exit255)" sh -c 'exit 255'
  [ "$status" -eq 255 ]
}

@test "exec, ps, pause/resume, kill and delete work through containerd" {
  local id
  id=$(rh_cid life)
  rh_run_detached "$RH_IMAGE" "$id" sh -c 'trap "exit 42" TERM; while :; do sleep 1; done'

  run rh_ctr tasks exec --exec-id e1 "$id" sh -c 'echo exec-ok; exit 3'
  echo "$output"
  [ "$status" -eq 3 ]
  rh_assert_contains "$output" "exec-ok"

  run rh_ctr tasks ps "$id"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -ge 2 ] # header and at least the init process

  rh_ctr tasks pause "$id"
  run rh_ctr tasks list
  echo "$output"
  [[ $(awk -v id="$id" '$1 == id {print $3}' <<<"$output") == PAUSED ]]

  rh_ctr tasks resume "$id"
  run rh_ctr tasks list
  [[ $(awk -v id="$id" '$1 == id {print $3}' <<<"$output") == RUNNING ]]
  run rh_ctr tasks exec --exec-id e2 "$id" echo after-resume
  [ "$status" -eq 0 ]
  rh_assert_contains "$output" "after-resume"

  rh_ctr tasks kill -s SIGTERM "$id"
  rh_task_wait_gone_or_stopped "$id"
  run rh_ctr tasks delete "$id"
  echo "$output"
  rh_assert_contains "$output" "exit with non-zero exit code 42" # the TERM trap ran
  rh_ctr containers delete "$id"
  rh_assert_nothing_running "$id"
  [ ! -e "$(rh_bundle_dir "$id")" ]
}

# ---- failures: clear error through ctr, nothing left running ----

@test "deny policy: ctr prints the refusal of the protected mount and nothing runs" {
  local id
  id=$(rh_cid deny)
  rh_policy_write '.protected_mount_action = "deny"'
  run rh_run --mount "$(bind "$RH_TEE_SOCKET" /tee.sock)" "$RH_IMAGE" "$id" true
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "mount of /run/container_launcher/teeserver.sock denied by policy (protected_paths)"
  rh_assert_nothing_running "$id"
}

@test "deny policy: a spelled-around mount is refused naming the protected path" {
  local id
  id=$(rh_cid deny2)
  rh_policy_write '.protected_mount_action = "deny"'
  run rh_run --mount "$(bind "$RH_TMP/vol/dir-link" /cl)" "$RH_IMAGE" "$id" true
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "denied by policy (protected_paths)"
  rh_assert_nothing_running "$id"
}

@test "broken policy (invalid JSON): ctr prints the policy error and nothing runs" {
  local id
  id=$(rh_cid badjson)
  printf '{"runsc": {"path": "/usr/bin/runsc",' | rh_policy_write_raw
  run rh_run "$RH_IMAGE" "$id" true
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "$RH_POLICY"
  rh_assert_nothing_running "$id"
}

@test "broken policy (unknown key): ctr prints an error naming the key and nothing runs" {
  local id
  id=$(rh_cid badkey)
  rh_policy_write '. + {"protected_pathz": ["/srv"]}'
  run rh_run "$RH_IMAGE" "$id" true
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "policy key protected_pathz: unknown key"
  rh_assert_nothing_running "$id"
}

@test "missing runsc: ctr prints an error naming the path and nothing runs" {
  local id
  id=$(rh_cid norunsc)
  rh_policy_write '.runsc.path = "/nonexistent/runsc"'
  run rh_run "$RH_IMAGE" "$id" true
  echo "$output"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "/nonexistent/runsc"
  rh_assert_nothing_running "$id"
}

# ---- failures on a bundle we own: config.json must be byte-for-byte untouched ----
# containerd deletes its bundle when create fails, so these call the built runsc-host the way
# the runc shim does, on a bundle of our own.


assert_bundle_untouched ()
{
  local bundle=$1 sum_before=$2 id=$3
  [ "$(sha256sum <"$bundle/config.json")" = "$sum_before" ]
  run jq -e '.annotations["run.runsc-host.policy-sha256"]' "$bundle/config.json"
  [ "$status" -ne 0 ] # no marking: nothing was written
  [ -z "$(rh_runsc_pids "$id" "$RH_TMP/direct-root")" ]
  # No runsc state for the id: runsc was never started.
  run sh -c "ls -A '$RH_TMP/direct-root' 2>/dev/null | grep -F -- '$id'"
  [ -z "$output" ]
  # The error reached the runc-style log as the last error line (what containerd shows).
  [ "$(jq -r 'select(.level == "error") | .msg' "$bundle/log.json" | tail -n 1)" != "" ]
}

@test "direct create with a protected mount in deny mode: refused, config.json untouched" {
  local b=$RH_TMP/bundle-deny id sum
  id=$(rh_cid direct-deny)
  rh_bundle_make "$b" '.mounts += [{"destination": "/tee.sock", "type": "bind", "source": $src,
                                      "options": ["rbind", "ro"]}]' --arg src "$RH_TEE_SOCKET"
  sum=$(sha256sum <"$b/config.json")
  rh_policy_write '.protected_mount_action = "deny"'
  rh_create_direct "$b" "$id"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "mount of /run/container_launcher/teeserver.sock denied by policy (protected_paths)"
  assert_bundle_untouched "$b" "$sum" "$id"
}

@test "direct create with an invalid config.json: clear error, file untouched, nothing runs" {
  local b=$RH_TMP/bundle-badspec id sum
  id=$(rh_cid direct-badspec)
  rh_bundle_make "$b"
  printf '{"ociVersion": "1.0.2", "process": ' >"$b/config.json"
  sum=$(sha256sum <"$b/config.json")
  rh_create_direct "$b" "$id"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "config.json"
  [ "$(sha256sum <"$b/config.json")" = "$sum" ]
  [ -z "$(rh_runsc_pids "$id" "$RH_TMP/direct-root")" ]
}

@test "direct create with a broken policy or a missing runsc: config.json untouched" {
  local b=$RH_TMP/bundle-badpol id sum
  id=$(rh_cid direct-badpol)
  rh_bundle_make "$b"
  sum=$(sha256sum <"$b/config.json")

  rh_policy_write '. + {"protected_pathz": []}'
  rh_create_direct "$b" "$id"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "policy key protected_pathz: unknown key"
  assert_bundle_untouched "$b" "$sum" "$id"

  rh_policy_write '.runsc.path = "/nonexistent/runsc"'
  rh_create_direct "$b" "$id"
  [ "$status" -ne 0 ]
  rh_assert_contains "$output" "/nonexistent/runsc"
  assert_bundle_untouched "$b" "$sum" "$id"
}
