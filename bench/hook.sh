#!/usr/bin/env bash
# What runsc-host-hook costs (issue 3, "Measure").
#
#   bench/hook.sh [ROUNDS] [CREATE_ROUNDS]      (defaults 40 and 12)
#
# Part 1, the hook alone: runsc-host-hook createRuntime (apply) and poststop (remove) for one
# container, run the way runsc runs them (fork+exec, OCI state on stdin) inside the bench's
# network namespace, with 0 and with 200 other containers' rules present, for the nft and the
# legacy iptables backends. A sleep process stands in for the sandbox (the policy's runsc.path
# names sleep, so the hook accepts it); it is killed before poststop, as runsc does.
# Part 2, through containerd: create-to-running latency (`ctr run -d`, which returns once the
# task runs) with the hook doing its work, against runsc-host whose hook is a static program that
# exits 0 and whose policy has no rules to apply.
#
# Target: the hook adds under 10 ms per container, and that does not grow with the number of
# containers. Results: bench/results/hooks.md (and BENCHMARKS.md through bench/report.sh).
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-${BENCH_ROUNDS:-40}}
CREATE_ROUNDS=${2:-12}
OTHERS=200
bench_setup hooks
rh_require_binary "$RUNSC_HOST"
rh_require_binary "$RH_HOOK"
rh_netns_create
bench_state_tmpfs
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\" | .egress.deny = [\"169.254.169.254/32\"]"

# The cgroup v2 groups the hook creates for this run (swept at teardown whatever happens).
rh_cleanup_push "m=\$(awk '\$9 == \"cgroup2\" {print \$5; exit}' /proc/self/mountinfo); for d in \$m/runsc-host/$RH_NAME-* \$m/$RH_NAME-placed/* \$m/$RH_NAME-placed; do rmdir \"\$d\" 2>/dev/null; done; true"

# ---- part 1: the hook alone ----

# A state dir on tmpfs, like /run/runsc-host in production (the hook writes a record per
# container; on this machine's disk-backed /tmp every fsync would cost milliseconds).
mkdir -p "$RH_TMP/hookstate"
mount -t tmpfs -o mode=0700,size=64m "bench-hook-$RH_NAME" "$RH_TMP/hookstate"
rh_cleanup_push "umount -l '$RH_TMP/hookstate' 2>/dev/null || true"

for backend in nft legacy; do
  if [[ $backend == nft ]]; then pre=""; else pre="legacy-"; fi
  jq --arg sleep "$(readlink -f /usr/bin/sleep)" --arg st "$RH_TMP/hookstate/$backend" \
    --arg r4 "/usr/sbin/iptables-${pre}restore" --arg s4 "/usr/sbin/iptables-${pre}save" \
    --arg r6 "/usr/sbin/ip6tables-${pre}restore" --arg s6 "/usr/sbin/ip6tables-${pre}save" \
    '.runsc.path = $sleep | .state_dir = $st | .ports.iptables_restore = $r4 | .ports.iptables_save = $s4
     | .ports.ip6tables_restore = $r6 | .ports.ip6tables_save = $s6' "$RH_POLICY" >"$RH_TMP/hook-$backend.json"
  # A bundle per policy: the hook refuses a spec not marked with its policy's SHA-256.
  mkdir -p "$RH_TMP/bundle-$backend"
  jq -n --arg sha "$(sha256sum <"$RH_TMP/hook-$backend.json" | cut -d' ' -f1)" \
    '{annotations: {"org.opencontainers.image.exposedPorts": "8080/tcp,8443/tcp,53/udp",
                    "run.runsc-host.policy-sha256": $sha}}' >"$RH_TMP/bundle-$backend/config.json"
done

