#!/usr/bin/env bats
# [race] Class 2 of issue 11: what the rewrite checked must be what runsc mounts. A racer
# re-points a bind mount's source in a tight loop while containers are created through
# runsc-host and real runsc; from inside every container, the TEE directory
# (/run/container_launcher: the stand-in socket and a marker file this test puts there) must
# never be visible. Each create either runs with the harmless content, runs with the mount
# stripped, or is refused; nothing else is acceptable.
#
# Two shapes of the race:
#   link  the source is a symlink flipped (atomically, `ln -sfn` by rename) between a harmless
#         directory and /run/container_launcher;
#   dir   a directory component of the source is exchanged (renameat2 RENAME_EXCHANGE) with a
#         symlink to /run: <tmp>/d/container_launcher is a harmless directory one moment and the
#         TEE directory the next. Writing the resolved path back is not enough against this
#         one: the check's answer must be pinned (staged) for runsc.
#
# Before the rewrite pinned its answer, about one create in four or five won the race here.
# RH_RACE_N (default 30) containers per shape, RH_RACE_PAR (default 3) at a time.

load lib.sh

setup_file ()
{
  rh_setup_env race
  [[ -z $RH_SKIP_REASON ]] || return 0
  rh_require_binary "$RUNSC_HOST"
  command -v python3 >/dev/null || { RH_SKIP_REASON="python3 is needed for the racer"; return 0; }
  rh_netns_create
  rh_policy_write
  rh_containerd_start
  rh_image_build busybox
  rh_tee_socket_start
  # A marker of our own beside the stand-in socket (removed before the socket's cleanup runs).
  export RACE_MARKER=rh-race-marker-$RH_OWNER_PID
  echo "PROTECTED-CONTENT" >"$RH_TEE_DIR/$RACE_MARKER"
  rh_cleanup_push "rm -f '$RH_TEE_DIR/$RACE_MARKER'"
  export RACE=$RH_TMP/race
  mkdir -p "$RACE/harmless" "$RACE/d/container_launcher"
  echo "harmless-content" >"$RACE/harmless/harmless"
  echo "harmless-content" >"$RACE/d/container_launcher/harmless"
  ln -s "$RACE/harmless" "$RACE/link"
  ln -s /run "$RACE/d.alt"
}

teardown_file ()
{
  rh_teardown
}

setup ()
{
  rh_skip_if_unavailable
}

# racer_start MODE ARGS...: start the racer, remember its pid; racer_stop prints its flip count.
racer_start ()
{
  python3 "$RH_SOURCE_DIR/tests/integration/race_swap.py" "$@" >"$RH_TMP/racer.out" 2>&1 3>&- &
  RACER=$!
  rh_cleanup_push "kill $RACER 2>/dev/null || true"
}

racer_stop ()
{
  kill -TERM "$RACER" 2>/dev/null || true
  wait "$RACER" 2>/dev/null || true
  cat "$RH_TMP/racer.out"
}

