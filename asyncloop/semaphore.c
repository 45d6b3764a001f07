/* semaphore.c -- an asynchronous counting semaphore with an intrusive FIFO. */
#include "semaphore.h"

#include <errno.h>

int asem_init(struct asem *s, unsigned permits)
{
    if (permits == 0)
        return -EINVAL;
    s->permits = permits;
    s->max = permits;
    s->head = s->tail = NULL;
    s->nwaiters = 0;
    s->dispatching = false;
    return 0;
}

static void enqueue(struct asem *s, struct asem_waiter *w)
{
    w->next = NULL;
    w->prev = s->tail;
    if (s->tail)
        s->tail->next = w;
    else
        s->head = w;
    s->tail = w;
    w->queued = true;
    s->nwaiters++;
}

static void unlink_waiter(struct asem *s, struct asem_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = false;
    s->nwaiters--;
}

bool asem_acquire(struct asem *s, struct asem_waiter *w, asem_fn fn, void *arg)
{
    w->fn = fn;
    w->arg = arg;
    /* FIFO: a free permit only goes to a newcomer when nobody is ahead of it.
     * During a dispatch a permit may be free while waiters remain; the
     * dispatch loop gives it to them. */
    if (s->permits > 0 && s->head == NULL) {
        s->permits--;
        w->queued = false;
        fn(w, arg);
        return true;
    }
    enqueue(s, w);
    return false;
}

int asem_release(struct asem *s)
{
    if (s->permits == s->max)
        return -EOVERFLOW;
    s->permits++;
    if (s->dispatching)
        return 0; /* the asem_release() below us on the stack hands it out */

    s->dispatching = true;
    while (s->permits > 0 && s->head != NULL) {
        struct asem_waiter *w = s->head;
        unlink_waiter(s, w);
        s->permits--;
        w->fn(w, w->arg); /* may acquire, release or cancel: re-read the queue */
    }
    s->dispatching = false;
    return 0;
}

bool asem_cancel(struct asem *s, struct asem_waiter *w)
{
    if (!w->queued)
        return false;
    unlink_waiter(s, w);
    return true;
}

size_t asem_waiters(const struct asem *s)
{
    return s->nwaiters;
}

unsigned asem_permits(const struct asem *s)
{
    return s->permits;
}
