/* flags_asyncloop -- the book's flags2_asyncio.py: one thread, an event loop,
 * transfers capped by an asynchronous semaphore. */
#include "download.h"
#include "flags.h"
#include "uring.h"

/* --save-uring needs io_uring: refused, never replaced by another design. */
static int check(const struct flags_job *job, char *err, size_t errlen)
{
    return job->save_uring ? uring_probe(err, errlen) : 0;
}

static const char *uring_setup(const struct flags_job *job)
{
    return job->save_uring ? uring_setup_name() : NULL;
}

/* A transfer in flight holds its connection only: the one multi handle and
 * event loop are shared, and files are saved one at a time on the loop thread
 * (both within the common margin). */
static const struct flags_backend asyncloop = {
    .name = "asyncloop",
    .download_many = asyncloop_download_many,
    .default_concur_req = 5, /* the book's asyncio default */
    .max_concur_req = 10000,
    .fds_per_transfer = 1,
    .variants = true, /* --loops, --save-threads, --multis, --save-uring */
    .check = check,
    .uring_setup = uring_setup,
};

int main(int argc, char **argv)
{
    return flags_main(argc, argv, &asyncloop);
}