# The timing loop runs inside the namespace (no nsenter in the measured calls).
cat >"$RH_TMP/hookloop.sh" <<'LOOP'
set -u
hook=$1 policy=$2 label=$3 rounds=$4 csv=$5 bundle=$6 name=$7 mode=${8:-own}
mnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
state () { printf '{"ociVersion":"1.0.2","id":"%s","pid":%d,"status":"%s","bundle":"%s"}' "$1" "$2" "$3" "$bundle"; }
for ((r = 0; r < rounds; r++)); do
  id="$name-$label-$r"
  sleep 1000 </dev/null >/dev/null 2>&1 &
  pid=$!
  # Until the child has exec'd sleep it is a copy of bash, which the hook rightly refuses.
  until [[ $(readlink "/proc/$pid/exe") == */sleep ]]; do :; done
  if [[ $mode == placed ]]; then
    # As on a pure cgroup v2 host, where runsc already put the sandbox into the container's own
    # group: the hook matches that group and moves nothing. (Placed here, untimed.)
    mkdir -p "$mnt/$name-placed/$id"
    echo "$pid" >"$mnt/$name-placed/$id/cgroup.procs"
  fi
  st=$(state "$id" "$pid" created)
  t0=$EPOCHREALTIME
  "$hook" --config "$policy" createRuntime <<<"$st"
  rc1=$?
  t1=$EPOCHREALTIME
  kill -KILL "$pid"; wait "$pid" 2>/dev/null
  st=$(state "$id" -1 stopped)
  t2=$EPOCHREALTIME
  "$hook" --config "$policy" poststop <<<"$st"
  rc2=$?
  t3=$EPOCHREALTIME
  [[ $mode != placed ]] || rmdir "$mnt/$name-placed/$id"
  a=$((${t1/./} - ${t0/./})) b=$((${t3/./} - ${t2/./}))
  printf '%s-apply,%d,%d,%d\n%s-remove,%d,%d,%d\n%s-both,%d,%d,%d\n' "$label" "$r" "$a" "$rc1" \
    "$label" "$r" "$b" "$rc2" "$label" "$r" "$((a + b))" "$((rc1 | rc2))" >>"$csv"
done
LOOP

# OTHERS containers whose rules stay in place meanwhile: each a stand-in sandbox of its own.
populate ()
{
  local backend=$1 i pid
  for ((i = 0; i < OTHERS; i++)); do
    sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
    pid=$!
    until [[ $(readlink "/proc/$pid/exe") == */sleep ]]; do :; done
    rh_cleanup_push "kill $pid 2>/dev/null || true"
    printf '{"ociVersion":"1.0.2","id":"%s","pid":%d,"status":"created","bundle":"%s"}' \
      "$RH_NAME-$backend-bg$i" "$pid" "$RH_TMP/bundle-$backend" |
      rh_in_netns "$RH_HOOK" --config "$RH_TMP/hook-$backend.json" createRuntime
  done
}

depopulate ()
{
  local backend=$1 i
  for ((i = 0; i < OTHERS; i++)); do
    printf '{"ociVersion":"1.0.2","id":"%s","pid":-1,"status":"stopped","bundle":"%s"}' \
      "$RH_NAME-$backend-bg$i" "$RH_TMP/bundle-$backend" |
      rh_in_netns "$RH_HOOK" --config "$RH_TMP/hook-$backend.json" poststop
  done
}

