/* download.c -- download_many on event loops: semaphore -> free list -> multi,
 * on one loop (the book's design) or N (--loops), saving on the loop, on K
 * saver threads (--save-threads), or through io_uring (--save-uring). */
#include "download.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cancel.h"
#include "internal.h"
#include "loop.h"
#include "pool.h"
#include "semaphore.h"
#include "uring.h"
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

struct run;

/* A reusable transfer. busy: its easy handle is in the multi handle; saving:
 * it is with a saver thread, which alone touches x and res until it hands the
 * slot back through the run's saved list. Either way it holds a permit. */
struct slot {
    struct flags_xfer x; /* x.backend points back to the slot */
    struct slot *next_free;
    struct run *run;
    struct pool_work work;   /* the save, on a saver thread */
    struct slot *next_saved; /* the run's saved list; guarded by saved_mutex */
    struct flags_result res; /* classified on the loop, completed by the saver */
    struct uring_save us;    /* the save, in the loop's ring (--save-uring) */
    bool busy;
    bool saving;
};

/* What the N loops of one run share (--loops N > 1). The loops take request
 * indices from `next` and hand results to the calling thread through a
 * bounded queue: the calling thread only drains it, so a loop waiting for
 * room always gets it. */
struct shared {
    atomic_size_t next;     /* the next request index to take */
    pthread_mutex_t mutex;  /* guards everything below */
    pthread_cond_t more;    /* the queue gained a result, or a loop ended */
    pthread_cond_t room;    /* the queue was emptied */
    struct flags_result *q; /* qcap slots, qlen used */
    size_t qlen, qcap;
    unsigned live; /* loop threads still running */
};

struct run {
    const struct flags_job *job;
    flags_done_fn done; /* one loop: called directly */
    void *done_arg;
    struct shared *sh;        /* N loops: results go through sh; NULL with one */
    struct pool *savers;      /* K > 0: the saver threads (shared by the loops) */
    struct uring_shared *ush; /* --save-uring: what the rings share; NULL without */
    unsigned k;               /* this loop's number, 0..N-1 */
    struct uring ring;        /* --save-uring: this loop's ring */
    bool ring_ready;
    unsigned share; /* this loop's permits: transfers and saves in flight */

    struct loop loop;
    struct asem sem;           /* one loop: share permits, every request queued */
    struct asem_waiter *waits; /* one loop: one per request; index = node - waits */
    unsigned active;           /* N loops: permits taken */
    bool admitting;            /* N loops: admit() is on the stack */
    bool exhausted;            /* N loops: the shared counter ran out */
    struct slot *slots;        /* share of them, initialised lazily */
    unsigned nslots;           /* slots[0..nslots) have been handed out */
    struct slot *free;         /* handed-out slots that are idle */
    struct event *cancel_ev;   /* owned; NULL without a cancel fd */

    int saved_fd;                /* K > 0: eventfd the savers write; -1 if none */
    struct event *saved_ev;      /* owned; watches saved_fd */
    pthread_mutex_t saved_mutex; /* guards saved */
    bool saved_mutex_ready;
    struct slot *saved; /* saves done, waiting for the loop */
    unsigned saving;    /* slots with a saver, or with a save in the ring */

    size_t reported;           /* results so far (one loop: done() calls) */
    enum flags_status stop_as; /* FLAGS_CANCELLED or FLAGS_ERROR once stopping */
    bool stopping;             /* admit nothing more */
    char stop_msg[128];
    int rc; /* this loop's failure, negative errno-style */

    /* --save-uring, interrupted: results kept back while the queue is full,
     * handed over when the ring is empty (see report). */
    struct flags_result *late;
    size_t nlate, late_cap;
};

static void stop(struct run *r, enum flags_status st, const char *msg);

