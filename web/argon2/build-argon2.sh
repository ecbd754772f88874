#!/usr/bin/env bash
# Rebuilds web/src/crypto/argon2/argon2.wasm: the reference Argon2 C implementation (phc-winner-argon2, 20190702 as
# bundled in the npm package argon2@0.45.1, CC0 1.0 / Apache-2.0) plus Veil's glue (veil-argon2.c), for WebAssembly
# threads (shared memory, atomics, bulk memory) and SIMD. ADR 0006 "Argon2 in threads" says why and how it is used.
#
# Needs Debian 12's clang-14 and lld-14 (`apt-get install clang-14 lld-14`) and npm (to fetch the sources). CI does not
# rebuild it: the .wasm is committed, and this script is how to check it (same compiler, same bytes: compare the
# sha256 it prints with the one in ADR 0006).
set -euo pipefail
cd "$(dirname "$0")"
PACKAGE=argon2@0.45.1
PACKAGE_SHA256=4acffbd5e5a87fe8fad926afc9a9ac450d69b7082686dd2836be0d8309dbd8aa
OUT=${OUT:-../src/crypto/argon2/argon2.wasm}
# opt: the reference SIMD code (src/opt.c) through simd/*.h, the x86 intrinsics it uses mapped onto WebAssembly SIMD;
# ref: the portable reference code (src/ref.c), which clang vectorises only in part.
FILL=${FILL:-opt}
CLANG=${CLANG:-clang-14}
WASM_LD=${WASM_LD:-wasm-ld-14}

WORK=$(mktemp -d /tmp/veil-argon2-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "$PACKAGE" >/dev/null)
TARBALL=$(ls "$WORK"/argon2-*.tgz)
echo "$PACKAGE_SHA256  $TARBALL" | sha256sum -c --quiet -
tar -xzf "$TARBALL" -C "$WORK" package/argon2
SRC=$WORK/package/argon2

# -DARGON2_NO_THREADS: the reference code's own pthread path is compiled out; the page runs the lanes in workers.
# -nostdlibinc + libc/: no C library; libc/libc.c gives the four functions the code links against.
CFLAGS=(--target=wasm32 -O3 -std=c99 -matomics -mbulk-memory -mmutable-globals -msimd128 -DARGON2_NO_THREADS
  -nostdlibinc -isystem libc -I "$SRC/include" -I "$SRC/src" -fno-stack-protector -ffile-prefix-map="$WORK"=argon2-src)
FILL_FLAGS=()
if [ "$FILL" = opt ]; then FILL_FLAGS=(-D__XOP__ -isystem simd); fi
OBJECTS=()
for c in "$SRC/src/core.c" "$SRC/src/$FILL.c" "$SRC/src/blake2/blake2b.c" veil-argon2.c libc/libc.c; do
  o="$WORK/$(basename "$c" .c).o"
  "$CLANG" "${CFLAGS[@]}" "${FILL_FLAGS[@]}" -c "$c" -o "$o"
  OBJECTS+=("$o")
done
# Shared imported memory (every worker instantiates the module over the same WebAssembly.Memory); each instance gets
# its own stack through the exported __stack_pointer.
"$WASM_LD" --no-entry --import-memory --shared-memory --max-memory=2147483648 -z stack-size=65536 \
  --export=__stack_pointer --gc-sections --strip-all "${OBJECTS[@]}" -o "$OUT"
chmod 644 "$OUT"
sha256sum "$OUT"
