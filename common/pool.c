/* pool.c -- a fixed pool of pthreads (see pool.h). */
#include "pool.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct pool {
    pthread_mutex_t mutex;
    pthread_cond_t cond;    /* signalled when the queue gains an item */
    struct pool_work *head; /* FIFO; guarded by mutex */
    struct pool_work *tail;
    unsigned idle;     /* workers waiting on cond; guarded by mutex */
    unsigned nthreads; /* workers started */
    pthread_t *threads;
    /* Queued last by stop_and_join; stays at the head once reached, so every
     * worker that sees it exits and the next one sees it too. */
    struct pool_work exit_work;
};

struct worker_arg {
    struct pool *pool;
    unsigned id;
};

static void *worker(void *arg)
{
    struct worker_arg *wa = arg;
    struct pool *p = wa->pool;
    unsigned id = wa->id;
    struct pool_work *w;

    free(wa);
    pthread_mutex_lock(&p->mutex);
    for (;;) {
        /* mutex held here */
        while (p->head == NULL) {
            p->idle++;
            pthread_cond_wait(&p->cond, &p->mutex);
            p->idle--;
        }
        w = p->head;
        if (w == &p->exit_work) {
            /* Leave it queued and pass the wake-up on. */
            pthread_cond_signal(&p->cond);
            break;
        }
        p->head = w->next;
        if (p->head == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mutex);

        w->run(w, id); /* w may be freed by its owner from here on */

        pthread_mutex_lock(&p->mutex);
    }
    pthread_mutex_unlock(&p->mutex);
    return NULL;
}

/* Appends w; mutex held. */
static void enqueue(struct pool *p, struct pool_work *w)
{
    w->next = NULL;
    if (p->tail)
        p->tail->next = w;
    else
        p->head = w;
    p->tail = w;
}

void pool_submit(struct pool *p, struct pool_work *w)
{
    pthread_mutex_lock(&p->mutex);
    enqueue(p, w);
    /* A busy worker checks the queue before it sleeps: only an idle one
     * needs waking. */
    if (p->idle > 0)
        pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mutex);
}

unsigned pool_size(const struct pool *p)
{
    return p->nthreads;
}

/* Queues the sentinel and joins the nthreads workers started so far. */
static void stop_and_join(struct pool *p)
{
    pthread_mutex_lock(&p->mutex);
    enqueue(p, &p->exit_work);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mutex);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
}

static void pool_free(struct pool *p)
{
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mutex);
    free(p->threads);
    free(p);
}

static size_t stack_bytes(size_t want)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t min = PTHREAD_STACK_MIN;

    if (want == 0)
        want = POOL_STACK_SIZE;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    want *= 4; /* sanitizers pad every frame */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    want *= 4;
#endif
#endif
    if (want < min)
        want = min;
    if (page > 0)
        want = (want + (size_t)page - 1) / (size_t)page * (size_t)page;
    return want;
}

int pool_create(struct pool **out, unsigned nthreads, size_t stack_size)
{
    struct pool *p;
    pthread_attr_t attr;
    sigset_t block, saved;
    int rc;

    *out = NULL;
    if (nthreads == 0)
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->threads = calloc(nthreads, sizeof(*p->threads));
    if (!p->threads) {
        free(p);
        return -ENOMEM;
    }
    if ((rc = pthread_mutex_init(&p->mutex, NULL)) != 0) {
        free(p->threads);
        free(p);
        return -rc;
    }
    if ((rc = pthread_cond_init(&p->cond, NULL)) != 0) {
        pthread_mutex_destroy(&p->mutex);
        free(p->threads);
        free(p);
        return -rc;
    }

    if ((rc = pthread_attr_init(&attr)) != 0) {
        pool_free(p);
        return -rc;
    }
    rc = pthread_attr_setstacksize(&attr, stack_bytes(stack_size));

    /* Workers inherit the creating thread's mask: block the asynchronous
     * signals around pthread_create, keep the synchronous ones (a fault must
     * still kill, sanitizers still report). */
    sigfillset(&block);
    sigdelset(&block, SIGSEGV);
    sigdelset(&block, SIGBUS);
    sigdelset(&block, SIGFPE);
    sigdelset(&block, SIGILL);
    sigdelset(&block, SIGTRAP);
    sigdelset(&block, SIGABRT);
    sigdelset(&block, SIGSYS);
    if (rc == 0)
        rc = pthread_sigmask(SIG_SETMASK, &block, &saved);
    if (rc != 0) {
        pthread_attr_destroy(&attr);
        pool_free(p);
        return -rc;
    }

    for (unsigned i = 0; i < nthreads; i++) {
        struct worker_arg *wa = malloc(sizeof(*wa));
        if (!wa) {
            rc = ENOMEM;
            break;
        }
        wa->pool = p;
        wa->id = i;
        rc = pthread_create(&p->threads[i], &attr, worker, wa);
        if (rc != 0) {
            free(wa);
            break;
        }
        p->nthreads++;
    }

    /* Restoring a mask saved by pthread_sigmask cannot fail. */
    (void)pthread_sigmask(SIG_SETMASK, &saved, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        stop_and_join(p);
        pool_free(p);
        return -rc;
    }
    *out = p;
    return 0;
}

void pool_destroy(struct pool *p)
{
    if (!p)
        return;
    stop_and_join(p);
    pool_free(p);
}