HOOK_CSV=$RH_TMP/hook.csv
: >"$HOOK_CSV"
for backend in nft legacy; do
  [[ -x /usr/sbin/iptables-legacy-restore || $backend == nft ]] || continue
  # Warm-up: the first call creates the shared chains.
  rh_in_netns bash "$RH_TMP/hookloop.sh" "$RH_HOOK" "$RH_TMP/hook-$backend.json" "warm-$backend" 3 /dev/null \
    "$RH_TMP/bundle-$backend" "$RH_NAME"
  rh_in_netns bash "$RH_TMP/hookloop.sh" "$RH_HOOK" "$RH_TMP/hook-$backend.json" "$backend-0" "$ROUNDS" "$HOOK_CSV" \
    "$RH_TMP/bundle-$backend" "$RH_NAME"
  [[ $backend != nft ]] || rh_in_netns bash "$RH_TMP/hookloop.sh" "$RH_HOOK" "$RH_TMP/hook-$backend.json" \
    "$backend-0-placed" "$ROUNDS" "$HOOK_CSV" "$RH_TMP/bundle-$backend" "$RH_NAME" placed
  populate "$backend"
  rules=$(rh_in_netns "/usr/sbin/iptables-$([[ $backend == nft ]] || echo legacy-)save" | grep -c -- '^-A')
  rh_in_netns bash "$RH_TMP/hookloop.sh" "$RH_HOOK" "$RH_TMP/hook-$backend.json" "$backend-$OTHERS" "$ROUNDS" \
    "$HOOK_CSV" "$RH_TMP/bundle-$backend" "$RH_NAME"
  [[ $backend != nft ]] || rh_in_netns bash "$RH_TMP/hookloop.sh" "$RH_HOOK" "$RH_TMP/hook-$backend.json" \
    "$backend-$OTHERS-placed" "$ROUNDS" "$HOOK_CSV" "$RH_TMP/bundle-$backend" "$RH_NAME" placed
  depopulate "$backend"
  echo "$backend: $rules rules in the filter table with $OTHERS other containers" >>"$RH_TMP/rules-count"
done

# The pieces of one apply: how long an exec of each tool takes here, with nothing to do.
PIECES_CSV=$RH_TMP/pieces.csv
: >"$PIECES_CSV"
for ((r = 0; r < ROUNDS; r++)); do
  t0=$EPOCHREALTIME
  printf '*filter\nCOMMIT\n' | rh_in_netns /usr/sbin/iptables-restore --noflush --wait=30
  t1=$EPOCHREALTIME
  rh_in_netns true
  t2=$EPOCHREALTIME
  printf 'empty-iptables-restore+nsenter,%d,%d,0\nnsenter-true,%d,%d,0\n' "$r" $((${t1/./} - ${t0/./})) "$r" \
    $((${t2/./} - ${t1/./})) >>"$PIECES_CSV"
done

# ---- part 2: create-to-running through containerd ----

rh_containerd_start
rh_image_build busybox
printf 'int main (void) { return 0; }\n' | cc -O2 -static -x c -o "$RH_TMP/static-true" -
jq --arg t "$RH_TMP/static-true" '.egress.deny = [] | .ports.static = [] | .hook_path = $t' "$RH_POLICY" \
  >"$RH_TMP/policy-nohook.json"
jq '.egress.deny = [] | .ports.static = []' "$RH_POLICY" >"$RH_TMP/policy-norules.json"
bench_env_wrapper "$RH_TMP/runsc-host-nohook" RUNSC_HOST_CONFIG "$RH_TMP/policy-nohook.json" "$RUNSC_HOST"
bench_env_wrapper "$RH_TMP/runsc-host-norules" RUNSC_HOST_CONFIG "$RH_TMP/policy-norules.json" "$RUNSC_HOST"
# The hook variant goes through the same kind of wrapper, so all three pay the same extra exec.
# Its hook_path is a static timer that runs the real hook and records how long it took, as
# runsc ran it inside the create (and the delete): the hook's real cost in a lifecycle, where
# runsc has just moved the sandbox between cgroups itself.
INSITU_CSV=$RH_TMP/insitu.csv
: >"$INSITU_CSV"
bench_timer "$RH_TMP/hook-timer" "$INSITU_CSV" in-situ "$RH_HOOK"
jq --arg t "$RH_TMP/hook-timer" '.hook_path = $t' "$RH_POLICY" >"$RH_TMP/policy-hook.json"
bench_env_wrapper "$RH_TMP/runsc-host-hook" RUNSC_HOST_CONFIG "$RH_TMP/policy-hook.json" "$RUNSC_HOST"

