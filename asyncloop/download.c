/* download.c -- download_many on one thread: semaphore -> free list -> multi. */
#include "download.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancel.h"
#include "loop.h"
#include "semaphore.h"
#include "xfer.h"

/* Built with -DASYNCLOOP_PROFILE (cmake -DFLAGBENCH_ASYNCLOOP_PROFILE=ON), the
 * loop thread times its calls to flags_xfer_finish (classify and save) and
 * prints the total: how much of the one thread's time saving takes. */
#ifdef ASYNCLOOP_PROFILE
#include <time.h>
static double profile_finish_s;
static size_t profile_finishes;
static double profile_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#define PROFILE_START() double profile_t0_ = profile_now()
#define PROFILE_STOP()  (profile_finish_s += profile_now() - profile_t0_, profile_finishes++)
#define PROFILE_REPORT()                                                                           \
    fprintf(stderr, "asyncloop profile: %zu finishes, %.3f s in flags_xfer_finish\n",              \
            profile_finishes, profile_finish_s)
#else
#define PROFILE_START()  ((void)0)
#define PROFILE_STOP()   ((void)0)
#define PROFILE_REPORT() ((void)0)
#endif

/* A reusable transfer. busy: its easy handle is in the multi handle. */
struct slot {
    struct flags_xfer x; /* x.backend points back to the slot */
    struct slot *next_free;
    bool busy;
};

struct run {
    const struct flags_job *job;
    flags_done_fn done;
    void *done_arg;

    struct loop loop;
    struct sem sem;            /* concur_req permits: one per busy slot */
    struct sem_waiter *waits;  /* one per request; index = node - waits */
    struct slot *slots;        /* concur_req, initialised lazily */
    unsigned nslots;           /* slots[0..nslots) are initialised */
    struct slot *free;         /* initialised slots that are not busy */
    struct event *cancel_ev;   /* owned; NULL without a cancel fd */
    size_t reported;           /* done() calls so far */
    enum flags_status stop_as; /* FLAGS_CANCELLED or FLAGS_ERROR once stopping */
    bool stopping;             /* admit nothing more */
    char stop_msg[128];
};

static void report(struct run *r, const struct flags_result *res)
{
    r->done(res, r->done_arg);
    if (++r->reported == r->job->requests)
        loop_stop(&r->loop);
}

static void report_unstarted(struct run *r, size_t index, enum flags_status st, const char *msg)
{
    struct flags_result res;
    flags_result_unstarted(&res, index, st, msg);
    report(r, &res);
}

/* Stops admitting requests; what is left is reported by finish_all(). */
static void stop(struct run *r, enum flags_status st, const char *msg)
{
    if (!r->stopping) {
        r->stopping = true;
        r->stop_as = st;
        snprintf(r->stop_msg, sizeof(r->stop_msg), "%s", msg);
    }
    loop_stop(&r->loop);
}

/* A free slot, creating one if fewer than concur_req exist. The semaphore
 * guarantees one is available: at most concur_req are busy. */
static int take_slot(struct run *r, struct slot **out)
{
    struct slot *s = r->free;
    if (s) {
        r->free = s->next_free;
    } else {
        if (r->nslots == r->job->concur_req)
            return -EOVERFLOW; /* more transfers than permits: a bug */
        s = &r->slots[r->nslots];
        int rc = flags_xfer_init(&s->x, r->job);
        if (rc)
            return rc;
        s->x.backend = s;
        r->nslots++;
    }
    *out = s;
    return 0;
}

static void put_slot(struct run *r, struct slot *s)
{
    s->busy = false;
    s->next_free = r->free;
    r->free = s;
}

/* Gives back the permit of a request that has ended. */
static void release(struct run *r)
{
    /* Starts the next queued request, unless stopping (then it reports it). */
    if (sem_release(&r->sem) != 0)
        stop(r, FLAGS_ERROR, "internal error: semaphore released twice");
}

/* The continuation of a granted acquire: the request now holds a permit.
 * Runs either inside sem_acquire (a permit was free) or inside sem_release
 * from on_done -- after socket_action returned, so adding a handle is
 * allowed. Every path reports the request or leaves it busy in the multi. */
static void start(struct sem_waiter *w, void *arg)
{
    struct run *r = arg;
    size_t index = (size_t)(w - r->waits);
    struct slot *s = NULL;
    char msg[160];
    int rc;

    if (r->stopping || flags_cancelled()) {
        report_unstarted(r, index, r->stopping ? r->stop_as : FLAGS_CANCELLED,
                         r->stopping ? r->stop_msg : "interrupted");
        release(r);
        return;
    }
    if ((rc = take_slot(r, &s)) != 0) {
        snprintf(msg, sizeof(msg), "cannot create a transfer: %s", strerror(-rc));
        goto fail;
    }
    if ((rc = flags_xfer_start(&s->x, r->job, index)) != 0) {
        snprintf(msg, sizeof(msg), "cannot set the URL of request %zu", index);
        goto fail;
    }
    if ((rc = loop_add(&r->loop, s->x.easy)) != 0) {
        snprintf(msg, sizeof(msg), "%s", r->loop.msg);
        goto fail;
    }
    s->busy = true;
    return;

fail:
    if (s)
        put_slot(r, s);
    report_unstarted(r, index, FLAGS_ERROR, msg);
    release(r);
}

