#!/usr/bin/env bash
# Where the lifecycle time goes: every runtime call containerd's shim makes during `ctr run --rm
# --net-host busybox true`, and every hook runsc runs, timed one by one, for raw runsc and for
# runsc-host in the same rounds.
#
#   bench/breakdown.sh [ROUNDS]          (default 15)
#
# Each runtime is reached through a static timer (bench/timewrap.c) that forks, execs the real
# binary with the same arguments and appends its wall time to a CSV; runsc-host's hook_path is
# such a timer too. The timer costs both sides the same fork; the table compares medians per
# step (create, start, the delete that follows the exit and the shim's second delete, the hook's
# createRuntime and poststop as runsc ran them). Complements bench/lifecycle.sh, whose totals
# are the figures to quote. Part 2 times runsc alone with and without the seccomp profile that
# runsc-host installs, to separate the policy's cost inside runsc from the wrapper's.
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-${BENCH_ROUNDS:-15}}
bench_setup breakdown
rh_require_binary "$RUNSC_HOST"
rh_require_binary "$RH_HOOK"
rh_netns_create
bench_state_tmpfs
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\""
rh_containerd_start
rh_image_build busybox
bench_raw_wrapper

CALLS=$RH_TMP/calls.csv
: >"$CALLS"
bench_timer "$RH_TMP/hook-timed" "$CALLS" hook "$RH_HOOK"
jq --arg h "$RH_TMP/hook-timed" '.hook_path = $h' "$RH_POLICY" >"$RH_TMP/policy-timed.json"
bench_env_wrapper "$RH_TMP/runsc-host-env" RUNSC_HOST_CONFIG "$RH_TMP/policy-timed.json" "$RUNSC_HOST"
bench_timer "$RH_TMP/runsc-host-timed" "$CALLS" runsc-host "$RH_TMP/runsc-host-env"
# The raw side goes through an exec wrapper too (bench_raw_wrapper), so both pay one extra exec.
bench_timer "$RH_TMP/raw-timed" "$CALLS" raw-runsc "$BENCH_RAW"

run_with ()
{
  local bin=$1 tag=$2 r=$3
  rh_ctr run --rm --runc-binary "$bin" --net-host --snapshotter native "$RH_IMAGE" "$(rh_cid "$tag$r")" true
}
v_raw () { run_with "$RH_TMP/raw-timed" raw "$1"; }
v_host () { run_with "$RH_TMP/runsc-host-timed" host "$1"; }
bench_warm raw-runsc v_raw runsc-host v_host
: >"$CALLS"
bench_interleave "$ROUNDS" "$BENCH_CSV" "${variants[@]}"

# Rows per label, numbered in order (a round has two deletes: after the exit, and the shim's).
awk -F, -v OFS=, '{ $2 = n[$1]++ } 1' "$CALLS" >"$CALLS.n"
awk -F, -v OFS=, '$1 ~ /-delete$/ { $1 = $1 (($2 % 2) ? "-2nd" : "-1st"); $2 = int($2 / 2) } 1' "$CALLS.n" >"$CALLS"
# Grouped by step, raw runsc first: create, start, delete-1st, delete-2nd, then the hooks.
awk -F, '{ l = $1; o = (l ~ /^raw-runsc-/) ? 0 : (l ~ /^runsc-host-/) ? 1 : 2; s = l
           sub(/^(raw-runsc|runsc-host|hook)-/, "", s)
           k = (s == "create") ? 1 : (s == "start") ? 2 : (s == "delete-1st") ? 3 : (s == "delete-2nd") ? 4 : 5
           print k "|" o "|" $0 }' "$CALLS" | sort -t'|' -k1,1n -k2,2n -s | cut -d'|' -f3- >"$CALLS.n"
mv "$CALLS.n" "$CALLS"

