#!/usr/bin/env bash
# Rewrite cost of a realistic spec: a docker-style config.json (14 capabilities, 11 mounts of
# which 4 binds, masked/readonly paths, device rules, a prestart hook) with a 300-syscall seccomp
# profile, in two layouts: "docker" (one allow rule with most names plus ~20 argument rules, as
# Docker lays out its default profile) and "flat" (300 rules of one name each).
#
#   bench/rewrite.sh [N]        (default 500 in-memory iterations)
#
# Figures: instructions (valgrind callgrind, one warm iteration; repeatable), CPU and wall
# microseconds (median of N), the on-disk rh_rewrite_bundle (atomic write + fsync), and peak RSS:
# of a process doing the whole create-time step, and of runsc-host itself during `create`
# (measured by a stand-in runsc that reads getrusage() after the exec: the kernel carries the
# pre-exec peak over). The driver does what `runsc-host create` does: the jansson arena
# (lib/base/arena.h) is installed after the policy load, and the spec tree is not freed in the
# measured part (runsc-host execs runsc instead). A second CPU figure without the arena
# (RH_BENCH_NO_ARENA=1: malloc, and the tree freed) follows the table.
#
# Targets (issue 6): under 1 ms of CPU and under 5 MiB peak RSS.
set -euo pipefail
export LC_ALL=C
source "$(dirname "$0")/lib.sh"

N=${1:-${BENCH_ROUNDS:-500}}
bench_setup rewrite
rh_policy_write ".runsc.platform = \"$BENCH_PLATFORM\""
drv=$RH_TMP/rewrite_bench
mkdir -p "$RH_TMP/tmpfs"
mount -t tmpfs -o size=256m "bench-$RH_NAME" "$RH_TMP/tmpfs"
rh_cleanup_push "umount -l '$RH_TMP/tmpfs' 2>/dev/null || true"
bench_build_c "$drv" "$BENCH_DIR/rewrite_bench.c"

cg_count ()
{
  # Instructions in one warm iteration, total and for the named function (inclusive).
  local shape=$1 out=$RH_TMP/cg.$1
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=bench_measured \
    "$drv" once "$RH_POLICY" "$RH_TMP/$shape" >/dev/null 2>&1
  callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk '
    # Inclusive counts; a function seen on several lines (recursion, several callers) counts
    # at its largest.
    /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
    /:rh_spec_rewrite / { gsub(",", "", $1); if ($1 + 0 > rw) rw = $1 + 0 }
    /:json_loadb / { gsub(",", "", $1); if ($1 + 0 > ld) ld = $1 + 0 }
    /:json_dump_callback / { gsub(",", "", $1); if ($1 + 0 > dp) dp = $1 + 0 }
    END { printf "%s %s %s %s\n", total, rw, ld, dp }'
}