# One container with SRC bound at /mnt; its output (and ctr's) goes to $RH_TMP/out/ID.
one ()
{
  local id=$1 src=$2 rc=0
  # What the container saw goes to a file on a bind of its own (ctr's stdout capture can lose
  # the output of a task that exits at once, under load), then into the log with ctr's output.
  mkdir -p "$RH_TMP/res/$id"
  rh_run --mount "type=bind,src=$src,dst=/mnt,options=rbind:ro" \
    --mount "type=bind,src=$RH_TMP/res/$id,dst=/res,options=rbind:rw" "$RH_IMAGE" "$id" sh -c '
    { if [ -e /mnt ]; then echo "MNT: $(ls -A /mnt | tr "\n" " ")"; cat /mnt/* 2>/dev/null; else echo NO-MNT; fi
    } >/res/seen' >"$RH_TMP/out/$id" 2>&1 </dev/null || rc=$?
  cat "$RH_TMP/res/$id/seen" >>"$RH_TMP/out/$id" 2>/dev/null || true
  echo "exit $rc" >>"$RH_TMP/out/$id"
  # A failed create can leave the container record behind.
  rh_ctr containers delete "$id" >/dev/null 2>&1 || true
}

# race SHAPE SRC: create RH_RACE_N containers with SRC bound while the racer runs; classify.
race ()
{
  local shape=$1 src=$2 n=${RH_RACE_N:-30} par=${RH_RACE_PAR:-3} i id f
  local leaked=0 harmless=0 stripped=0 refused=0 other=0 flips
  local pids=()
  mkdir -p "$RH_TMP/out"
  # (wait with pids: a bare wait would also wait for the racer)
  for ((i = 0; i < n; i++)); do
    id=$(rh_cid "$shape$(printf '%02d' "$i")x")
    one "$id" "$src" &
    pids+=($!)
    if ((${#pids[@]} == par)); then
      wait "${pids[@]}"
      pids=()
    fi
  done
  ((${#pids[@]} == 0)) || wait "${pids[@]}"
  flips=$(racer_stop)
  for ((i = 0; i < n; i++)); do
    id=$(rh_cid "$shape$(printf '%02d' "$i")x")
    f=$RH_TMP/out/$id
    if grep -qE "PROTECTED-CONTENT|$RACE_MARKER|teeserver\.sock|attestation_verifier" "$f"; then
      leaked=$((leaked + 1))
      rh_log "LEAK in $id: $(tr '\n' ' ' <"$f")"
    elif grep -q '^exit 0$' "$f" && grep -q '^harmless-content$' "$f"; then
      harmless=$((harmless + 1))
    elif grep -q '^exit 0$' "$f" && grep -qE '^NO-MNT$|^MNT: $' "$f"; then
      stripped=$((stripped + 1))
    elif ! grep -q '^exit 0$' "$f"; then
      refused=$((refused + 1))
    else
      other=$((other + 1))
      rh_log "unexpected in $id: $(tr '\n' ' ' <"$f")"
    fi
  done
  echo "# race $shape: $n creates, racer flipped $flips times: $harmless harmless, $stripped stripped," \
    "$refused refused, $leaked LEAKED, $other other" >&3
  for ((i = 0; i < n; i++)); do
    rh_assert_nothing_running "$(rh_cid "$shape$(printf '%02d' "$i")x")" || other=$((other + 1))
  done
  [ "$flips" -gt 0 ]
  [ "$leaked" -eq 0 ]
  [ "$other" -eq 0 ]
}

@test "sanity: without a racer, each shape runs with the harmless content, and the TEE dir itself is stripped" {
  mkdir -p "$RH_TMP/out"
  one "$(rh_cid sane1)" "$RACE/link"
  one "$(rh_cid sane2)" "$RACE/d/container_launcher"
  one "$(rh_cid sane3)" "$RH_TEE_DIR"
  cat "$RH_TMP/out/$(rh_cid sane1)" "$RH_TMP/out/$(rh_cid sane2)" "$RH_TMP/out/$(rh_cid sane3)"
  grep -q '^harmless-content$' "$RH_TMP/out/$(rh_cid sane1)"
  grep -q '^harmless-content$' "$RH_TMP/out/$(rh_cid sane2)"
  grep -q '^exit 0$' "$RH_TMP/out/$(rh_cid sane3)"
  run grep -E "PROTECTED-CONTENT|teeserver" "$RH_TMP/out/$(rh_cid sane3)"
  [ "$status" -ne 0 ]
  # The marker really is in the protected directory (so "not visible" below means something).
  [ "$(cat "$RH_TEE_DIR/$RACE_MARKER")" = PROTECTED-CONTENT ]
}

@test "a symlink source flipped between a harmless dir and /run/container_launcher never mounts the TEE dir" {
  racer_start link "$RACE/link" "$RACE/harmless" "$RH_TEE_DIR"
  race link "$RACE/link"
}

@test "a directory component exchanged with a symlink to /run never mounts the TEE dir" {
  racer_start exchange "$RACE/d" "$RACE/d.alt"
  race dir "$RACE/d/container_launcher"
}