# Part 2: what the seccomp profile runsc-host installs costs runsc itself, without containerd or
# runsc-host: runsc create/start of the same bundle with no profile, with the shipped default
# profile, and with the profile a rewrite produces (the default plus the policy's deny rules).
bench_policy_profile "$RH_TMP/merged.json"
rh_bundle_make "$RH_TMP/sc-none" '.process.env = ["PATH=/bin:/usr/bin"] | .process.args = ["/bin/true"]'
for v in default merged; do cp -a "$RH_TMP/sc-none" "$RH_TMP/sc-$v"; done
jq --slurpfile p "$RH_TMP/merged.json" '.linux.seccomp = $p[0]' "$RH_TMP/sc-none/config.json" >"$RH_TMP/sc-merged/config.json"
jq --slurpfile p "$(jq -r .seccomp.default_profile "$RH_POLICY")" '.linux.seccomp = $p[0]' \
  "$RH_TMP/sc-none/config.json" >"$RH_TMP/sc-default/config.json" 2>/dev/null ||
  jq --slurpfile p "$RH_SOURCE_DIR/config/seccomp/default.json" '.linux.seccomp = $p[0]' \
    "$RH_TMP/sc-none/config.json" >"$RH_TMP/sc-default/config.json"
SC_CSV=$RH_TMP/seccomp.csv
: >"$SC_CSV"
RAWF=(--platform="$BENCH_PLATFORM" --network=host --oci-seccomp --root "$RH_TMP/sc-root")
sc_one ()
{
  local v=$1 r=$2 id t0 t1 t2
  id=$(rh_cid "sc-$v-$r")
  t0=$EPOCHREALTIME
  rh_in_netns "$RH_RUNSC" "${RAWF[@]}" create --bundle "$RH_TMP/sc-$v" "$id" >/dev/null 2>&1 || return 1
  t1=$EPOCHREALTIME
  rh_in_netns "$RH_RUNSC" "${RAWF[@]}" start "$id" >/dev/null 2>&1 || true
  t2=$EPOCHREALTIME
  rh_in_netns "$RH_RUNSC" "${RAWF[@]}" wait "$id" >/dev/null 2>&1 || true
  rh_in_netns "$RH_RUNSC" "${RAWF[@]}" delete --force "$id" >/dev/null 2>&1 || true
  printf '%s-create,%d,%d,0\n%s-start,%d,%d,0\n' "$v" "$r" $((${t1/./} - ${t0/./})) "$v" "$r" \
    $((${t2/./} - ${t1/./})) >>"$SC_CSV"
}
for r in $(seq 0 $((2 * ROUNDS - 1))); do
  for v in none default merged; do sc_one "$v" "$r" || rh_log "runsc create of the $v bundle failed"; done
done

{
  echo
  echo "### Where the time goes: each runtime call of \`ctr run --rm --net-host busybox true\`"
  echo
  echo "Command: \`bench/breakdown.sh $ROUNDS\`; $ROUNDS interleaved rounds. Each call timed by a static timer around"
  echo "the runtime (fork, exec, wait); runsc-host's hooks timed the same way as runsc ran them. delete-1st is"
  echo "the delete after the task exits (runsc-host removes the container's rules there, alongside runsc's"
  echo "delete); delete-2nd is the shim's cleanup call. Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "Whole lifecycle:"
  echo
  bench_table "$BENCH_CSV" raw-runsc
  echo
  echo "Per call (medians; compare each runsc-host row with the raw-runsc row of the same step):"
  echo
  bench_table "$CALLS" raw-runsc-create
  echo
  echo "### What the installed seccomp profile costs runsc itself"
  echo
  echo "runsc alone (\`runsc create\`, then \`start\`, of one busybox bundle; no containerd, no runsc-host), $((2 * ROUNDS))"
  echo "interleaved rounds: none = no linux.seccomp; default = the shipped config/seccomp/default.json; merged ="
  echo "what runsc-host's rewrite installs (the default plus the policy's deny rules)."
  echo
  bench_table "$SC_CSV" none-create
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