/* Keeps res for the end of the loop. Returns false if out of memory. */
static bool keep_late(struct run *r, const struct flags_result *res)
{
    if (r->nlate == r->late_cap) {
        size_t cap = r->late_cap ? 2 * r->late_cap : 64;
        struct flags_result *p = realloc(r->late, cap * sizeof(*p));
        if (!p)
            return false;
        r->late = p;
        r->late_cap = cap;
    }
    r->late[r->nlate++] = *res;
    stop(r, FLAGS_CANCELLED, "interrupted"); /* admit nothing more */
    return true;
}

/* Puts res on the shared queue, waiting for room; the caller holds the
 * mutex. */
static void enqueue(struct shared *sh, const struct flags_result *res)
{
    while (sh->qlen == sh->qcap)
        pthread_cond_wait(&sh->room, &sh->mutex);
    sh->q[sh->qlen++] = *res;
    pthread_cond_signal(&sh->more);
}

/* Hands one result to the calling thread (N loops: through the queue). */
static void report(struct run *r, const struct flags_result *res)
{
    r->reported++;
    if (!r->sh) {
        r->done(res, r->done_arg);
        if (r->reported == r->job->requests)
            loop_stop(&r->loop);
        return;
    }
    struct shared *sh = r->sh;
    pthread_mutex_lock(&sh->mutex);
    /* --save-uring: a second signal runs on the calling thread, which then
     * drains nothing while it waits for the creations in this loop's ring
     * (cancel.h); a loop waiting here for room would not take their
     * completions. Once interrupted, a full queue is not waited for: the
     * result is kept (at most this loop's permits) until the ring is empty. */
    while (r->ush && sh->qlen == sh->qcap) {
        if (flags_cancelled()) {
            pthread_mutex_unlock(&sh->mutex);
            if (keep_late(r, res))
                return;
            pthread_mutex_lock(&sh->mutex);
            break;
        }
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 10 * 1000 * 1000; /* the signal wakes no one: look again */
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&sh->room, &sh->mutex, &t);
    }
    enqueue(sh, res);
    pthread_mutex_unlock(&sh->mutex);
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

/* An idle slot. There is one: a slot is only taken with a permit, and there
 * are share of each. Its transfer is set up by flags_request_begin. */
static struct slot *take_slot(struct run *r)
{
    struct slot *s = r->free;
    if (s)
        r->free = s->next_free;
    else if (r->nslots < r->share)
        s = &r->slots[r->nslots++];
    return s;
}

static void put_slot(struct run *r, struct slot *s)
{
    s->busy = false;
    s->next_free = r->free;
    r->free = s;
}

static void begin(struct run *r, size_t index);
static void save_one(struct pool_work *w, unsigned worker);

/* N loops: takes indices from the shared counter while this loop has permits.
 * A request that ends at once gives its permit back through release(), which
 * leaves the refilling to the loop below. */
static void admit(struct run *r)
{
    if (r->admitting)
        return;
    r->admitting = true;
    while (!r->stopping && !r->exhausted && r->active < r->share) {
        size_t i = atomic_fetch_add(&r->sh->next, 1);
        if (i >= r->job->requests) {
            r->exhausted = true;
            break;
        }
        r->active++;
        begin(r, i);
    }
    r->admitting = false;
    if ((r->exhausted || r->stopping) && r->active == 0)
        loop_stop(&r->loop);
}

/* Gives back the permit of a request that has ended (saved, if it saves). */
static void release(struct run *r)
{
    if (r->sh) {
        r->active--;
        admit(r);
        return;
    }
    /* Starts the next queued request, unless stopping (then it reports it). */
    if (asem_release(&r->sem) != 0)
        stop(r, FLAGS_ERROR, "internal error: semaphore released twice");
}

/* Request index now holds a permit: start it, or report it and give the
 * permit back. Every path reports the request or leaves it busy in the
 * multi. Never called from inside a libcurl callback. */
