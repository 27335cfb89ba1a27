#!/usr/bin/env bash
# Build, at the versions pinned in scripts/versions.env, the tools that Debian 12 lacks: nerdctl,
# containerd 2.x with its runc v2 shim, and a current runsc (gVisor's Go branch). They come from
# the Go module proxy and go to RH_GO_PREFIX (/usr/local/lib/runsc-host/go-bin), beside Debian's
# /usr/bin/runsc and /usr/bin/containerd, never over them.
#
# Cached: a binary whose `--version` already names its pin is not rebuilt, so a second run costs
# a few exec calls. Each build goes to a temporary file that replaces the old one in one rename.
#
#   scripts/deps-go.sh            build what is missing or stale (as root)
#   scripts/deps-go.sh --check    only report; exit 1 when anything is missing or stale
#
# Exit status 1 when a tool could not be built; each failure says which module and why on stderr.
# scripts/deps.sh turns that into a warning (the Debian-only path, ctr and docker, still works,
# and the nerdctl tests skip saying what is missing) unless RH_REQUIRE_GO_TOOLS=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
prefix=${RH_GO_PREFIX_OVERRIDE:-$RH_GO_PREFIX}
check_only=0
[[ ${1:-} == --check ]] && check_only=1

say () { printf 'deps-go: %s\n' "$*"; }
fail () { printf 'deps-go: error: %s\n' "$*" >&2; }

# tool_current NAME PIN: the installed NAME reports PIN in its version output.
tool_current ()
{
  local bin=$prefix/$1 pin=$2 out
  [[ -x $bin ]] || return 1
  case $1 in
  containerd-shim-runc-v2) out=$(timeout 10 "$bin" -v 2>&1) ;;
  *) out=$(timeout 10 "$bin" --version 2>&1) ;;
  esac
  # nerdctl prints its version without the leading v.
  [[ $out == *"${pin#v}"* ]]
}

want=(
  "nerdctl $RH_NERDCTL_VERSION"
  "containerd $RH_CONTAINERD_VERSION"
  "containerd-shim-runc-v2 $RH_CONTAINERD_VERSION"
  "runsc $RH_GVISOR_VERSION"
)
# nerdctl in the usual place: /usr/local/bin/nerdctl (a symlink to our build) is where users and
# the shipped policy's hooks.allowed look for it. An existing nerdctl there is left alone.
link_nerdctl ()
{
  local l=/usr/local/bin/nerdctl
  [[ -x $prefix/nerdctl && $(id -u) -eq 0 ]] || return 0
  if [[ ! -e $l || ( -L $l && $(readlink "$l") == "$prefix/nerdctl" ) ]]; then
    ln -sfn "$prefix/nerdctl" "$l"
  fi
}

stale=()
for w in "${want[@]}"; do
  read -r name pin <<<"$w"
  tool_current "$name" "$pin" || stale+=("$name")
