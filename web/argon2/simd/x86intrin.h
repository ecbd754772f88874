/*
 * The one XOP intrinsic the reference Argon2 code uses when __XOP__ is defined: a 64-bit lane rotation
 * (_mm_roti_epi64, c < 0 rotates right by -c). build-argon2.sh defines __XOP__ so the code takes this form, and each
 * rotation it needs (32, 24, 16, 63 bits) becomes one WebAssembly byte shuffle or a shift and an add.
 */
#ifndef VEIL_ARGON2_X86INTRIN_H
#define VEIL_ARGON2_X86INTRIN_H
#include "emmintrin.h"

#define _mm_roti_epi64(x, c)                                                                                  \
    ((-(c) == 32)   ? wasm_i32x4_shuffle((x), (x), 1, 0, 3, 2)                                                \
     : (-(c) == 24) ? wasm_i8x16_shuffle((x), (x), 3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10)      \
     : (-(c) == 16) ? wasm_i8x16_shuffle((x), (x), 2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9)      \
     : (-(c) == 63) ? wasm_v128_xor(wasm_u64x2_shr((x), 63), wasm_i64x2_add((x), (x)))                        \
                    : wasm_v128_xor(wasm_u64x2_shr((x), -(c)), wasm_i64x2_shl((x), 64 - (-(c)))))
#endif
