/* output.c -- a FILE * backed by a queue, drained by a writer thread. */
#define _GNU_SOURCE /* fopencookie */
#include "output.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flags.h"
#include "report.h"

#define CHUNK (64u * 1024u) /* largest single write(2): progress stays visible */

struct flags_output {
    int fd;
    FILE *f;
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t wake;    /* the writer: bytes queued, or closing */
    pthread_cond_t drained; /* drain: the writer made progress or went idle */
    /* Guarded by mutex. */
    char *buf; /* queued bytes, not yet taken by the writer */
    size_t len, cap;
    bool writing;      /* the writer holds a batch */
    bool closing;      /* the writer should exit once idle */
    int error;         /* first write error (negative errno), then output is discarded */
    double progress_s; /* monotonic time of the last byte written */
    bool abandoned;    /* drain gave up: never join, never free */
};

/* Abandoned writers stay reachable from here until the process exits. */
static struct flags_output *abandoned_list[8];

static ssize_t cookie_write(void *cookie, const char *data, size_t n)
{
    struct flags_output *o = cookie;

    pthread_mutex_lock(&o->mutex);
    if (o->error == 0 && n > 0) {
        if (o->len + n > o->cap) {
            size_t cap = o->cap ? o->cap : 4096;
            while (cap < o->len + n)
                cap *= 2;
            char *p = realloc(o->buf, cap);
            if (!p) {
                o->error = -ENOMEM;
                pthread_mutex_unlock(&o->mutex);
                errno = ENOMEM;
                return -1;
            }
            o->buf = p;
            o->cap = cap;
        }
        memcpy(o->buf + o->len, data, n);
        o->len += n;
        pthread_cond_signal(&o->wake);
    }
    pthread_mutex_unlock(&o->mutex);
    /* After a write error the bytes are dropped: the error is reported once,
     * by drain, and the program carries on. */
    return (ssize_t)n;
}

/* Writes p[0..n) to o->fd, reporting progress. Returns 0 or -errno. */
static int write_batch(struct flags_output *o, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(o->fd, p, n > CHUNK ? CHUNK : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* A non-blocking descriptor we inherited: wait for room. */
                struct pollfd pfd = {.fd = o->fd, .events = POLLOUT};
                (void)poll(&pfd, 1, 100);
                continue;
            }
            return -errno;
        }
        p += w;
        n -= (size_t)w;
        pthread_mutex_lock(&o->mutex);
        o->progress_s = flags_now();
        pthread_cond_broadcast(&o->drained);
        pthread_mutex_unlock(&o->mutex);
    }
    return 0;
}

static void *writer(void *arg)
{
    struct flags_output *o = arg;
    char *batch = NULL;
    size_t batch_cap = 0;

    pthread_mutex_lock(&o->mutex);
    for (;;) {
        while (o->len == 0 && !o->closing)
            pthread_cond_wait(&o->wake, &o->mutex);
        if (o->len == 0)
            break; /* closing and nothing left */
        /* Take the queue whole; the formatting thread refills a fresh one. */
        char *p = o->buf;
        size_t n = o->len, cap = o->cap;
        o->buf = batch;
        o->cap = batch_cap;
        o->len = 0;
        o->writing = true;
        int failed = o->error;
        pthread_mutex_unlock(&o->mutex);

        int rc = failed ? 0 : write_batch(o, p, n);

        pthread_mutex_lock(&o->mutex);
        batch = p;
        batch_cap = cap;
        if (rc != 0 && o->error == 0)
            o->error = rc;
        o->writing = false;
        pthread_cond_broadcast(&o->drained);
    }
    pthread_mutex_unlock(&o->mutex);
    free(batch);
    return NULL;
}

int flags_output_open(struct flags_output **out, int fd)
{
    static const cookie_io_functions_t io = {.write = cookie_write};
    struct flags_output *o = calloc(1, sizeof(*o));
    sigset_t block, saved;
    int rc;

    *out = NULL;
    if (!o)
        return -ENOMEM;
    o->fd = fd;
    o->progress_s = flags_now();
    if ((rc = pthread_mutex_init(&o->mutex, NULL)) != 0)
        goto fail_mutex;
    if ((rc = pthread_cond_init(&o->wake, NULL)) != 0)
        goto fail_wake;
    if ((rc = pthread_cond_init(&o->drained, NULL)) != 0)
        goto fail_drained;
    o->f = fopencookie(o, "w", io);
    if (!o->f) {
        rc = ENOMEM;
        goto fail_stream;
    }
    /* Fully buffered: the caller decides what one unit is (fflush). */
    if (setvbuf(o->f, NULL, _IOFBF, 16384) != 0) {
        rc = ENOMEM;
        goto fail_thread;
    }
    /* The writer inherits a mask that blocks the asynchronous signals. */
    sigfillset(&block);
    sigdelset(&block, SIGSEGV);
    sigdelset(&block, SIGBUS);
    sigdelset(&block, SIGFPE);
    sigdelset(&block, SIGILL);
    sigdelset(&block, SIGABRT);
    if ((rc = pthread_sigmask(SIG_SETMASK, &block, &saved)) != 0)
        goto fail_thread;
    rc = pthread_create(&o->thread, NULL, writer, o);
    (void)pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (rc != 0)
        goto fail_thread;
    *out = o;
    return 0;

fail_thread:
    fclose(o->f);
fail_stream:
    pthread_cond_destroy(&o->drained);
fail_drained:
    pthread_cond_destroy(&o->wake);
fail_wake:
    pthread_mutex_destroy(&o->mutex);
fail_mutex:
    free(o->buf);
    free(o);
    return -rc;
}

FILE *flags_output_stream(struct flags_output *o)
{
    return o->f;
}

int flags_output_drain(struct flags_output *o, double grace_s)
{
    double signalled_s = 0; /* when this drain first saw the signal */
    int rc = 0;

    if (fflush(o->f) != 0)
        rc = -EIO;
    pthread_mutex_lock(&o->mutex);
    while ((o->len > 0 || o->writing) && o->error == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&o->drained, &o->mutex, &ts);
        if (!flags_cancelled() || (o->len == 0 && !o->writing))
            continue;
        /* Signalled: a reader that takes nothing for grace_s, or a slow one
         * still busy 4 x grace_s later, does not hold the exit. */
        double now = flags_now();
        if (signalled_s == 0)
            signalled_s = now;
        if (now - o->progress_s >= grace_s || now - signalled_s >= 4 * grace_s) {
            o->abandoned = true;
            break;
        }
    }
    if (o->abandoned)
        rc = -ETIMEDOUT;
    else if (o->error != 0)
        rc = o->error;
    pthread_mutex_unlock(&o->mutex);
    return rc;
}

void flags_output_close(struct flags_output *o)
{
    if (!o)
        return;
    /* Everything is written first, unless a signal makes drain give up. */
    (void)flags_output_drain(o, FLAGS_OUTPUT_GRACE_S);
    pthread_mutex_lock(&o->mutex);
    bool abandoned = o->abandoned;
    o->closing = true;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->mutex);
    if (abandoned) {
        /* The writer may never return from write(2): it dies with the
         * process, and o stays reachable from here until then. */
        pthread_detach(o->thread);
        for (size_t i = 0; i < sizeof(abandoned_list) / sizeof(abandoned_list[0]); i++) {
            if (!abandoned_list[i]) {
                abandoned_list[i] = o;
                break;
            }
        }
        return;
    }
    pthread_join(o->thread, NULL);
    fclose(o->f); /* drained: nothing buffered reaches the queue */
    pthread_cond_destroy(&o->drained);
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->mutex);
    free(o->buf);
    free(o);
}
