/* pool.h -- a generic fixed pool of threads, after libuv's src/threadpool.c.
 *
 * One mutex and one condition variable guard a FIFO queue of intrusive work
 * items; a worker sleeps on the condition variable only when the queue is
 * empty, and submit wakes one only if one is idle. pool_destroy queues a
 * sentinel behind the submitted work, so every item submitted before it runs,
 * then joins every thread.
 *
 * Workers start with every asynchronous signal blocked, so SIGINT, SIGTERM and
 * friends are delivered to the other threads of the process (the main one).
 */
#ifndef FLAGS_POOL_H
#define FLAGS_POOL_H

#include <stddef.h>

/* Default worker stack: small enough for 10,000 workers in a 64-bit address
 * space, large enough for curl_easy_perform (see docs/client.md for the
 * measurement). */
#define POOL_STACK_SIZE (128u * 1024u)

struct pool;

/* A unit of work, embedded by the caller in its own struct (container_of).
 * run is called once, on some worker, with that worker's number 0..n-1 (so
 * the caller can keep per-worker state in an array). The caller owns the item
 * and must keep it alive until run has returned. */
struct pool_work {
    void (*run)(struct pool_work *w, unsigned worker);
    struct pool_work *next; /* queue link, owned by the pool while queued */
};

/* Starts nthreads (>= 1) workers with stack_size-byte stacks (raised to the
 * system minimum, 0 meaning POOL_STACK_SIZE). All or nothing: if any thread
 * cannot be created, the ones that were are joined and the pool is not
 * created. Returns 0 and *out, -EINVAL, -ENOMEM, or pthread_create's error
 * negated (-EAGAIN: out of threads or memory for stacks). */
int pool_create(struct pool **out, unsigned nthreads, size_t stack_size);

/* Queues w to run on a worker, in submission order. Never fails. Not after
 * pool_destroy has started. */
void pool_submit(struct pool *p, struct pool_work *w);

/* Number of workers. */
unsigned pool_size(const struct pool *p);

/* Runs every item queued so far, stops and joins every worker, frees p.
 * Call from a thread that is not a worker. NULL is a no-op. */
void pool_destroy(struct pool *p);

#endif /* FLAGS_POOL_H */
