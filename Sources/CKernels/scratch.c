// Per-thread scratch buffers for the kernels: kept between calls, grown on demand, 64-byte
// aligned, freed when the thread exits.
#define _POSIX_C_SOURCE 200112L  // posix_memalign, also under a strict -std=c11
#include "ck_internal.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    float *data[CK_BUFFER_SLOTS];
    int64_t capacity[CK_BUFFER_SLOTS];
} buffers;

static pthread_key_t buffers_key;
static pthread_once_t buffers_once = PTHREAD_ONCE_INIT;

static void buffers_free(void *pointer) {
    buffers *b = pointer;
    for (int slot = 0; slot < CK_BUFFER_SLOTS; slot++) free(b->data[slot]);
    free(b);
}

static void buffers_key_create(void) {
    if (pthread_key_create(&buffers_key, buffers_free) != 0) {
        fputs("CKernels: pthread_key_create failed\n", stderr);
        abort();
    }
}

float *ck_thread_buffer(ck_buffer_slot slot, int64_t count) {
    pthread_once(&buffers_once, buffers_key_create);
    buffers *b = pthread_getspecific(buffers_key);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b || pthread_setspecific(buffers_key, b) != 0) {
            fputs("CKernels: cannot allocate scratch buffers\n", stderr);
            abort();
        }
    }
    if (b->capacity[slot] < count) {
        free(b->data[slot]);
        // posix_memalign rather than C11 aligned_alloc: it exists on every macOS version, while
        // aligned_alloc needs macOS 10.15 (older deployment targets warn, and fail at run time).
        void *data = NULL;
        if (posix_memalign(&data, 64, (size_t)((count * (int64_t)sizeof(float) + 63) / 64 * 64)) != 0) data = NULL;
        b->data[slot] = data;
        b->capacity[slot] = data ? count : 0;
        if (!data) {
            fputs("CKernels: cannot allocate scratch buffers\n", stderr);
            abort();
        }
    }
    return b->data[slot];
}
