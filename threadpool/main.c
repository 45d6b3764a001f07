/* flags_threadpool -- the book's flags2_threadpool.py: download flags with a
 * fixed pool of threads. */
#include "download.h"
#include "flags.h"

/* Each worker holds its connection, and, while saving, the file: 2
 * descriptors; and the wakeup of the multi handle libcurl keeps inside every
 * easy handle for curl_easy_perform (libcurl >= 7.68), which the common main
 * counts at start-up: a socketpair (2) in 7.88, an eventfd (1) in 8.9 and
 * later. */
static const struct flags_backend threadpool = {
    .name = "threadpool",
    .download_many = tp_download_many,
    .default_concur_req = 30, /* the book's */
    .max_concur_req = 10000,
    .fds_per_transfer = 2,
    .multi_per_transfer = true,
};

int main(int argc, char **argv)
{
    return flags_main(argc, argv, &threadpool);
}
