// A persistent pthread pool for ck_parallel_for.
//
// One region runs at a time (region_lock, taken with trylock: a caller that finds it held, or
// that is itself inside a region, runs its indices serially instead of waiting). The caller
// publishes the job, bumps `epoch`, and takes part; workers claim indices from an atomic counter.
// After a region a worker spins for SPIN_NANOSECONDS on `epoch` (a wake-up from sleep costs
// 20–50 µs on a VM, more than many regions take), then sleeps on a condition variable.
//
// A worker may notice a new epoch late, after that region has ended. So workers first join
// the region through `join_state` = (open epoch << 32) | workers inside: a join succeeds only
// while the region it saw is still open, and the caller closes the region (epoch 0), then waits
// for the joined workers to leave before the job fields can change.
#define _GNU_SOURCE
#include "CKernels.h"
#include "ck_internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 256 };
#define SPIN_NANOSECONDS 50000

typedef void (*task)(void *context, int64_t index);

static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;  // held for a whole region
static atomic_int requested_threads;                             // 0 until first asked
static int worker_count;                                         // workers started (region_lock)

// The current job: written by the caller while no worker is inside (see above).
static task job_task;
static void *job_context;
static int64_t job_count;
static int job_workers;  // workers with an index below this take part
static atomic_int_fast64_t job_next, job_done;

static _Atomic uint32_t epoch;       // last region published; 0 is never used
static _Atomic uint64_t join_state;  // (open epoch << 32) | workers inside

// Sleeping: workers wait for a new epoch, the caller for the last index to finish.
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t caller_wake = PTHREAD_COND_INITIALIZER;
static atomic_int sleeping_workers;
static atomic_int caller_sleeping;

static _Thread_local int inside_region;  // 1 while this thread runs a task: nesting runs inline

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("pause");
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static int64_t now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int default_threads(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

void ck_set_num_threads(int n) {
    if (n <= 0) n = default_threads();
    atomic_store(&requested_threads, n < MAX_THREADS ? n : MAX_THREADS);
}

int ck_num_threads(void) {
    int n = atomic_load_explicit(&requested_threads, memory_order_relaxed);
    if (n == 0) {
        int expected = 0, d = default_threads();
        n = d < MAX_THREADS ? d : MAX_THREADS;
        if (!atomic_compare_exchange_strong(&requested_threads, &expected, n)) n = expected;
    }
    return n;
}

int ck_pool_can_split(void) { return !inside_region && ck_num_threads() > 1; }

// Claims and runs indices until none are left; the thread finishing the last one wakes the
// caller if it sleeps.
static void run_tasks(void) {
    int64_t done = 0;
    inside_region = 1;
    for (;;) {
        int64_t i = atomic_fetch_add(&job_next, 1);
        if (i >= job_count) break;
        job_task(job_context, i);
        done++;
    }
    inside_region = 0;
    if (done > 0 && atomic_fetch_add(&job_done, done) + done == job_count && atomic_load(&caller_sleeping)) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_signal(&caller_wake);
        pthread_mutex_unlock(&sleep_lock);
    }
}

static uint32_t wait_for_new_epoch(uint32_t seen) {
    int64_t start = now_nanoseconds();
    for (int spins = 1;; spins++) {
        uint32_t e = atomic_load(&epoch);
        if (e != seen) return e;
        cpu_relax();
        if (spins % 64 == 0 && now_nanoseconds() - start > SPIN_NANOSECONDS) break;
    }
    pthread_mutex_lock(&sleep_lock);
    atomic_fetch_add(&sleeping_workers, 1);
    uint32_t e;
    while ((e = atomic_load(&epoch)) == seen) pthread_cond_wait(&workers_wake, &sleep_lock);
    atomic_fetch_sub(&sleeping_workers, 1);
    pthread_mutex_unlock(&sleep_lock);
    return e;
}

static void *worker_main(void *argument) {
    int index = (int)(intptr_t)argument;
    uint32_t seen = atomic_load(&epoch);
    for (;;) {
        seen = wait_for_new_epoch(seen);
        uint64_t state = atomic_load(&join_state);
        int joined = 0;
        while ((uint32_t)(state >> 32) == seen && !joined)
            joined = atomic_compare_exchange_weak(&join_state, &state, state + 1);
        if (!joined) continue;  // that region has ended; wait for the next one
        if (index < job_workers) run_tasks();
        atomic_fetch_sub(&join_state, 1);
    }
    return NULL;
}

// Starts workers until there are `wanted` (region_lock held); returns how many exist.
static int start_workers(int wanted) {
    while (worker_count < wanted) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker_main, (void *)(intptr_t)worker_count) != 0) break;
#if defined(__linux__)
        char name[16];
        snprintf(name, sizeof name, "ck-worker-%d", worker_count);
        pthread_setname_np(thread, name);
#endif
        pthread_detach(thread);
        worker_count++;
    }
    return worker_count;
}

void ck_parallel_for(int64_t n, void (*fn)(void *ctx, int64_t i), void *ctx) {
    if (n <= 0) return;
    int threads = ck_num_threads();
    if (n == 1 || threads <= 1 || inside_region || pthread_mutex_trylock(&region_lock) != 0) {
        for (int64_t i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    int workers = start_workers(threads - 1);
    job_task = fn;
    job_context = ctx;
    job_count = n;
    job_workers = n - 1 < workers ? (int)(n - 1) : workers;
    atomic_store(&job_next, 0);
    atomic_store(&job_done, 0);
    uint32_t e = atomic_load(&epoch) + 1;
    if (e == 0) e = 1;
    atomic_store(&join_state, (uint64_t)e << 32);
    atomic_store(&epoch, e);
    if (atomic_load(&sleeping_workers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&workers_wake);
        pthread_mutex_unlock(&sleep_lock);
    }

    run_tasks();

    // Wait for indices other threads are still running: spin, then sleep.
    int64_t start = now_nanoseconds();
    for (int spins = 1; atomic_load(&job_done) != n; spins++) {
        cpu_relax();
        if (spins % 64 == 0 && now_nanoseconds() - start > SPIN_NANOSECONDS) {
            pthread_mutex_lock(&sleep_lock);
            atomic_store(&caller_sleeping, 1);
            while (atomic_load(&job_done) != n) pthread_cond_wait(&caller_wake, &sleep_lock);
            atomic_store(&caller_sleeping, 0);
            pthread_mutex_unlock(&sleep_lock);
        }
    }

    // Close the region to late joiners, then let the joined ones leave (they find no index left).
    uint64_t state = atomic_load(&join_state);
    while (!atomic_compare_exchange_weak(&join_state, &state, state & 0xffffffffu)) {}
    while ((atomic_load(&join_state) & 0xffffffffu) != 0) cpu_relax();
    pthread_mutex_unlock(&region_lock);
}