static void begin(struct run *r, size_t index)
{
    struct flags_result res;
    struct slot *s = NULL;

    if (r->stopping) {
        flags_result_unstarted(&res, index, r->stop_as, r->stop_msg);
        goto report;
    }
    if (!(s = take_slot(r))) {
        flags_result_unstarted(&res, index, FLAGS_ERROR,
                               "internal error: more transfers than permits");
        goto report;
    }
    if (flags_request_begin(&s->x, r->job, index, &res) != 0)
        goto put;
    s->x.backend = s; /* flags_xfer_init (lazy) cleared it */
    s->run = r;
    s->work.run = save_one;
    if (loop_add(&r->loop, s->x.easy, (unsigned)(s - r->slots)) != 0) {
        flags_result_unstarted(&res, index, FLAGS_ERROR, r->loop.msg);
        goto put;
    }
    s->busy = true;
    return;

put:
    put_slot(r, s);
report:
    report(r, &res);
    release(r);
}

/* One loop: the continuation of a granted acquire. Runs either inside
 * asem_acquire (a permit was free) or inside asem_release from on_done --
 * after socket_action returned, so adding a handle is allowed. */
static void start(struct asem_waiter *w, void *arg)
{
    struct run *r = arg;
    begin(r, (size_t)(w - r->waits));
}

/* On a saver thread: the final append and the rename, then the slot goes
 * back to its loop, which learns of it through saved_fd. */
static void save_one(struct pool_work *w, unsigned worker)
{
    struct slot *s = container_of(w, struct slot, work);
    struct run *r = s->run;
    bool wake;

    (void)worker;
    flags_xfer_save(&s->x, r->job, &s->res);
    pthread_mutex_lock(&r->saved_mutex);
    wake = r->saved == NULL; /* else a wake-up is already on its way */
    s->next_saved = r->saved;
    r->saved = s;
    pthread_mutex_unlock(&r->saved_mutex);
    if (wake) {
        /* Adding 1 to an eventfd fails only on counter overflow, which a
         * loop that reads it on every wake-up never lets happen. */
        uint64_t one = 1;
        ssize_t n = write(r->saved_fd, &one, sizeof(one));
        (void)n;
    }
}

/* On the loop: reports every save done so far and gives back its permit. */
static void take_saved(struct run *r)
{
    uint64_t count;
    struct slot *s, *next;

    /* Read before taking the list: a save queued after the take writes again. */
    ssize_t n = read(r->saved_fd, &count, sizeof(count));
    (void)n; /* EAGAIN: a wake-up already consumed; the list decides */
    pthread_mutex_lock(&r->saved_mutex);
    s = r->saved;
    r->saved = NULL;
    pthread_mutex_unlock(&r->saved_mutex);
    for (; s; s = next) {
        next = s->next_saved;
        s->saving = false;
        r->saving--;
        put_slot(r, s);
        report(r, &s->res);
        release(r);
    }
}

static void on_saved(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    take_saved(arg);
}

/* On the loop: a save in the ring ended; s->res says how. */
static void on_uring_saved(struct uring_save *us, void *arg)
{
    struct run *r = arg;
    struct slot *s = container_of(us, struct slot, us);

    s->saving = false;
    r->saving--;
    put_slot(r, s);
    report(r, &s->res);
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
    if (r->ush) {
        s->busy = false;
        if (flags_xfer_classify(x, r->job, rc, &s->res)) {
            /* The save keeps the slot and the permit until its completion. */
            s->saving = true;
            r->saving++;
            uring_save(&r->ring, &s->us, x, &s->res);
            return;
        }
        res = s->res;
    } else if (r->savers) {
        s->busy = false;
        if (flags_xfer_classify(x, r->job, rc, &s->res)) {
            /* The save keeps the slot and the permit until it is done. */
            s->saving = true;
            r->saving++;
            pool_submit(r->savers, &s->work);
            return;
        }
        res = s->res;
    } else {
        PROFILE_START();
        flags_xfer_finish(x, r->job, rc, &res);
        PROFILE_STOP();
    }
    put_slot(r, s);
    report(r, &res);
    release(r);
}

/* The cancel fd became readable: a terminating signal. */
static void on_cancel(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    stop(arg, FLAGS_CANCELLED, "interrupted");
}

