#!/usr/bin/env bash
# The build half of CI's matrix, kept cheap: scripts/test.sh builds RelWithDebInfo with gcc and
# runs every test; this builds the two other build types with warnings as errors and no tests:
#   Release with gcc   (-O3 inlines across files: warnings -O2 does not see, dangling pointers)
#   Debug with clang   (clang's own warnings; the fuzz targets need clang anyway)
# Each is a configure + compile of the product and the unit tests into build-matrix/<name>.
# Costs on the 2-core CI machine are in BENCHMARKS.md ("Build matrix").
#
#   ./scripts/build-matrix.sh          both
#   ./scripts/build-matrix.sh release  one (release | clang-debug)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${RH_MATRIX_DIR:-$root/build-matrix}
jobs=$(nproc)

build() {
  local name=$1 cc=$2 type=$3 start
  start=$(date +%s)
  echo "build-matrix: $name ($cc, $type)"
  CC=$cc cmake -S "$root" -B "$out/$name" -DCMAKE_BUILD_TYPE="$type" -DRH_WERROR=ON -DRH_INTEGRATION=OFF >/dev/null
  cmake --build "$out/$name" -j "$jobs" >/dev/null
  echo "build-matrix: $name ok in $(($(date +%s) - start)) s"
}

want=${1:-all}
[[ $want == all || $want == release ]] && build release gcc Release
[[ $want == all || $want == clang-debug ]] && build clang-debug clang Debug
exit 0
