/* download.h -- download_many for the async-loop backend. */
#ifndef FLAGS_ASYNCLOOP_DOWNLOAD_H
#define FLAGS_ASYNCLOOP_DOWNLOAD_H

#include "flags.h"

/* The async-loop backend (a flags_download_many_fn, see flags.h). Runs every
 * request of job (by default on the calling thread): a libevent loop drives a libcurl multi
 * handle, and a semaphore of job->concur_req permits caps the transfers in
 * flight, the C counterpart of the book's asyncio.Semaphore(concur_req) held
 * around each GET. Each request acquires a permit before its easy handle joins
 * the multi handle and releases it when the transfer is done; easy handles
 * come from a free list of at most concur_req, reused.
 *
 * job->save_threads K > 0: the final write and rename of each file run on K
 * saver threads (common/pool.h); the loop learns of each through an eventfd
 * and reports the request only then, still holding its permit until then.
 * job->save_uring: each loop saves through an io_uring of its own (uring.h),
 * the permit held until the save's last completion; the loop then always runs
 * on a thread of its own, even with N = 1, so that signals land on the
 * calling thread.
 * job->loops N > 1: N loops on N threads, each with a share of the permits
 * (summing to concur_req) and taking indices from one atomic counter; their
 * results reach done on the calling thread through a bounded queue.
 *
 * done runs once per index, on the calling thread. On SIGINT/SIGTERM (the fd
 * of cancel.h) it stops admitting requests, removes the running transfers and
 * reports them and every queued request as FLAGS_CANCELLED, and returns 0.
 * Returns 0, or a negative errno-style code if the loop could not be set up or
 * failed (-ENOMEM, -EINVAL, -EIO); the requests it could not run are then
 * reported as FLAGS_ERROR with the reason. Owns nothing after it returns. */
int asyncloop_download_many(const struct flags_job *job, flags_done_fn done, void *arg);

#endif /* FLAGS_ASYNCLOOP_DOWNLOAD_H */
