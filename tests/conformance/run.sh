#!/usr/bin/env bash
# Run runc's own integration suite (bats) and the OCI runtime-tools validation suite against one
# or more runc-compatible runtimes, and print one line per test:
#
#   RUNTIME  SUITE  TEST  pass|fail|skip [reason]
#
# then a summary per runtime. Neither suite is part of this repository: fetch their public
# sources yourself (opencontainers/runc at the tag matching `runc --version`, and
# opencontainers/runtime-tools), outside this worktree, and pass their paths. See
# docs/conformance.md.
#
#   tests/conformance/run.sh --runc-src DIR --rt-src DIR [--runtime NAME=PATH]...
#                            [--policy FILE] [--suite runc|rt|all] [--filter REGEX] [--out DIR]
#
#   --runc-src DIR   runc's source tree (env RUNC_SRC); its helpers are built with Go
#   --rt-src DIR     runtime-tools' source tree (env RT_SRC); its validation programs are built
#   --runtime N=P    a runtime to test (repeatable; default runsc-host=$(command -v runsc-host));
#                    e.g. --runtime runc=/usr/sbin/runc --runtime runsc=/usr/bin/runsc
#   --policy FILE    RUNSC_HOST_CONFIG for the runtimes whose NAME starts with runsc-host
#   --suite S        runc (the bats suite), rt (runtime-tools), or all (default)
#   --filter REGEX   only the bats files / validation programs whose name matches
#   --timeout SECS   per test (default 60): a hung test is a failure, and the run goes on
#   --out DIR        where the per-test logs and results.tsv go (default a new dir in /tmp)
#
# Everything runs inside a network namespace this script creates (runsc-host's hook writes
# iptables rules, and a runtime's containers may share the caller's network): the root
# namespace's firewall, routes and interfaces are never touched. The namespace, and every
# container the suites leave behind, are removed on exit, also on failure.
#
# Needs root, bats, jq, busybox-static, xz-utils and Go (/usr/local/go/bin is added to PATH).
# The go helpers use the vendored modules of each tree (GOFLAGS=-mod=vendor): no download.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNC_SRC=${RUNC_SRC:-}
RT_SRC=${RT_SRC:-}
suite=all filter=. per_test=60 out= policy=${RUNSC_HOST_CONFIG:-}
runtimes=()

usage () { sed -n '2,29s/^# \{0,1\}//p' "$0" >&2; exit 2; }

while (($#)); do
  case $1 in
  --runc-src) RUNC_SRC=${2:?}; shift 2 ;;
  --rt-src) RT_SRC=${2:?}; shift 2 ;;
  --runtime) runtimes+=("${2:?}"); shift 2 ;;
  --policy) policy=${2:?}; shift 2 ;;
  --suite) suite=${2:?}; shift 2 ;;
  --filter) filter=${2:?}; shift 2 ;;
  --out) out=${2:?}; shift 2 ;;
  --timeout) per_test=${2:?}; shift 2 ;;
  -h | --help) usage ;;
  *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
