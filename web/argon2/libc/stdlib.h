/* <stdlib.h> for the reference Argon2 code in wasm32: veil-argon2.c passes its own allocator, so malloc is never reached. */
#ifndef VEIL_ARGON2_STDLIB_H
#define VEIL_ARGON2_STDLIB_H
#include <stddef.h>
void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void free(void *ptr);
#endif