done
if ((${#stale[@]} == 0)); then
  say "nerdctl $RH_NERDCTL_VERSION, containerd $RH_CONTAINERD_VERSION, runsc $RH_GVISOR_VERSION are built in $prefix"
  ((check_only)) || link_nerdctl
  exit 0
fi
if ((check_only)); then
  say "missing or not at their pinned version in $prefix: ${stale[*]} (run scripts/deps-go.sh as root)"
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  fail "missing in $prefix: ${stale[*]}; run as root: sudo $0"
  exit 1
fi

# The Go toolchain: `go` in PATH if it is new enough, else RH_GO. GOTOOLCHAIN=local: never let the
# go command fetch another toolchain behind our back; an old Go is an error that says so.
need_go=1.26.6
go_ok ()
{
  local v
  v=$("$1" env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  [[ $(printf '%s\n%s\n' "$need_go" "$v" | sort -V | head -n 1) == "$need_go" ]]
}
GO=
for g in "$(command -v go 2>/dev/null || true)" "$RH_GO"; do
  if [[ -n $g && -x $g ]] && GOTOOLCHAIN=local go_ok "$g"; then
    GO=$g
    break
  fi
done
if [[ -z $GO ]]; then
  fail "no Go >= $need_go (looked for go in PATH and $RH_GO); cannot build ${stale[*]}." \
    "Install Go $need_go or newer at $RH_GO. The Debian-only path (ctr, docker) still works."
  exit 1
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$prefix"
work=$(mktemp -d /tmp/rh-deps-go.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# fetch_module MODULE VERSION: download into the module cache, print its source dir. A refusal by
# the proxy is reported with the proxy's own words.
fetch_module ()
{
  local out dir
  if ! out=$("$GO" mod download -json "$1@$2" 2>&1); then
    fail "the Go module proxy did not serve $1@$2:"
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    return 1
  fi
  dir=$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  if [[ -z $dir || ! -d $dir ]]; then
    fail "go mod download $1@$2 gave no source directory:"
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    return 1
  fi
  printf '%s\n' "$dir"
}

# install_bin TMP NAME: replace $prefix/NAME in one rename.
install_bin ()
{
  chmod 0755 "$1"
  mv -f "$1" "$prefix/$2"
}

build_nerdctl ()
{
  local src dir
  dir=$(fetch_module "$RH_NERDCTL_MODULE" "$RH_NERDCTL_VERSION") || return 1
  # `go install ...@version` cannot build nerdctl: the proxy refuses this module's version list
  # (go install reads it for deprecation notices) and nerdctl's go.mod has a replace directive.
  # So build in a writable copy of the module's own source, with its own go.mod and go.sum. Two
  # adjustments, both about test-only code: the replace points at ./mod/tigron, a nested
  # module (nerdctl's test framework) that module zips never contain, so an empty module stands
  # in for it; and cmd/nerdctl/helpers/testing*.go, test helpers compiled into a non-test
  # package, are the only importers of it, so they are left out.
  src=$work/nerdctl
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  mkdir -p "$src/mod/tigron"
  printf 'module github.com/containerd/nerdctl/mod/tigron\n\ngo 1.24\n' >"$src/mod/tigron/go.mod"
  rm -f "$src"/cmd/nerdctl/helpers/testing*.go
  "$GO" -C "$src" build -trimpath -o "$work/nerdctl.bin" \
    -ldflags "-s -w -X $RH_NERDCTL_MODULE/pkg/version.Version=$RH_NERDCTL_VERSION" ./cmd/nerdctl ||
    return 1
  install_bin "$work/nerdctl.bin" nerdctl
}

build_containerd ()
{
  local name=$1 dir
  dir=$(fetch_module "$RH_CONTAINERD_MODULE" "$RH_CONTAINERD_VERSION") || return 1
  "$GO" -C "$dir" build -trimpath -o "$work/$name.bin" \
    -ldflags "-s -w -X $RH_CONTAINERD_MODULE/version.Version=$RH_CONTAINERD_VERSION" "./cmd/$name" ||
    return 1
  install_bin "$work/$name.bin" "$name"
}

build_runsc ()
{
  local dir
  dir=$(fetch_module "$RH_GVISOR_MODULE" "$RH_GVISOR_VERSION") || return 1
  "$GO" -C "$dir" build -trimpath -o "$work/runsc.bin" \
    -ldflags "-s -w -X $RH_GVISOR_MODULE/runsc/version.version=$RH_GVISOR_VERSION" ./runsc || return 1
  install_bin "$work/runsc.bin" runsc
}

status=0
for name in "${stale[@]}"; do
  start=$SECONDS
  say "building $name (into $prefix) ..."
  case $name in
  nerdctl) build_nerdctl ;;
  containerd | containerd-shim-runc-v2) build_containerd "$name" ;;
  runsc) build_runsc ;;
  esac || {
    fail "could not build $name; the nerdctl tests and the current-runsc runs will be skipped." \
      "The Debian-only path (ctr, docker, Debian's runsc) still works."
    status=1
    continue
  }
  say "built $name in $((SECONDS - start)) s: $("$prefix/$name" --version 2>&1 | head -n 1)"
done
link_nerdctl
exit "$status"
