/*
 * Veil's glue around the reference Argon2 implementation (phc-winner-argon2, CC0 / Apache-2.0), compiled to
 * WebAssembly with shared memory by build-argon2.sh. It computes nothing itself: Argon2's steps are the reference
 * code's own functions, called in the order its argon2_ctx() calls them, with one difference in step 4:
 *
 *   1. veil_argon2_buffers   room for the inputs and the tag (the page writes password, salt, secret, ad)
 *   2. veil_argon2_begin     validate_inputs(), the instance sizes exactly as argon2_ctx() computes them,
 *                            initialize() (H0 and the first two blocks of every lane)
 *   3. veil_argon2_fill_segment(pass, lane, slice)  the reference fill_segment() for one segment; the page runs
 *                            the lanes of a slice in several Web Workers over this same memory and waits for all of
 *                            them before the next slice (the schedule of the reference fill_memory_blocks_mt())
 *   4. veil_argon2_finish    finalize(): the tag, then the blocks are wiped
 *
 * The page (web/src/crypto/argon2/) owns the threads and the barrier between slices; see ADR 0006 "Argon2 in threads".
 */
#include <stdint.h>

#include "argon2.h"
#include "core.h"

#define VEIL_EXPORT(name) __attribute__((export_name(#name))) name

extern unsigned char __heap_base;

static argon2_context context;
static argon2_instance_t instance;
static uintptr_t heap_top;

/* Bump allocation in this module's linear memory, 64-byte aligned; the memory belongs to one derivation. */
static uint8_t *bump(size_t size) {
    uintptr_t start;
    if (heap_top == 0) {
        heap_top = (uintptr_t)&__heap_base;
    }
    start = (heap_top + 63) & ~(uintptr_t)63;
    if (size > (uintptr_t)__builtin_wasm_memory_size(0) * 65536 - start) {
        return NULL;
    }
    heap_top = start + size;
    return (uint8_t *)start;
}

static int allocate_blocks(uint8_t **memory, size_t bytes) {
    *memory = bump(bytes);
    return *memory == NULL ? ARGON2_MEMORY_ALLOCATION_ERROR : ARGON2_OK;
}

/* The blocks live until the memory is dropped; finalize() has wiped them before this is called. */
static void release_blocks(uint8_t *memory, size_t bytes) {
    (void)memory;
    (void)bytes;
}

/* Room for pwd || salt || secret || ad || out, in that order; returns its start or 0. */
uint8_t *VEIL_EXPORT(veil_argon2_buffers)(uint32_t pwdlen, uint32_t saltlen, uint32_t secretlen, uint32_t adlen,
                                          uint32_t outlen) {
    uint8_t *start = bump((size_t)pwdlen + saltlen + secretlen + adlen + outlen);
    uint8_t *at = start;
    if (start == NULL) {
        return NULL;
    }
    context.pwd = pwdlen ? at : NULL;
    context.pwdlen = pwdlen;
    at += pwdlen;
    context.salt = saltlen ? at : NULL;
    context.saltlen = saltlen;
    at += saltlen;
    context.secret = secretlen ? at : NULL;
    context.secretlen = secretlen;
    at += secretlen;
    context.ad = adlen ? at : NULL;
    context.adlen = adlen;
    at += adlen;
    context.out = at;
    context.outlen = outlen;
    return start;
}

/* A stack for one more thread (each Web Worker's instance sets its own __stack_pointer to it); returns its top. */
uint8_t *VEIL_EXPORT(veil_argon2_thread_stack)(uint32_t size) {
    uint8_t *base = bump(size);
    return base == NULL ? NULL : base + size;
}

/* Argon2id v1.3: validates, sizes the instance as argon2_ctx() does, and runs initialize(). Returns an argon2 error code. */
int VEIL_EXPORT(veil_argon2_begin)(uint32_t t_cost, uint32_t m_cost, uint32_t lanes) {
    uint32_t memory_blocks, segment_length;
    int result;

    context.t_cost = t_cost;
    context.m_cost = m_cost;
    context.lanes = lanes;
    context.threads = lanes;
    context.version = ARGON2_VERSION_13;
    context.allocate_cbk = allocate_blocks;
    context.free_cbk = release_blocks;
    context.flags = ARGON2_DEFAULT_FLAGS;
    result = validate_inputs(&context);
    if (result != ARGON2_OK) {
        return result;
    }

    memory_blocks = context.m_cost;
    if (memory_blocks < 2 * ARGON2_SYNC_POINTS * context.lanes) {
        memory_blocks = 2 * ARGON2_SYNC_POINTS * context.lanes;
    }
    segment_length = memory_blocks / (context.lanes * ARGON2_SYNC_POINTS);
    memory_blocks = segment_length * (context.lanes * ARGON2_SYNC_POINTS);

    instance.version = context.version;
    instance.memory = NULL;
    instance.passes = context.t_cost;
    instance.memory_blocks = memory_blocks;
    instance.segment_length = segment_length;
    instance.lane_length = segment_length * ARGON2_SYNC_POINTS;
    instance.lanes = context.lanes;
    instance.threads = context.threads;
    instance.type = Argon2_id;
    return initialize(&instance, &context);
}

void VEIL_EXPORT(veil_argon2_fill_segment)(uint32_t pass, uint32_t lane, uint32_t slice) {
    argon2_position_t position;
    position.pass = pass;
    position.lane = lane;
    position.slice = (uint8_t)slice;
    position.index = 0;
    fill_segment(&instance, position);
}

/* finalize(): writes the tag into the out buffer and wipes the blocks. */
void VEIL_EXPORT(veil_argon2_finish)(void) {
    finalize(&context, &instance);
}