{
  echo
  echo "### Rewrite of a docker-style spec with a 300-syscall seccomp profile"
  echo
  echo "Command: \`bench/rewrite.sh $N\` (driver: bench/rewrite_bench.c linked with librhcore.a from $RH_BUILD_DIR)."
  echo "Instructions are callgrind counts of one warm in-memory iteration as rh_rewrite_bundle does it in \`runsc-host create\` (parse, rh_spec_rewrite, serialise with JSON_INDENT(2); arena installed, tree not freed)."
  echo
  echo "| spec | bytes | instructions: total | of which rh_spec_rewrite | json_loadb | serialise (json_dump_callback) | CPU µs median (p90) | wall µs median | rh_rewrite_bundle wall µs median, ext4 (fsync incl.) | same on tmpfs | policy load CPU µs | peak RSS KiB (load policy + rewrite bundle) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} >>"$BENCH_OUT"

noarena=()
shapes=(docker flat)
# The spec dockerd itself wrote for a busybox container (saved by bench/docker.sh), when there.
if [[ -s /tmp/rh-bench-docker-spec.json ]]; then
  shapes+=(dockerd)
fi
for shape in "${shapes[@]}"; do
  if [[ $shape == dockerd ]]; then
    mkdir -p "$RH_TMP/$shape/rootfs"
    cp /tmp/rh-bench-docker-spec.json "$RH_TMP/$shape/config.json.pristine"
    cp /tmp/rh-bench-docker-spec.json "$RH_TMP/$shape/config.json"
  else
    "$drv" gen "$RH_TMP/$shape" 300 "$shape"
  fi
  read -r total rw ld dp < <(cg_count "$shape")
  t=$("$drv" time "$RH_POLICY" "$RH_TMP/$shape" "$N")
  cpu=$(awk '/^rewrite_cpu/ {split($2, a, "="); split($4, b, "="); printf "%s (%s)", a[2], b[2]}' <<<"$t")
  wall=$(awk '/^rewrite_wall/ {split($2, a, "="); print a[2]}' <<<"$t")
  pol=$(awk '/^policy_load_cpu/ {split($2, a, "="); print a[2]}' <<<"$t")
  bytes=$(awk -F= '/^spec_bytes/ {print $2}' <<<"$t")
  bw=$("$drv" bundle "$RH_POLICY" "$RH_TMP/$shape" 50 | awk '{split($2, a, "="); print a[2]}')
  # The same on tmpfs, where containerd keeps bundles in production (/run): fsync is free.
  cp -a "$RH_TMP/$shape" "$RH_TMP/tmpfs/$shape"
  bwt=$("$drv" bundle "$RH_POLICY" "$RH_TMP/tmpfs/$shape" 50 | awk '{split($2, a, "="); print a[2]}')
  rss=$("$drv" rss "$RH_POLICY" "$RH_TMP/$shape" | awk '/^maxrss_start/ {split($1, a, "="); s = a[2]}
    /^maxrss_kib/ {split($1, a, "="); m = a[2]} /^arena_peak_kib/ {split($1, a, "="); ar = a[2]}
    END {printf "%s (%+d over the %s at start%s)", m, m - s, s, ar == "" ? "" : "; arena used " ar " KiB"}')
  noarena+=("$shape: $(RH_BENCH_NO_ARENA=1 "$drv" time "$RH_POLICY" "$RH_TMP/$shape" "$N" |
    awk '/^rewrite_cpu/ {split($2, a, "="); split($4, b, "="); printf "%s (%s)", a[2], b[2]}') µs;")
  label=$shape-300
  [[ $shape != dockerd ]] || label="dockerd's own ($(jq '[.linux.seccomp.syscalls[].names | length] | add' "$RH_TMP/$shape/config.json.pristine") names in $(jq '.linux.seccomp.syscalls | length' "$RH_TMP/$shape/config.json.pristine") rules)"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$bytes" "$total" "$rw" "$ld" \
    "$dp" "$cpu" "$wall" "$bw" "$bwt" "$pol" "$rss" >>"$BENCH_OUT"
done

# Peak RSS of runsc-host itself during `create`: runsc.path points at a stand-in that reports
# getrusage(RUSAGE_SELF).ru_maxrss, which after execve is max(runsc-host's peak, its own).
fake=$RH_TMP/fake-runsc
cat >"$RH_TMP/fake-runsc.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
int main (int argc, char **argv) {
  struct rusage ru;
  const char *bundle = NULL;
  int create = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "create") == 0) create = 1;
    if (strcmp (argv[i], "--bundle") == 0 && i + 1 < argc) bundle = argv[i + 1];
    if (strncmp (argv[i], "--bundle=", 9) == 0) bundle = argv[i] + 9;
  }
  getrusage (RUSAGE_SELF, &ru);
  if (create && bundle) {
    char p[4096];
    snprintf (p, sizeof p, "%s/maxrss", bundle);
    FILE *f = fopen (p, "w");
    if (f) { fprintf (f, "%ld\n", ru.ru_maxrss); fclose (f); }
  }
  return 0;
}
EOF
cc -O2 -o "$fake" "$RH_TMP/fake-runsc.c"
jq --arg f "$fake" '.runsc.path = $f' "$RH_POLICY" >"$RH_TMP/policy-fake.json"
# The stand-in's own peak, run directly: the figure above is meaningful only when larger.
mkdir -p "$RH_TMP/selfrss"
"$fake" create --bundle "$RH_TMP/selfrss" x
selfrss=$(cat "$RH_TMP/selfrss/maxrss")
# peak_rss BINARY: "shape: N KiB" for each spec, runsc-host BINARY doing the create.
peak_rss ()
{
  local bin=$1 out=()
  for shape in "${shapes[@]}"; do
    cp "$RH_TMP/$shape/config.json.pristine" "$RH_TMP/$shape/config.json"
    rm -f "$RH_TMP/$shape/maxrss" "$RH_TMP/$shape/config.json.orig"
    if RUNSC_HOST_CONFIG=$RH_TMP/policy-fake.json "$bin" --root "$RH_TMP/root" create \
      --bundle "$RH_TMP/$shape" "bench-rss-$shape" >"$RH_TMP/create.out" 2>&1 && [[ -s $RH_TMP/$shape/maxrss ]]; then
      out+=("$shape: $(cat "$RH_TMP/$shape/maxrss") KiB;")
    else
      out+=("$shape: not measured (runsc-host create failed: $(tail -n 1 "$RH_TMP/create.out"));")
    fi
  done
  echo "${out[*]}"
}
host_rss=$(peak_rss "$RUNSC_HOST")
alt_rss=""
if [[ -n ${BENCH_ALT_BUILD_DIR:-} ]]; then
  alt_rss="With the build in $BENCH_ALT_BUILD_DIR (bench/proposals/build-alt.sh: no OpenSSL, static): $(peak_rss "$BENCH_ALT_BUILD_DIR/runtime-wrapper/runsc-host")"
fi
{
  echo
  echo "CPU µs median (p90) of the same iteration without the arena (RH_BENCH_NO_ARENA=1: malloc, tree freed): ${noarena[*]}"
  echo
  echo "Peak RSS of the runsc-host process during \`create\` (stand-in runsc reports ru_maxrss after the exec; the stand-in alone peaks at $selfrss KiB): $host_rss"
  [[ -z $alt_rss ]] || echo "$alt_rss"
  echo "Load after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
} >>"$BENCH_OUT"
cat "$BENCH_OUT"
rm -f "$BENCH_CSV" # no raw rows: the table above is the data
