#!/usr/bin/env bash
# Quick start, command 1 (fresh Debian 12, as root): install the dependencies, build ./build,
# install runsc-host (binaries under /usr/local, the policy at /etc/runsc-host/config.json unless
# one is already there), and run the demo: a container that asks for the TEE server socket and
# does not get it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: run as root: ./scripts/setup.sh" >&2
  exit 1
fi

./scripts/deps.sh
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE="${RH_BUILD_TYPE:-RelWithDebInfo}"
cmake --build "$root/build" -j "$(nproc)"
cmake --install "$root/build"
echo
./scripts/demo.sh