/* After the loop: reports every request still queued or running as
 * r->stop_as (FLAGS_CANCELLED on a signal, FLAGS_ERROR on a failure), and
 * every save still running as what it turns out to be. Finds nothing when
 * the loop ended because every request was reported. */
static void finish_all(struct run *r)
{
    enum flags_status st = r->stop_as;
    const char *why = r->stop_msg;

    if (r->waits) {
        for (size_t i = 0; i < r->job->requests; i++) {
            if (asem_cancel(&r->sem, &r->waits[i]))
                report_unstarted(r, i, st, why);
        }
    }
    for (unsigned i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (!s->busy)
            continue;
        struct flags_result res;
        /* Removing cannot fail for a handle we added; if it did, the easy
         * handle is freed below anyway, and libcurl detaches it then. */
        (void)loop_remove(&r->loop, s->x.easy, (unsigned)(s - r->slots));
        /* Aborted by us: classify it as the progress callback would, which
         * also removes its temporary file; the reason is ours. */
        flags_xfer_finish(&s->x, r->job, CURLE_ABORTED_BY_CALLBACK, &res);
        if (st != FLAGS_CANCELLED || res.status != FLAGS_CANCELLED)
            flags_result_unstarted(&res, s->x.index, st, why);
        put_slot(r, s);
        report(r, &res);
        if (r->sh)
            r->active--; /* stopping: nothing is admitted any more */
    }
    /* A save is never abandoned: its file is whole or absent, and it is
     * reported as it ended. Stopping, so release() admits nothing. */
    if (r->ring_ready)
        uring_wait(&r->ring);
    while (r->saving > 0) {
        struct pollfd p = {.fd = r->saved_fd, .events = POLLIN};
        (void)poll(&p, 1, -1); /* EINTR: check again */
        take_saved(r);
    }
}

/* Sets up one loop's state with r->share permits. Returns 0, or a negative
 * errno-style code with r->stop_msg saying why. */
