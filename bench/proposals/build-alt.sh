#!/usr/bin/env bash
# Build the "what if" variant the benchmarks compare against: the current tree, copied to a
# scratch dir (the checkout is not touched), with
#   1. rh_sha256_hex on bench/proposals/sha256.c instead of OpenSSL (libcrypto no longer linked);
#   2. runsc-host and runsc-host-hook linked statically (-static, glibc + libjansson/libseccomp/
#      libcap archives), so no dynamic loader work at each start.
# Prints the build dir; pass it as BENCH_ALT_BUILD_DIR to bench/lifecycle.sh, passthrough.sh.
#
#   bench/proposals/build-alt.sh [OUT_DIR]     (default /tmp/rh-bench-alt)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/rh-bench-alt}
rm -rf "$out"
mkdir -p "$out/src"
tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$out/src" -xf -
cd "$out/src"
cp bench/proposals/sha256.c lib/sha256.c
python3 - <<'EOF'
import re
p = 'lib/base/fsutil.c'
s = open(p).read()
s = s.replace('#include <openssl/evp.h>\n', '')
body = r'''void rh_sha256 (const void *data, size_t len, unsigned char out[32]);

void
rh_sha256_hex (const void *data, size_t len, char out[65])
{
  unsigned char md[32];
  static const char hex[] = "0123456789abcdef";

  rh_sha256 (data, len, md);
  for (unsigned i = 0; i < 32; i++)
    {
      out[2 * i] = hex[md[i] >> 4];
      out[2 * i + 1] = hex[md[i] & 0xf];
    }
  out[64] = 0;
}
'''
s, n = re.subn(r'void\nrh_sha256_hex \(const void \*data, size_t len, char out\[65\]\)\n\{.*?\n\}\n',
               lambda m: body, s, flags=re.S)
assert n == 1, "rh_sha256_hex not found in lib/base/fsutil.c"
open(p, 'w').write(s)
p = 'lib/CMakeLists.txt'
s = open(p).read().replace(' PkgConfig::OPENSSL', '')
open(p, 'w').write(s)
EOF
cmake -S . -B "$out/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRH_WERROR=OFF -DBUILD_TESTING=OFF >/dev/null
make -C "$out/build" -j2 runsc-host runsc-host-hook >/dev/null
# Static relink of the two binaries containerd runs on every container.
static_link ()
{
  local target=$1 dir=$2 objs
  objs=$(find "$out/build/$dir/CMakeFiles/$target.dir" -name '*.o')
  # shellcheck disable=SC2086
  cc -static -o "$out/build/$dir/$target" $objs "$out/build/lib/librhcore.a" \
    -l:libjansson.a -l:libseccomp.a -l:libcap.a -lm 2>/dev/null
}
static_link runsc-host runtime-wrapper
static_link runsc-host-hook hooks
if ldd "$out/build/runtime-wrapper/runsc-host" >/dev/null 2>&1; then
  echo "static link failed" >&2
  exit 1
fi
echo "$out/build"
