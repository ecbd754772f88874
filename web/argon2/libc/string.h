/* The little of <string.h> the reference Argon2 code uses, for a wasm32 build without a C library (libc.c). */
#ifndef VEIL_ARGON2_STRING_H
#define VEIL_ARGON2_STRING_H
#include <stddef.h>
void *memcpy(void *restrict dest, const void *restrict src, size_t n);
void *memset(void *dest, int c, size_t n);
#endif
