/* The C library functions the reference Argon2 code calls, for a wasm32 build without one: memcpy and memset become
 * the bulk-memory instructions; malloc, calloc and free are linked but never called (veil-argon2.c passes its own
 * allocator and the threaded code path of core.c is compiled out with ARGON2_NO_THREADS). */
#include <stddef.h>

void *memcpy(void *restrict dest, const void *restrict src, size_t n) {
    __builtin_memcpy(dest, src, n);
    return dest;
}

void *memset(void *dest, int c, size_t n) {
    __builtin_memset(dest, c, n);
    return dest;
}

void *malloc(size_t size) {
    (void)size;
    return NULL;
}

void *calloc(size_t count, size_t size) {
    (void)count;
    (void)size;
    return NULL;
}

void free(void *ptr) { (void)ptr; }