start_with ()
{
  local bin=$1 tag=$2 r=$3
  rh_ctr run -d --runc-binary "$bin" --net-host --snapshotter native \
    --annotation org.opencontainers.image.exposedPorts=8080/tcp "$RH_IMAGE" "$(rh_cid "$tag$r")" sleep 1000
}
# Untimed: the previous round's container of the same variant goes away first.
gone () { rh_container_cleanup "$(rh_cid "$1$(($2 - 1))")"; }
c_hook () { start_with "$RH_TMP/runsc-host-hook" hook "$1"; }
c_hook_prep () { gone hook "$1"; }
c_norules () { start_with "$RH_TMP/runsc-host-norules" norules "$1"; }
c_norules_prep () { gone norules "$1"; }
c_nohook () { start_with "$RH_TMP/runsc-host-nohook" nohook "$1"; }
c_nohook_prep () { gone nohook "$1"; }

variants=()
c_hook warm >/dev/null && rh_container_cleanup "$(rh_cid hookwarm)"
: >"$INSITU_CSV"
bench_interleave "$CREATE_ROUNDS" "$BENCH_CSV" no-hook c_nohook hook-no-rules c_norules hook c_hook
for v in hook norules nohook; do rh_container_cleanup "$(rh_cid "$v$((CREATE_ROUNDS - 1))")"; done
# A row per hook run (createRuntime at create, poststop at delete), numbered per step.
awk -F, -v OFS=, '{ $2 = n[$1]++ } 1' "$INSITU_CSV" >"$INSITU_CSV.n" && mv "$INSITU_CSV.n" "$INSITU_CSV"

{
  echo
  echo "### The hook alone: apply (createRuntime) and remove (poststop) of one container"
  echo
  echo "Command: \`bench/hook.sh $ROUNDS $CREATE_ROUNDS\`. Each round: a fresh stand-in sandbox, \`runsc-host-hook createRuntime\`"
  echo "(3 ports, 1 egress destination, IPv4 and IPv6: one cgroup v2 group, two iptables-restore transactions),"
  echo "the sandbox killed, \`runsc-host-hook poststop\`. Timed from bash (\$EPOCHREALTIME) around the exec of the"
  echo "hook, inside the namespace; state_dir on tmpfs. Labels: backend-N-step, N = other containers whose rules"
  echo "are present; \"placed\": the stand-in already sits in a cgroup v2 group of its own, as runsc leaves the"
  echo "sandbox on a pure cgroup v2 host (Container-Optimized OS), so the hook moves nothing; without it, the hook"
  echo "creates the group and moves the sandbox in (hybrid hosts like this one). \"both\" = apply + remove."
  sed 's/^/- /' "$RH_TMP/rules-count"
  echo
  bench_table "$HOOK_CSV" nft-0-apply
  echo
  echo "For scale, one exec of iptables-restore with an empty batch (plus nsenter), and nsenter alone:"
  echo
  bench_table "$PIECES_CSV" nsenter-true
  echo
  echo "### Create-to-running through containerd (\`ctr run -d --net-host ... sleep\`)"
  echo
  echo "$CREATE_ROUNDS interleaved rounds. no-hook: hook_path a static program that exits 0, no ports, no"
  echo "egress list. hook-no-rules: the real hook with nothing to apply (policy, state, record)."
  echo "hook: the real hook, 1 port, egress to 169.254.169.254/32 denied. All three go through the"
  echo "same RUNSC_HOST_CONFIG exec wrapper. Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  bench_table "$BENCH_CSV" no-hook
  echo
  echo "The hook as runsc ran it in those rounds (variant hook; a static timer around the hook binary,"
  echo "fork to exit): createRuntime inside the create, poststop inside the delete. Here the sandbox has"
  echo "just been moved between cgroup v1 groups by runsc, so moving it into its v2 group costs no"
  echo "grace period; the poststop finds the rules already removed by runsc-host delete, or removes them."
  echo
  bench_table "$INSITU_CSV" in-situ-createRuntime
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