/* A transfer finished; the loop already removed it from the multi handle. */
static void on_done(CURL *easy, CURLcode rc, void *arg)
{
    struct run *r = arg;
    struct flags_result res;
    char *priv = NULL;

    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv) {
        /* Cannot tell which request it was: finish_all() reports it. */
        stop(r, FLAGS_ERROR, "internal error: transfer without its context");
        return;
    }
    struct flags_xfer *x = (struct flags_xfer *)(void *)priv; /* set by flags_xfer_init */
    struct slot *s = x->backend;
    PROFILE_START();
    flags_xfer_finish(x, r->job, rc, &res);
    PROFILE_STOP();
    put_slot(r, s);
    report(r, &res);
    release(r);
}

/* The cancel fd became readable: SIGINT or SIGTERM. */
static void on_cancel(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    stop(arg, FLAGS_CANCELLED, "interrupted");
}

/* After the loop: reports every request still queued or running as
 * r->stop_as (FLAGS_CANCELLED on a signal, FLAGS_ERROR on a failure). Finds
 * nothing when the loop ended because every request was reported. */
static void finish_all(struct run *r)
{
    enum flags_status st = r->stop_as;
    const char *why = r->stop_msg;

    for (size_t i = 0; i < r->job->requests; i++) {
        if (sem_cancel(&r->sem, &r->waits[i]))
            report_unstarted(r, i, st, why);
    }
    for (unsigned i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (!s->busy)
            continue;
        struct flags_result res;
        /* Removing cannot fail for a handle we added; if it did, the easy
         * handle is freed below anyway, and libcurl detaches it then. */
        (void)loop_remove(&r->loop, s->x.easy);
        /* Aborted by us: classify it as the progress callback would, which
         * also removes its temporary file; the reason is ours. */
        flags_xfer_finish(&s->x, r->job, CURLE_ABORTED_BY_CALLBACK, &res);
        if (st != FLAGS_CANCELLED || res.status != FLAGS_CANCELLED)
            flags_result_unstarted(&res, s->x.index, st, why);
        put_slot(r, s);
        report(r, &res);
    }
}

int asyncloop_download_many(const struct flags_job *job, flags_done_fn done, void *arg)
{
    struct run r = {.job = job, .done = done, .done_arg = arg};
    int rc = 0;

    if ((rc = sem_init(&r.sem, job->concur_req)) != 0) {
        snprintf(r.stop_msg, sizeof(r.stop_msg), "concur_req must be at least 1");
        goto unstarted;
    }
    r.waits = calloc(job->requests ? job->requests : 1, sizeof(*r.waits));
    r.slots = calloc(job->concur_req, sizeof(*r.slots));
    if (!r.waits || !r.slots) {
        rc = -ENOMEM;
        snprintf(r.stop_msg, sizeof(r.stop_msg), "out of memory");
        goto unstarted;
    }
    if ((rc = loop_init(&r.loop, on_done, &r)) != 0) {
        snprintf(r.stop_msg, sizeof(r.stop_msg), "cannot create the event loop: %s", strerror(-rc));
        goto unstarted;
    }
    /* The semaphore caps the transfers, so at most concur_req connections are
     * ever in use; a cache of that size keeps every one of them alive between
     * transfers, as the pool's workers do. No per-host cap is set: it could
     * only queue transfers inside libcurl, hidden from the semaphore. */
    if (curl_multi_setopt(r.loop.multi, CURLMOPT_MAXCONNECTS, (long)job->concur_req) != CURLM_OK) {
        rc = -EINVAL;
        snprintf(r.stop_msg, sizeof(r.stop_msg), "cannot set CURLMOPT_MAXCONNECTS");
        goto unstarted;
    }
    if (flags_cancel_fd() >= 0) {
        r.cancel_ev = event_new(r.loop.base, flags_cancel_fd(), EV_READ, on_cancel, &r);
        if (!r.cancel_ev || event_add(r.cancel_ev, NULL) != 0) {
            rc = r.cancel_ev ? -EIO : -ENOMEM;
            snprintf(r.stop_msg, sizeof(r.stop_msg), "cannot watch the cancel fd");
            goto unstarted;
        }
    }

    /* Every request acquires, in index order: the first concur_req start
     * here, the rest queue and start as permits come back. */
    for (size_t i = 0; i < job->requests; i++)
        (void)sem_acquire(&r.sem, &r.waits[i], start, &r); /* ran now or queued: both fine */

    if (r.reported < job->requests && !r.stopping) {
        rc = loop_run(&r.loop);
        if (rc) {
            stop(&r, FLAGS_ERROR, r.loop.msg);
        } else if (!r.stopping && r.reported < job->requests) {
            rc = -EIO;
            stop(&r, FLAGS_ERROR, "internal error: the event loop ended early");
        }
    }
    finish_all(&r);
    PROFILE_REPORT();
    goto out;

unstarted:
    /* Nothing was started: every request ends here, with the reason. */
    for (size_t i = 0; i < job->requests; i++)
        report_unstarted(&r, i, FLAGS_ERROR, r.stop_msg);

out:
    if (r.cancel_ev)
        event_free(r.cancel_ev);
    loop_free(&r.loop);
    for (unsigned i = 0; i < r.nslots; i++)
        flags_xfer_free(&r.slots[i].x);
    free(r.slots);
    free(r.waits);
    return rc;
}
