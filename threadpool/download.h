/* download.h -- flags_threadpool's backend: download_many on a fixed pool. */
#ifndef TP_DOWNLOAD_H
#define TP_DOWNLOAD_H

#include "flags.h"

/* The flags_download_many_fn of flags_threadpool (see flags.h): job->concur_req
 * workers, each reusing one easy handle (so keep-alive is per worker), run the
 * requests in index order; the calling thread receives every result from a
 * completion queue and calls done for it, as they complete. Once
 * flags_cancelled() is true, requests not yet started end FLAGS_CANCELLED at
 * once. Returns 0, or a negative errno code if the workers could not be
 * started (every request then ends FLAGS_ERROR with the reason). */
int tp_download_many(const struct flags_job *job, flags_done_fn done, void *arg);

#endif /* TP_DOWNLOAD_H */
