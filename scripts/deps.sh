#!/usr/bin/env bash
# Install the Debian 12 packages that building, the demo and the tests need (scripts/packages.txt,
# one per line, '#' starts a comment). Idempotent: when everything is installed it only checks
# dpkg's database and returns; otherwise it runs apt-get update and installs what is missing.
# Then scripts/deps-go.sh builds nerdctl, containerd 2.x and a current runsc at the versions pinned
# in scripts/versions.env (cached: a no-op when they are built). When one cannot be built, that is
# a warning (the Debian-only path still works) unless RH_REQUIRE_GO_TOOLS=1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list=$here/packages.txt

mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$')
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx 'install ok installed'; then
    missing+=("$p")
  fi
done

go_tools ()
{
  "$here/deps-go.sh" && return 0
  if [[ ${RH_REQUIRE_GO_TOOLS:-0} == 1 ]]; then
    echo "deps: the Go-built tools are required (RH_REQUIRE_GO_TOOLS=1)" >&2
    return 1
  fi
  echo "deps: warning: continuing without them; the tests that need them will be skipped" >&2
  return 0
}

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#pkgs[@]} packages from scripts/packages.txt are installed"
  go_tools
  exit $?
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run as root (sudo $0) to install them" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
go_tools
