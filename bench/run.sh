#!/usr/bin/env bash
# Run every benchmark in turn and refresh BENCHMARKS.md's generated section.
#
#   bench/run.sh [--quick] [--alt] [--wait-quiet] [NAME...]
#
#   --quick       few rounds (a smoke test of the harness, not figures to quote)
#   --alt         also build bench/proposals/build-alt.sh and compare it (lifecycle, passthrough)
#   --wait-quiet  wait (up to 10 min) for the 1-minute load to drop below 1.0 before each bench
#   NAME...       only these (rewrite passthrough lifecycle breakdown docker memory workload scale hook gate)
#
# Needs root, a build (RH_BUILD_DIR, default <repo>/build; benchmark a RelWithDebInfo
# or Release build: cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo), containerd, runsc, runc, docker.io.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
quick=0 alt=0 quiet=0 names=()
for a in "$@"; do
  case $a in
  --quick) quick=1 ;;
  --alt) alt=1 ;;
  --wait-quiet) quiet=1 ;;
  -*) echo "unknown option $a" >&2; exit 2 ;;
  *) names+=("$a") ;;
  esac
done
((${#names[@]})) || names=(rewrite passthrough lifecycle breakdown docker memory workload scale hook gate)

if ((alt)); then
  BENCH_ALT_BUILD_DIR=$("$here/proposals/build-alt.sh")
  export BENCH_ALT_BUILD_DIR
fi

rounds ()
{
  # full, quick
  if ((quick)); then echo "$2"; else echo "$1"; fi
}

for n in "${names[@]}"; do
  [[ -x $here/$n.sh ]] || { echo "== $n: bench/$n.sh not present, skipped"; continue; }
  if ((quiet)); then
    source "$here/lib.sh" >/dev/null 2>&1 || true
    echo "== waiting for a quieter machine: load $(bench_wait_quiet 1.0 600)"
  fi
  echo "== $n (load $(cut -d' ' -f1-3 /proc/loadavg))"
  case $n in
  rewrite) "$here/rewrite.sh" "$(rounds 2000 100)" ;;
  passthrough) "$here/passthrough.sh" "$(rounds 200 10)" ;;
  lifecycle) "$here/lifecycle.sh" "$(rounds 60 3)" ;;
  breakdown) "$here/breakdown.sh" "$(rounds 15 2)" ;;
  docker) "$here/docker.sh" "$(rounds 20 3)" ;;
  memory) "$here/memory.sh" "$(rounds 5 2)" ;;
  workload) "$here/workload.sh" "$(rounds 5 1)" ;;
  scale) if ((quick)); then "$here/scale.sh" 2 "0 5"; else "$here/scale.sh" 10 "0 50 200"; fi ;;
  *) "$here/$n.sh" ;;
  esac >"/tmp/rh-bench-$n.log" 2>&1 || echo "   bench/$n.sh failed; see /tmp/rh-bench-$n.log"
done
"$here/report.sh"