done
case $suite in runc | rt | all) ;; *) echo "run.sh: --suite must be runc, rt or all" >&2; exit 2 ;; esac
if ((${#runtimes[@]} == 0)); then
  p=$(command -v runsc-host) || { echo "run.sh: no runsc-host in PATH; give --runtime NAME=PATH" >&2; exit 2; }
  runtimes=("runsc-host=$p")
fi
for r in "${runtimes[@]}"; do
  [[ $r == *=/* && -x ${r#*=} ]] || { echo "run.sh: --runtime $r: want NAME=/absolute/executable" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "run.sh: needs root (the suites create containers)" >&2; exit 2; }
export PATH=/usr/local/go/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=vendor
for c in bats jq busybox xz go nsenter ip timeout; do
  command -v "$c" >/dev/null || { echo "run.sh: $c is missing" >&2; exit 2; }
done
if [[ $suite != rt ]]; then
  [[ -f $RUNC_SRC/tests/integration/helpers.bash ]] ||
    { echo "run.sh: --runc-src: not runc's source tree: '$RUNC_SRC'" >&2; exit 2; }
fi
if [[ $suite != runc ]]; then
  [[ -d $RT_SRC/validation ]] || { echo "run.sh: --rt-src: not runtime-tools' tree: '$RT_SRC'" >&2; exit 2; }
fi
[[ -n $out ]] || out=$(mktemp -d /tmp/rh-conformance.XXXXXX)
mkdir -p "$out"
results=$out/results.tsv
: >"$results"

# ---- the network namespace everything runs in ----
ns=rhconf-$$
cleanup ()
{
  # The suites' own teardowns delete their containers (bats runs teardown also after a
  # failure); what is left is the namespace.
  ip netns delete "$ns" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns" || { echo "run.sh: cannot create network namespace $ns" >&2; exit 1; }
# nsenter, not `ip netns exec`: the latter remounts /sys, which hides the cgroup mounts.
in_ns () { nsenter --net="/run/netns/$ns" "$@"; }
in_ns ip link set lo up

emit ()  # RUNTIME SUITE TEST RESULT [REASON]
{
  local line
  line=$(printf '%-12s %-5s %-60s %s' "$1" "$2" "$3" "$4${5:+ ($5)}")
  echo "$line"
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$results"
}

# ---- runc's bats suite ----
prepare_runc ()
{
  local it=$RUNC_SRC/tests/integration d
  for d in recvtty sd-helper seccompagent; do
    [[ -x $RUNC_SRC/contrib/cmd/$d/$d ]] && continue
    (cd "$RUNC_SRC/contrib/cmd/$d" && go build -o "$d" .) >"$out/build-$d.log" 2>&1 ||
      { echo "run.sh: building runc's $d failed; see $out/build-$d.log" >&2; return 1; }
  done
  # The suite downloads a busybox and a Debian rootfs when they are missing; no registry is
  # reachable here, so a busybox rootfs is built from Debian's busybox-static under the names
  # get-images.sh looks for. The Debian stand-in is the same busybox (hooks.bats uses it).
  local arch img w
  arch=$(go env GOARCH)
  img=$it/testdata/busybox-$arch.tar.xz
  if [[ ! -s $img ]]; then
    w=$(mktemp -d)
    chmod 0755 "$w"  # the rootfs' own mode: a non-root process must be able to enter it
    mkdir -p "$w"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,var/tmp,root,home}
    chmod 1777 "$w/tmp" "$w/var/tmp"
    cp "$(command -v busybox)" "$w/bin/busybox"
    "$w/bin/busybox" --list-full | while read -r a; do
      [[ $a == bin/busybox || -e $w/$a ]] || ln -s /bin/busybox "$w/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$w/etc/passwd"
    printf 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' >"$w/etc/group"
    tar --numeric-owner -C "$w" -cJf "$img.tmp" . && mv "$img.tmp" "$img"
    rm -rf "$w"
  fi
  [[ -s $it/testdata/debian-$arch.tar.xz ]] || cp "$img" "$it/testdata/debian-$arch.tar.xz"
}

# TAP from bats -> one line per test.
bats_lines ()  # RUNTIME FILE TAPFILE
{
  local rt=$1 f=$2 tap=$3 line name reason n=0
  while IFS= read -r line; do
    case $line in
    "ok "*" # skip"*)
      name=${line#ok * } name=${name%% # skip*}
      reason=${line#* # skip}; reason=${reason# }; reason=${reason#(}; reason=${reason%)}
      emit "$rt" runc "$f: $name" skip "${reason:-no reason given}"; ((n++)) ;;
    "ok "*) name=${line#ok * }; emit "$rt" runc "$f: $name" pass; ((n++)) ;;
    "not ok "*) name=${line#not ok * }; emit "$rt" runc "$f: $name" fail "log: $out/$rt/runc/$f.tap"; ((n++)) ;;
    esac
  done <"$tap"
  ((n > 0)) || emit "$rt" runc "$f" fail "no test ran; see $out/$rt/runc/$f.tap"
}

# Kill, by pid, the processes whose command line names DIR (a directory this run created).
# A test that timed out may have left its cgroup frozen (cgroups.bats freezes some): thaw it
# first, or its processes cannot die.
kill_under ()
{
  local pid fr
  for pid in $(grep -lsF -- "$1/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
    [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
    fr=$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null)
    [[ -n $fr && $fr != / && -w /sys/fs/cgroup/freezer$fr/freezer.state ]] &&
      echo THAWED >"/sys/fs/cgroup/freezer$fr/freezer.state" 2>/dev/null
    kill -9 "$pid" 2>/dev/null
  done
  return 0
}

# Containers in RUNTIME's default state dir whose bundle is under DIR (runtime-tools' tests
# use the default --root and a bundle in $TMPDIR): delete them.
delete_bundles_under ()  # RUNTIME DIR
{
  local c
  for c in $(in_ns timeout 20 "$1" list --format json 2>/dev/null |
    jq -r --arg d "$2/" '.[]? | select(.bundle | startswith($d)) | .id' 2>/dev/null); do
    in_ns timeout 20 "$1" delete --force "$c" >/dev/null 2>&1
  done
}

# One bats process per test, so that a test that hangs (a runtime whose sandbox keeps the
# caller's stdout open never lets `run` return) costs --timeout seconds, not the whole file.
# Each test gets a TMPDIR of its own; after it, whatever containers it left in its state dirs
# are deleted and its recvtty is stopped (bats' teardown does not run after a timeout).
run_runc_suite ()  # NAME PATH
{
  local name=$1 path=$2 f t re tmp tap rc d c cmd
  mkdir -p "$out/$name/runc"
  for f in "$RUNC_SRC"/tests/integration/*.bats; do
    f=${f##*/}
    [[ $f =~ $filter ]] || continue
    tap=$out/$name/runc/$f.tap
    : >"$tap"
    while IFS= read -r t; do
      re=$(printf '%s' "$t" | sed 's/[][\\.*^$(){}?+|/]/\\&/g')
      tmp=$(mktemp -d "$out/tmp.XXXXXX")
      # runc's CI runs the suite under script(1): several tests need a terminal on stdin.
      # timeout inside script(1): it signals its whole process group, bats and its children.
      cmd=$(printf 'timeout -k 5 %q bats --tap -f %q %q' "$per_test" "^$re\$" "$f")
      (cd "$RUNC_SRC/tests/integration" &&
        TMPDIR=$tmp RUNC=$path in_ns timeout -k 5 $((per_test + 30)) script -qec "$cmd" /dev/null) \
        >"$tmp/tap" 2>&1 </dev/null
      rc=$?
      tr -d '\r' <"$tmp/tap" >>"$tap"
      if ((rc == 124 || rc == 137)) || ! grep -qE '^(ok|not ok) ' "$tmp/tap"; then
        emit "$name" runc "$f: $t" fail "timed out after ${per_test}s"
      else
        bats_lines "$name" "$f" <(tr -d '\r' <"$tmp/tap" | grep -E '^(ok|not ok) ')
      fi
      for d in "$tmp"/bats-run-*/runc.*; do
        [[ -d $d ]] || continue
        [[ -f $d/tty/pid ]] && kill -9 "$(cat "$d/tty/pid")" 2>/dev/null
        # --quiet: runsc's list has no -q.
        for c in $(in_ns timeout 20 "$path" --root "$d/state" list --quiet 2>/dev/null); do
          in_ns timeout 20 "$path" --root "$d/state" delete --force "$c" >/dev/null 2>&1
        done
      done
      # Whatever still runs from this test (a runtime stuck after a timeout, its init, a
      # sandbox whose delete failed) names the test's own temp dir: stop those, by pid.
      kill_under "$tmp"
      rm -rf "$tmp" 2>/dev/null
    done < <(sed -n 's/^@test "\(.*\)" {$/\1/p' "$RUNC_SRC/tests/integration/$f")
  done
}

# ---- runtime-tools' validation suite ----
prepare_rt ()
{
  local t missing=0
  for t in "$RT_SRC"/validation/*/*.go; do
    [[ $t == */util/* ]] && continue
    [[ -x ${t%.go}.t ]] || missing=1
  done
  [[ -x $RT_SRC/runtimetest ]] || missing=1
  ((missing)) || return 0
  (cd "$RT_SRC" && make runtimetest validation-executables) >"$out/build-rt.log" 2>&1 ||
    { echo "run.sh: building runtime-tools failed; see $out/build-rt.log" >&2; return 1; }
}

run_rt_suite ()  # NAME PATH
{
  local name=$1 path=$2 t base log rc tmp
  mkdir -p "$out/$name/rt"
  for t in "$RT_SRC"/validation/*/*.t; do
    base=${t#"$RT_SRC"/validation/}; base=${base%%/*}
    [[ $base =~ $filter ]] || continue
    log=$out/$name/rt/$base.tap
    tmp=$(mktemp -d "$out/tmp.XXXXXX")
    (cd "$RT_SRC" && TMPDIR=$tmp RUNTIME=$path in_ns timeout -k 10 180 "$t") >"$log" 2>&1
    rc=$?
    delete_bundles_under "$path" "$tmp"
    kill_under "$tmp"
    rm -rf "$tmp" 2>/dev/null
    if grep -q '^not ok' "$log"; then
      emit "$name" rt "$base" fail "$(grep -m1 '^not ok' "$log" | cut -c1-100)"
    elif grep -qi '^ok .*# skip' "$log" && ! grep -v -i '# skip' "$log" | grep -q '^ok'; then
      emit "$name" rt "$base" skip "$(grep -m1 -i '# skip' "$log" | sed 's/.*# [Ss][Kk][Ii][Pp] *//' | cut -c1-100)"
    elif ((rc != 0)); then
      emit "$name" rt "$base" fail "exit status $rc; log: $log"
    elif grep -q '^ok' "$log"; then
      emit "$name" rt "$base" pass
    else
      emit "$name" rt "$base" fail "no TAP result; log: $log"
    fi
  done
}

if [[ $suite != rt ]]; then prepare_runc || exit 1; fi
if [[ $suite != runc ]]; then prepare_rt || exit 1; fi

for r in "${runtimes[@]}"; do
  name=${r%%=*} path=${r#*=}
  if [[ $name == runsc-host* && -n $policy ]]; then export RUNSC_HOST_CONFIG=$policy; else unset RUNSC_HOST_CONFIG; fi
  [[ $suite != rt ]] && run_runc_suite "$name" "$path"
  [[ $suite != runc ]] && run_rt_suite "$name" "$path"
done

echo
echo "summary (results in $results):"
for r in "${runtimes[@]}"; do
  name=${r%%=*}
  awk -F'\t' -v n="$name" '$1 == n { c[$4]++; s[$2 "," $4]++ }
    END { printf "%-12s %d passed, %d failed, %d skipped (runc bats: %d/%d/%d, runtime-tools: %d/%d/%d)\n",
            n, c["pass"], c["fail"], c["skip"], s["runc,pass"], s["runc,fail"], s["runc,skip"],
            s["rt,pass"], s["rt,fail"], s["rt,skip"] }' "$results"
done
