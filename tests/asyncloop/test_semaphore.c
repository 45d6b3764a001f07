/* test_semaphore.c -- unit tests of asyncloop/semaphore.c: no network, no loop. */
#include <errno.h>

#include "check.h"
#include "semaphore.h"

#define N 64

/* What the continuations record: the order they ran in, and the permit count
 * seen from inside each (to prove the permit was taken before fn ran). */
struct trace {
    struct asem *s;
    int order[N];
    unsigned permits_seen[N];
    int nran;
    int release_inside; /* continuations that also release at once */
    int acquire_inside; /* the first continuation acquires this many more */
    struct asem_waiter extra[N];
};

static struct asem_waiter nodes[N];

static int node_id(const struct asem_waiter *w)
{
    if (w >= nodes && w < nodes + N)
        return (int)(w - nodes);
    return 1000 + (int)(w - ((struct trace *)w->arg)->extra);
}

static void record(struct asem_waiter *w, void *arg)
{
    struct trace *t = arg;
    if (t->nran < N) {
        t->order[t->nran] = node_id(w);
        t->permits_seen[t->nran] = asem_permits(t->s);
    }
    t->nran++;
    if (t->release_inside > 0) {
        t->release_inside--;
        CHECK_EQ_LONG(asem_release(t->s), 0);
    }
    if (t->acquire_inside > 0) {
        int k = t->acquire_inside;
        t->acquire_inside = 0;
        for (int i = 0; i < k; i++)
            asem_acquire(t->s, &t->extra[i], record, t);
    }
}

static void reset(struct trace *t, struct asem *s)
{
    memset(t, 0, sizeof(*t));
    memset(nodes, 0, sizeof(nodes));
    t->s = s;
}

static void test_init(void)
{
    struct asem s;
    CHECK_EQ_LONG(asem_init(&s, 0), -EINVAL);
    CHECK_EQ_LONG(asem_init(&s, 3), 0);
    CHECK_EQ_LONG(asem_permits(&s), 3);
    CHECK_EQ_LONG(asem_waiters(&s), 0);
    /* A release with nothing acquired is refused and changes nothing. */
    CHECK_EQ_LONG(asem_release(&s), -EOVERFLOW);
    CHECK_EQ_LONG(asem_permits(&s), 3);
}

/* Permits never go negative: with 3 permits and 10 acquires, 3 run at once,
 * 7 wait, and the count stops at 0. */
static void test_never_negative(void)
{
    struct asem s;
    struct trace t;
    reset(&t, &s);
    CHECK_EQ_LONG(asem_init(&s, 3), 0);
    int granted = 0;
    for (int i = 0; i < 10; i++)
        granted += asem_acquire(&s, &nodes[i], record, &t) ? 1 : 0;
    CHECK_EQ_LONG(granted, 3);
    CHECK_EQ_LONG(t.nran, 3);
    CHECK_EQ_LONG(asem_permits(&s), 0);
    CHECK_EQ_LONG(asem_waiters(&s), 7);
    /* Each continuation saw its permit already taken. */
    CHECK_EQ_LONG(t.permits_seen[0], 2);
    CHECK_EQ_LONG(t.permits_seen[1], 1);
    CHECK_EQ_LONG(t.permits_seen[2], 0);
    /* Release everything; the count never exceeds the initial 3. */
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_LONG(asem_release(&s), 0);
        CHECK(asem_permits(&s) <= 3);
        /* permits > 0 implies no waiters, between calls */
        CHECK(asem_permits(&s) == 0 || asem_waiters(&s) == 0);
    }
    CHECK_EQ_LONG(t.nran, 10);
    CHECK_EQ_LONG(asem_permits(&s), 3);
    CHECK_EQ_LONG(asem_release(&s), -EOVERFLOW);
}

/* Waiters wake in FIFO order, one per release. */
static void test_fifo(void)
{
    struct asem s;
    struct trace t;
    reset(&t, &s);
    CHECK_EQ_LONG(asem_init(&s, 1), 0);
    for (int i = 0; i < 6; i++)
        asem_acquire(&s, &nodes[i], record, &t);
    CHECK_EQ_LONG(t.nran, 1);
    CHECK_EQ_LONG(t.order[0], 0);
    for (int i = 1; i < 6; i++) {
        CHECK_EQ_LONG(asem_release(&s), 0);
        CHECK_EQ_LONG(t.nran, i + 1);
        CHECK_EQ_LONG(t.order[i], i);
        CHECK_EQ_LONG(asem_waiters(&s), 5 - i);
        CHECK_EQ_LONG(asem_permits(&s), 0); /* handed over, not returned */
    }
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(asem_permits(&s), 1);
}