static int run_init(struct run *r)
{
    const struct flags_job *job = r->job;
    int rc;

    r->saved_fd = -1;
    if (!r->sh) {
        if ((rc = asem_init(&r->sem, r->share)) != 0) {
            snprintf(r->stop_msg, sizeof(r->stop_msg), "concur_req must be at least 1");
            return rc;
        }
        r->waits = calloc(job->requests ? job->requests : 1, sizeof(*r->waits));
        if (!r->waits)
            goto nomem;
    }
    if (!(r->slots = calloc(r->share, sizeof(*r->slots))))
        goto nomem;
    /* --multis K: slot i always joins handle i % K, so each handle's cache
     * holds the connections of its own slots. */
    unsigned nmulti = job->multis > 1 ? job->multis : 1;
    if (nmulti > r->share)
        nmulti = r->share; /* every handle has at least one slot */
    if ((rc = loop_init(&r->loop, nmulti, on_done, r)) != 0) {
        snprintf(r->stop_msg, sizeof(r->stop_msg), "cannot create the event loop: %s",
                 strerror(-rc));
        return rc;
    }
    /* The permits cap the transfers, so at most share connections are ever in
     * use on this loop; a cache of that size keeps every one of them alive
     * between transfers, as the pool's workers do. No per-host cap is set: it
     * could only queue transfers inside libcurl, hidden from the permits. */
    if (loop_set_maxconnects(&r->loop, (long)r->share) != 0) {
        snprintf(r->stop_msg, sizeof(r->stop_msg), "cannot set CURLMOPT_MAXCONNECTS");
        return -EINVAL;
    }
    /* --http2: the permits still cap the transfers; the connections are
     * capped so that streams fill them (docs/asyncloop.md, "HTTP/2"). */
    if (job->http2) {
        rc = loop_set_http2(&r->loop, (long)r->share, LOOP_H2_STREAMS);
        if (rc == -ENOMEM)
            goto nomem; /* the warm-up's rings (loop.h) */
        if (rc != 0) {
            snprintf(r->stop_msg, sizeof(r->stop_msg),
                     "cannot set the multi handle's HTTP/2 options");
            return -EINVAL;
        }
    }
    if (flags_cancel_fd() >= 0) {
        r->cancel_ev = event_new(r->loop.base, flags_cancel_fd(), EV_READ, on_cancel, r);
        if (!r->cancel_ev || event_add(r->cancel_ev, NULL) != 0) {
            snprintf(r->stop_msg, sizeof(r->stop_msg), "cannot watch the cancel fd");
            return r->cancel_ev ? -EIO : -ENOMEM;
        }
    }
    if (r->ush) {
        /* A commit is 5 linked submissions; the permits bound the saves. */
        if ((rc = uring_init(&r->ring, r->loop.base, r->ush, r->k, 5 * r->share, job,
                             on_uring_saved, r)) != 0) {
            snprintf(r->stop_msg, sizeof(r->stop_msg), "%s", r->ring.msg);
            r->ring_ready = true; /* uring_free undoes what was made */
            return rc;
        }
        r->ring_ready = true;
    }
    if (r->savers) {
        if ((rc = -pthread_mutex_init(&r->saved_mutex, NULL)) != 0) {
            snprintf(r->stop_msg, sizeof(r->stop_msg), "cannot create a mutex: %s", strerror(-rc));
            return rc;
        }
        r->saved_mutex_ready = true;
        if ((r->saved_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
            rc = -errno;
            snprintf(r->stop_msg, sizeof(r->stop_msg), "cannot create an eventfd: %s",
                     strerror(-rc));
            return rc;
        }
        r->saved_ev = event_new(r->loop.base, r->saved_fd, EV_READ | EV_PERSIST, on_saved, r);
        if (!r->saved_ev || event_add(r->saved_ev, NULL) != 0) {
            snprintf(r->stop_msg, sizeof(r->stop_msg), "cannot watch the savers' eventfd");
            return r->saved_ev ? -EIO : -ENOMEM;
        }
    }
    return 0;

nomem:
    snprintf(r->stop_msg, sizeof(r->stop_msg), "out of memory");
    return -ENOMEM;
}

static void run_free(struct run *r)
{
    if (r->ring_ready)
        uring_free(&r->ring); /* its events are on the loop's base */
    if (r->saved_ev)
        event_free(r->saved_ev);
    if (r->cancel_ev)
        event_free(r->cancel_ev);
    loop_free(&r->loop);
    for (unsigned i = 0; i < r->nslots; i++)
        flags_xfer_free(&r->slots[i].x);
    if (r->saved_fd >= 0)
        close(r->saved_fd);
    if (r->saved_mutex_ready)
        pthread_mutex_destroy(&r->saved_mutex);
    free(r->slots);
    free(r->waits);
}

/* Runs one loop until its requests are all reported (one loop), or the shared
 * counter ran out and nothing is in flight (N loops), or it stops. Returns 0
 * or the loop's failure; r->stopping and r->stop_msg say what ended it. */
static int run_loop(struct run *r)
{
    int rc;

    if ((rc = run_init(r)) != 0) {
        r->stopping = true;
        r->stop_as = FLAGS_ERROR;
        if (!r->sh) /* nothing was started: every request ends here */
            flags_fail_all(r->job, 0, FLAGS_ERROR, r->stop_msg, r->done, r->done_arg);
        return rc;
    }
    if (r->sh) {
        admit(r);
    } else {
        /* Every request acquires, in index order: the first share start
         * here, the rest queue and start as permits come back. */
        for (size_t i = 0; i < r->job->requests; i++)
            (void)asem_acquire(&r->sem, &r->waits[i], start, r); /* ran now or queued */
    }
    bool done = r->sh ? (r->exhausted && r->active == 0) : r->reported == r->job->requests;
    if (!done && !r->stopping) {
        rc = loop_run(&r->loop);
        done = r->sh ? (r->exhausted && r->active == 0) : r->reported == r->job->requests;
        if (rc) {
            stop(r, FLAGS_ERROR, r->loop.msg);
        } else if (!r->stopping && !done) {
            rc = -EIO;
            stop(r, FLAGS_ERROR, "internal error: the event loop ended early");
        }
    }
    finish_all(r);
    PROFILE_REPORT();
    return rc;
}

static void *loop_thread(void *arg)
{
    struct run *r = arg;
    struct shared *sh = r->sh;

    r->rc = run_loop(r);
    run_free(r);
    /* The ring is empty: what was kept back may wait for room now. */
    pthread_mutex_lock(&sh->mutex);
    for (size_t i = 0; i < r->nlate; i++)
        enqueue(sh, &r->late[i]);
    pthread_mutex_unlock(&sh->mutex);
    free(r->late);
    pthread_mutex_lock(&sh->mutex);
    sh->live--;
    pthread_cond_signal(&sh->more);
    pthread_mutex_unlock(&sh->mutex);
    return NULL;
}

/* N loops on N threads; the calling thread hands their results to done.
 * Returns 0 or the first failure. */
static int run_loops(const struct flags_job *job, unsigned n, struct pool *savers,
                     struct uring_shared *ush, flags_done_fn done, void *arg)
{
    struct shared sh = {.qcap = 2 * (size_t)job->concur_req + 64};
    struct run *runs = calloc(n, sizeof(*runs));
    pthread_t *tids = calloc(n, sizeof(*tids));
    struct flags_result *batch = NULL;
    unsigned started = 0;
    int rc = 0;
    char msg[160];

    atomic_init(&sh.next, 0);
    sh.q = calloc(sh.qcap, sizeof(*sh.q));
    batch = calloc(sh.qcap, sizeof(*batch));
    if (!runs || !tids || !sh.q || !batch) {
        rc = -ENOMEM;
        flags_fail_all(job, 0, FLAGS_ERROR, "out of memory", done, arg);
        goto out;
    }
    if ((rc = -pthread_mutex_init(&sh.mutex, NULL)) != 0)
        goto fail_sync;
    if ((rc = -pthread_cond_init(&sh.more, NULL)) != 0) {
        pthread_mutex_destroy(&sh.mutex);
        goto fail_sync;
    }
    if ((rc = -pthread_cond_init(&sh.room, NULL)) != 0) {
        pthread_cond_destroy(&sh.more);
        pthread_mutex_destroy(&sh.mutex);
        goto fail_sync;
    }

    /* The loops start with every asynchronous signal blocked, as the pool's
     * workers do: signals go to the calling thread, the loops see the cancel
     * fd. */
    sigset_t block, saved;
    sigfillset(&block);
    sigdelset(&block, SIGSEGV);
    sigdelset(&block, SIGBUS);
    sigdelset(&block, SIGFPE);
    sigdelset(&block, SIGILL);
    (void)pthread_sigmask(SIG_SETMASK, &block, &saved);
    for (unsigned i = 0; i < n; i++) {
        /* The permits are dealt out: the shares sum to concur_req exactly. */
        runs[i] = (struct run){.job = job, .sh = &sh, .savers = savers, .ush = ush, .k = i};
        runs[i].share = job->concur_req / n + (i < job->concur_req % n ? 1 : 0);
        pthread_mutex_lock(&sh.mutex);
        sh.live++;
        pthread_mutex_unlock(&sh.mutex);
        int crc = pthread_create(&tids[i], NULL, loop_thread, &runs[i]);
        if (crc != 0) {
            pthread_mutex_lock(&sh.mutex);
            sh.live--;
            pthread_mutex_unlock(&sh.mutex);
            rc = -crc;
            break; /* the loops already running share the work */
        }
        started++;
    }
    (void)pthread_sigmask(SIG_SETMASK, &saved, NULL);

    /* The as_completed loop: results in the order the loops report them. */
    pthread_mutex_lock(&sh.mutex);
    for (;;) {
        while (sh.qlen == 0 && sh.live > 0)
            pthread_cond_wait(&sh.more, &sh.mutex);
        if (sh.qlen == 0)
            break; /* every loop has ended */
        struct flags_result *full = sh.q;
        size_t len = sh.qlen;
        sh.q = batch;
        sh.qlen = 0;
        batch = full;
        pthread_cond_broadcast(&sh.room);
        pthread_mutex_unlock(&sh.mutex);
        for (size_t i = 0; i < len; i++)
            done(&batch[i], arg);
        pthread_mutex_lock(&sh.mutex);
    }
    pthread_mutex_unlock(&sh.mutex);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);

    /* Indices no loop took: every loop stopped (a signal, or failures). */
    size_t from = atomic_load(&sh.next);
    if (from < job->requests) {
        const char *why = "internal error: the event loops ended early";
        enum flags_status st = FLAGS_ERROR;
        if (flags_cancelled()) {
            st = FLAGS_CANCELLED;
            why = "interrupted";
        } else if (started == 0) {
            snprintf(msg, sizeof(msg), "cannot start %u event loop threads: %s", n, strerror(-rc));
            why = msg;
        } else {
            for (unsigned i = 0; i < started; i++) {
                if (runs[i].stopping) {
                    st = runs[i].stop_as;
                    snprintf(msg, sizeof(msg), "%s", runs[i].stop_msg);
                    why = msg;
                    break;
                }
            }
        }
        flags_fail_all(job, from, st, why, done, arg);
        if (rc == 0 && st == FLAGS_ERROR)
            rc = -EIO;
    }
    for (unsigned i = 0; i < started && rc == 0; i++)
        rc = runs[i].rc;
    pthread_cond_destroy(&sh.room);
    pthread_cond_destroy(&sh.more);
    pthread_mutex_destroy(&sh.mutex);
    goto out;

fail_sync:
    snprintf(msg, sizeof(msg), "cannot start %u event loop threads: %s", n, strerror(-rc));
    flags_fail_all(job, 0, FLAGS_ERROR, msg, done, arg);
out:
    free(batch);
    free(sh.q);
    free(tids);
    free(runs);
    return rc;
}

