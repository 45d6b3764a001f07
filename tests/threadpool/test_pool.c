/* test_pool.c -- the generic pool: every job runs exactly once, on a valid
 * worker, with 1 and with many workers; destroy with jobs still queued runs
 * them all; submit from the main thread while workers run; N workers really
 * run N jobs at once. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "pool.h"

#include "internal.h"

struct job {
    struct pool_work work;
    atomic_int runs;
    atomic_uint worker;
    unsigned sleep_us;
};

static atomic_int concurrent, peak;

/* The gate: when gate_target > 0, every job waits until gate_target jobs are
 * running at once (the gate opens and stays open) or until gate_deadline (one
 * deadline for the whole run, so a broken pool fails in bounded time). This
 * proves "N workers run N jobs at once" without betting on a sleep being long
 * enough on a loaded machine. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv;
static int gate_target;
static bool gate_open;
static struct timespec gate_deadline;

static void gate_arm(int target, int seconds)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&gate_cv, &attr);
    pthread_condattr_destroy(&attr);
    clock_gettime(CLOCK_MONOTONIC, &gate_deadline);
    gate_deadline.tv_sec += seconds;
    gate_target = target;
    gate_open = false;
}

static void gate_disarm(void)
{
    gate_target = 0;
    pthread_cond_destroy(&gate_cv);
}

static void gate_wait(int now)
{
    pthread_mutex_lock(&gate_mu);
    if (now >= gate_target) {
        gate_open = true;
        pthread_cond_broadcast(&gate_cv);
    }
    while (!gate_open && pthread_cond_timedwait(&gate_cv, &gate_mu, &gate_deadline) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&gate_mu);
}

static void run_job(struct pool_work *w, unsigned worker)
{
    struct job *j = container_of(w, struct job, work);
    int now = atomic_fetch_add(&concurrent, 1) + 1;
    int p = atomic_load(&peak);

    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now))
        ;
    if (gate_target)
        gate_wait(now);
    if (j->sleep_us) {
        struct timespec ts = {0, (long)j->sleep_us * 1000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&j->worker, worker);
    atomic_fetch_add(&j->runs, 1);
    atomic_fetch_sub(&concurrent, 1);
}

/* Submits njobs jobs to a pool of nthreads, destroys it, checks each ran once
 * on a worker < nthreads and that at most nthreads ran at once. */
static void exactly_once(unsigned nthreads, size_t njobs, unsigned sleep_us)
{
    struct job *jobs = calloc(njobs, sizeof(*jobs));
    struct pool *p = NULL;
    size_t once = 0, valid = 0;

    CHECK(jobs != NULL);
    if (!jobs)
        return;
    atomic_store(&peak, 0);
    CHECK_EQ_LONG(pool_create(&p, nthreads, 0), 0);
    if (!p) {
        free(jobs);
        return;
    }
    CHECK_EQ_LONG(pool_size(p), nthreads);
    for (size_t i = 0; i < njobs; i++) {
        jobs[i].work.run = run_job;
        jobs[i].sleep_us = sleep_us;
        pool_submit(p, &jobs[i].work);
    }
    pool_destroy(p); /* runs everything queued, joins */
    for (size_t i = 0; i < njobs; i++) {
        once += atomic_load(&jobs[i].runs) == 1;
        valid += atomic_load(&jobs[i].worker) < nthreads;
    }
    CHECK_EQ_LONG(once, njobs);
    CHECK_EQ_LONG(valid, njobs);
    CHECK(atomic_load(&peak) >= 1 && atomic_load(&peak) <= (int)nthreads);
    free(jobs);
}

int main(void)
{
    struct pool *p = (struct pool *)&p;

    CHECK_EQ_LONG(pool_create(&p, 0, 0), -EINVAL);
    CHECK(p == NULL);
    pool_destroy(NULL);

    exactly_once(1, 1000, 0);    /* one worker, FIFO */
    exactly_once(8, 100000, 0);  /* contention */
    exactly_once(64, 2000, 100); /* many workers, jobs that block */
    exactly_once(1000, 5000, 0); /* many more workers than cores */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    /* -m's maximum: 10,000 workers with the default stack fit and all run at
     * once: each job holds its worker until all 10,000 are running (or 60 s
     * have passed, which fails). (Not under sanitizers: their per-thread
     * shadow memory makes this a test of theirs.) */
    gate_arm(10000, 60);
    exactly_once(10000, 10000, 0);
    gate_disarm();
    CHECK_EQ_LONG(atomic_load(&peak), 10000);
#endif
    /* Queued at destroy: one slow worker, 50 jobs still waiting when destroy
     * is called; all run. */
    exactly_once(1, 50, 2000);
    /* Workers reach full concurrency when jobs block: 16 jobs wait for each
     * other, then 48 more run. */
    gate_arm(16, 30);
    exactly_once(16, 64, 0);
    gate_disarm();
    CHECK_EQ_LONG(atomic_load(&peak), 16);

    /* A pool created and destroyed without work joins cleanly. */
    CHECK_EQ_LONG(pool_create(&p, 4, 64 * 1024), 0);
    pool_destroy(p);
    return CHECK_DONE();
}
