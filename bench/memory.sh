#!/usr/bin/env bash
# Host memory each running container costs: the containerd shim, runsc's sandbox (with its
# platform stub processes) and gofer, summed as PSS (proportional set size: pages shared
# between containers are divided among them, so the sum over containers is the real total) and
# as RSS. runsc-host against raw runsc (the exec wrapper with the same flags); both started
# through containerd (`ctr run -d --net-host`, busybox `sleep`), alternately.
#
#   bench/memory.sh [K]      (default 5 containers of each kind)
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

K=${1:-${BENCH_ROUNDS:-5}}
bench_setup memory
rh_require_binary "$RUNSC_HOST"
rh_netns_create
bench_state_tmpfs
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\""
rh_containerd_start
rh_image_build busybox
bench_raw_wrapper

start_one ()
{
  local bin=$1 id=$2
  rh_ctr run -d --runc-binary "$bin" --net-host --snapshotter native "$RH_IMAGE" "$id" sleep 100000 >/dev/null
}

for ((i = 0; i < K; i++)); do
  start_one "$RUNSC_HOST" "$(rh_cid "host$i")"
  start_one "$BENCH_RAW" "$(rh_cid "raw$i")"
done
sleep 3 # let every sandbox finish starting and settle

: >"$RH_TMP/mem.csv"
for kind in host raw; do
  for ((i = 0; i < K; i++)); do
    id=$(rh_cid "$kind$i")
    shim=$(pgrep -f -- "-namespace $RH_NS -id $id( |\$)" | head -1)
    read -r sandbox gofer < <(bench_runsc_roles "$id")
    tree=$(bench_tree_pids "$sandbox")
    # label, container, shim, sandbox tree, gofer (PSS KiB); total PSS; total RSS
    printf '%s,%s,%s,%s,%s,%s,%s\n' "$kind" "$i" "$(bench_pss_kib $shim)" "$(bench_pss_kib $tree)" \
      "$(bench_pss_kib $gofer)" "$(bench_pss_kib $shim $tree $gofer)" "$(bench_rss_kib $shim $tree $gofer)" \
      >>"$RH_TMP/mem.csv"
  done
done

med ()
{
  # median of column $2 for label $1
  awk -F, -v l="$1" -v c="$2" '$1 == l {print $c}' "$RH_TMP/mem.csv" | sort -n |
    awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

{
  echo
  echo "### Host memory per running container (busybox \`sleep\`, through containerd)"
  echo
  echo "Command: \`bench/memory.sh $K\`; $K containers of each kind running at once; medians over containers, KiB."
  echo
  echo "| variant | shim PSS | sandbox (+ stubs) PSS | gofer PSS | total PSS | total RSS |"
  echo "|---|---|---|---|---|---|"
  for kind in raw host; do
    label=$([[ $kind == raw ]] && echo raw-runsc || echo runsc-host)
    echo "| $label | $(med "$kind" 3) | $(med "$kind" 4) | $(med "$kind" 5) | $(med "$kind" 6) | $(med "$kind" 7) |"
  done
  echo
  echo "runsc-host / raw runsc, total PSS: $(awk -v a="$(med host 6)" -v b="$(med raw 6)" 'BEGIN {printf "%.3f", a / b}')."
  echo "MemAvailable now: $(awk '/MemAvailable/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); load: $(cut -d' ' -f1-3 /proc/loadavg)."
} >>"$BENCH_OUT"
cp "$RH_TMP/mem.csv" "$BENCH_CSV"
cat "$BENCH_OUT"
