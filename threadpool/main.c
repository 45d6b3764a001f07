/* flags_threadpool -- the book's flags2_threadpool.py: download flags with a
 * fixed pool of threads. */
#include "download.h"
#include "flags.h"

/* Each worker holds its connection, the 2-descriptor wakeup socketpair of the
 * multi handle libcurl keeps inside every easy handle for curl_easy_perform
 * (libcurl >= 7.68), and, while saving, the file: 4 descriptors. */
static const struct flags_backend threadpool = {
    .name = "threadpool",
    .download_many = tp_download_many,
    .default_concur_req = 30, /* the book's */
    .max_concur_req = 10000,
    .fds_per_transfer = 4,
};

int main(int argc, char **argv)
{
    return flags_main(argc, argv, &threadpool);
}