int asyncloop_download_many(const struct flags_job *job, flags_done_fn done, void *arg)
{
    struct pool *savers = NULL;
    unsigned n = job->loops > 1 ? job->loops : 1;
    int rc;

    if (job->concur_req < n)
        n = job->concur_req; /* every loop holds at least one permit */
    if (n == 0)
        n = 1; /* concur_req 0: the one loop reports the usage error */
    if (job->save_threads > 0 && (rc = pool_create(&savers, job->save_threads, 0)) != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "cannot start %u saver threads: %s", job->save_threads,
                 strerror(-rc));
        flags_fail_all(job, 0, FLAGS_ERROR, msg, done, arg);
        return rc;
    }
    if (job->save_uring) {
        struct uring_shared ush;
        if ((rc = uring_shared_init(&ush, n, job)) != 0) {
            char msg[160];
            snprintf(msg, sizeof(msg), "cannot create an eventfd: %s", strerror(-rc));
            flags_fail_all(job, 0, FLAGS_ERROR, msg, done, arg);
            return rc;
        }
        /* Always on loop threads, even one: a second signal then lands on
         * the calling thread while the loop keeps taking the completions of
         * the creations the signal waits for (cancel.h). */
        rc = run_loops(job, n, NULL, &ush, done, arg);
        uring_shared_free(&ush);
        return rc;
    }
    if (n == 1) {
        /* The book's design: one loop, on the calling thread. */
        struct run r = {
            .job = job, .done = done, .done_arg = arg, .savers = savers, .share = job->concur_req};
        rc = run_loop(&r);
        run_free(&r);
    } else {
        rc = run_loops(job, n, savers, NULL, done, arg);
    }
    pool_destroy(savers); /* every save was reported: it only joins */
    return rc;
}