/* A release with no waiter restores the permit; the next acquire runs at once. */
static void test_release_restores(void)
{
    struct asem s;
    struct trace t;
    reset(&t, &s);
    CHECK_EQ_LONG(asem_init(&s, 2), 0);
    CHECK(asem_acquire(&s, &nodes[0], record, &t));
    CHECK_EQ_LONG(asem_permits(&s), 1);
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(asem_permits(&s), 2);
    CHECK_EQ_LONG(asem_waiters(&s), 0);
    CHECK(asem_acquire(&s, &nodes[1], record, &t));
    CHECK(asem_acquire(&s, &nodes[2], record, &t));
    CHECK(!asem_acquire(&s, &nodes[3], record, &t));
    CHECK_EQ_LONG(t.nran, 3);
}

/* A cancelled waiter never runs and the others keep their order; cancelling
 * a granted or unused node is refused. */
static void test_cancel(void)
{
    struct asem s;
    struct trace t;
    reset(&t, &s);
    CHECK_EQ_LONG(asem_init(&s, 1), 0);
    CHECK(!asem_cancel(&s, &nodes[9])); /* never used */
    for (int i = 0; i < 5; i++)
        asem_acquire(&s, &nodes[i], record, &t);
    CHECK(!asem_cancel(&s, &nodes[0])); /* granted, not queued */
    CHECK(asem_cancel(&s, &nodes[2]));  /* middle */
    CHECK(asem_cancel(&s, &nodes[4]));  /* tail */
    CHECK(asem_cancel(&s, &nodes[1]));  /* head */
    CHECK(!asem_cancel(&s, &nodes[2])); /* twice */
    CHECK_EQ_LONG(asem_waiters(&s), 1);
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(t.nran, 2);
    CHECK_EQ_LONG(t.order[1], 3);
    /* The tail pointer was fixed up: a new waiter queues and runs. */
    asem_acquire(&s, &nodes[5], record, &t);
    CHECK_EQ_LONG(asem_waiters(&s), 1);
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(t.order[2], 5);
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(asem_permits(&s), 1);
    CHECK_EQ_LONG(asem_waiters(&s), 0);
}

/* A continuation that acquires again: the new acquires queue behind the
 * existing waiters (FIFO holds), nothing runs twice. */
static void test_acquire_from_continuation(void)
{
    struct asem s;
    struct trace t;
    reset(&t, &s);
    CHECK_EQ_LONG(asem_init(&s, 1), 0);
    asem_acquire(&s, &nodes[0], record, &t);
    asem_acquire(&s, &nodes[1], record, &t);
    t.acquire_inside = 2; /* node 1's continuation acquires extra[0], extra[1] */
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(t.nran, 2);
    CHECK_EQ_LONG(asem_waiters(&s), 2);
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(t.nran, 4);
    CHECK_EQ_LONG(t.order[2], 1000);
    CHECK_EQ_LONG(t.order[3], 1001);

    /* With a free permit and no waiters, an acquire inside a continuation
     * runs at once (nested), as asyncio would let it proceed. */
    struct asem s2;
    reset(&t, &s2);
    CHECK_EQ_LONG(asem_init(&s2, 2), 0);
    t.acquire_inside = 1;
    CHECK(asem_acquire(&s2, &nodes[0], record, &t));
    CHECK_EQ_LONG(t.nran, 2);
    CHECK_EQ_LONG(t.order[1], 1000);
    CHECK_EQ_LONG(asem_permits(&s2), 0);
}

/* Continuations that release at once (e.g. a request that fails to start):
 * one release drains the whole queue without recursion, in order, and the
 * permits end where they started. */
static void test_release_from_continuation(void)
{
    struct asem s;
    struct trace t;
    reset(&t, &s);
    CHECK_EQ_LONG(asem_init(&s, 2), 0);
    for (int i = 0; i < N; i++)
        asem_acquire(&s, &nodes[i], record, &t);
    CHECK_EQ_LONG(asem_waiters(&s), N - 2);
    t.release_inside = N; /* every continuation from now on releases */
    CHECK_EQ_LONG(asem_release(&s), 0);
    CHECK_EQ_LONG(t.nran, N);
    for (int i = 0; i < N; i++)
        CHECK_EQ_LONG(t.order[i], i);
    CHECK_EQ_LONG(asem_waiters(&s), 0);
    /* one held by node 1 (never released) */
    CHECK_EQ_LONG(asem_permits(&s), 1);
}

int main(void)
{
    test_init();
    test_never_negative();
    test_fifo();
    test_release_restores();
    test_cancel();
    test_acquire_from_continuation();
    test_release_from_continuation();
    return CHECK_DONE();
}
