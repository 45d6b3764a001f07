/* semaphore.h -- an asynchronous counting semaphore for a single-threaded loop.
 *
 * The C counterpart of asyncio.Semaphore: asem_acquire() does not block, it
 * takes a continuation. When a permit is free the continuation runs at once,
 * inside asem_acquire(); otherwise the caller's waiter node is queued and the
 * continuation runs later, inside the asem_release() that hands it the permit.
 * Waiters are served strictly in FIFO order, and the queue is intrusive: the
 * caller supplies (and owns) every node, so the semaphore never allocates.
 *
 * Invariants (checked by tests/asyncloop/test_semaphore.c):
 *   - 0 <= permits <= the initial count: a permit is only created by releasing
 *     one that was granted, and granting one always takes one.
 *   - Between calls (that is, whenever no asem_release() is running on the
 *     stack), permits > 0 implies no waiters: a free permit is never left
 *     idle while someone waits for it.
 *   - A continuation runs exactly once per granted acquire, after its permit
 *     was taken; a cancelled waiter's continuation never runs.
 *   - Continuations may call asem_acquire(), asem_release() and asem_cancel() on
 *     the same semaphore. A asem_release() from inside a continuation does not
 *     recurse: the outermost asem_release() hands out the permit in a loop, so
 *     the stack depth stays bounded however many waiters are queued.
 *
 * Not thread-safe: one semaphore belongs to one thread (the loop's).
 */
#ifndef FLAGS_ASEM_H
#define FLAGS_ASEM_H

#include <stdbool.h>
#include <stddef.h>

struct asem_waiter;

/* A continuation: w is the node passed to asem_acquire(), arg its argument. */
typedef void (*asem_fn)(struct asem_waiter *w, void *arg);

/* A queue node, embedded by the caller wherever it likes. The fields are
 * private to semaphore.c; the node must stay valid while queued. */
struct asem_waiter {
    struct asem_waiter *prev, *next;
    asem_fn fn;
    void *arg;
    bool queued;
};

struct asem {
    unsigned permits;                /* free permits, 0..max */
    unsigned max;                    /* the initial count */
    struct asem_waiter *head, *tail; /* FIFO of waiters */
    size_t nwaiters;
    bool dispatching; /* an asem_release() is handing out permits */
};

/* Initialises s with permits free permits and no waiters. Returns 0, or
 * -EINVAL for zero permits (nothing could ever be acquired). */
int asem_init(struct asem *s, unsigned permits);

/* Asks for one permit on behalf of w. If a permit is free and nobody waits,
 * takes it and calls fn(w, arg) before returning; otherwise queues w at the
 * tail and returns, and fn runs later from an asem_release(). Returns true if
 * fn already ran, false if w was queued. w must not be queued already; a node
 * must be zero-initialised before its first use (asem_cancel reads it). */
bool asem_acquire(struct asem *s, struct asem_waiter *w, asem_fn fn, void *arg);

/* Returns a permit taken by a granted acquire. If waiters are queued, the
 * permit goes straight to the first of them and its continuation runs before
 * asem_release() returns (and so on while permits and waiters remain).
 * Returns 0, or -EOVERFLOW (and changes nothing) if no permit is taken: a
 * release without a matching acquire, a bug in the caller. */
int asem_release(struct asem *s);

/* Removes w from the queue without running its continuation. Returns true if
 * w was queued, false if it was not (already granted, cancelled or unused). */
bool asem_cancel(struct asem *s, struct asem_waiter *w);

/* Number of queued waiters. */
size_t asem_waiters(const struct asem *s);

/* Number of free permits. */
unsigned asem_permits(const struct asem *s);

#endif /* FLAGS_ASEM_H */
