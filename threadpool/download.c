/* download.c -- the book's flags2_threadpool.download_many in C: a fixed pool
 * of workers and an as_completed loop on the calling thread. */
#include "download.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pool.h"
#include "xfer.h"

struct tp_run;

/* One request: a pool job on its way in, a result on its way out. */
struct tp_request {
    struct pool_work work;
    struct tp_run *run;
    struct tp_request *next_done; /* completion queue link */
    struct flags_result res;
};

struct tp_run {
    const struct flags_job *job;
    struct flags_xfer *xfers; /* one per worker, created on its first job */
    pthread_mutex_t mutex;    /* guards the completion queue */
    pthread_cond_t cond;      /* signalled when the queue gains a result */
    struct tp_request *done_head, *done_tail;
};

static void post_result(struct tp_run *run, struct tp_request *req)
{
    pthread_mutex_lock(&run->mutex);
    req->next_done = NULL;
    if (run->done_tail)
        run->done_tail->next_done = req;
    else
        run->done_head = req;
    run->done_tail = req;
    /* Only the calling thread waits on cond. */
    pthread_cond_signal(&run->cond);
    pthread_mutex_unlock(&run->mutex);
}

/* Runs on worker number `worker`, which alone uses run->xfers[worker]. */
static void download_one(struct pool_work *w, unsigned worker)
{
    struct tp_request *req = container_of(w, struct tp_request, work);
    struct tp_run *run = req->run;
    const struct flags_job *job = run->job;
    struct flags_xfer *x = &run->xfers[worker];

    /* req->res.index was set at submission; the result is filled here. */
    if (flags_request_begin(x, job, req->res.index, &req->res) == 0)
        flags_xfer_finish(x, job, curl_easy_perform(x->easy), &req->res);
    post_result(run, req);
}

/* Takes the whole completion queue; waits for at least one result. */
static struct tp_request *take_results(struct tp_run *run)
{
    struct tp_request *list;

    pthread_mutex_lock(&run->mutex);
    while (run->done_head == NULL)
        pthread_cond_wait(&run->cond, &run->mutex);
    list = run->done_head;
    run->done_head = run->done_tail = NULL;
    pthread_mutex_unlock(&run->mutex);
    return list;
}

int tp_download_many(const struct flags_job *job, flags_done_fn done, void *arg)
{
    struct tp_run run = {.job = job};
    struct tp_request *reqs = NULL;
    struct pool *pool = NULL;
    size_t i, received = 0;
    int rc;

    reqs = calloc(job->requests, sizeof(*reqs));
    run.xfers = calloc(job->concur_req, sizeof(*run.xfers));
    if (!reqs || !run.xfers) {
        rc = -ENOMEM;
        goto fail_all;
    }
    if ((rc = -pthread_mutex_init(&run.mutex, NULL)) != 0)
        goto fail_all;
    if ((rc = -pthread_cond_init(&run.cond, NULL)) != 0) {
        pthread_mutex_destroy(&run.mutex);
        goto fail_all;
    }
    if ((rc = pool_create(&pool, job->concur_req, POOL_STACK_SIZE)) != 0) {
        pthread_cond_destroy(&run.cond);
        pthread_mutex_destroy(&run.mutex);
        goto fail_all;
    }

    for (i = 0; i < job->requests; i++) {
        reqs[i].work.run = download_one;
        reqs[i].run = &run;
        reqs[i].res.index = i;
        pool_submit(pool, &reqs[i].work);
    }

    /* The as_completed loop: results in the order they finish. Cancellation
     * needs nothing here: workers turn the queued jobs into FLAGS_CANCELLED
     * results, and running transfers abort from xfer.c's progress callback. */
    while (received < job->requests) {
        struct tp_request *r = take_results(&run);
        for (; r; r = r->next_done, received++)
            done(&r->res, arg);
    }

    /* Every job has run: the workers are idle, destroy only joins them. */
    pool_destroy(pool);
    pthread_cond_destroy(&run.cond);
    pthread_mutex_destroy(&run.mutex);
    for (i = 0; i < job->concur_req; i++)
        flags_xfer_free(&run.xfers[i]);
    free(run.xfers);
    free(reqs);
    return 0;

fail_all:
    /* Nothing ran: account for every request with the reason. */
    {
        char msg[160];
        snprintf(msg, sizeof(msg), "cannot start %u worker threads: %s", job->concur_req,
                 strerror(-rc));
        flags_fail_all(job, 0, FLAGS_ERROR, msg, done, arg);
    }
    free(run.xfers);
    free(reqs);
    return rc;
}
