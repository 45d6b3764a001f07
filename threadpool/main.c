/* flags_threadpool -- the book's flags2_threadpool.py: download flags with a
 * fixed pool of threads. */
#include "download.h"
#include "flags.h"

#define DEFAULT_CONCUR_REQ 30
#define MAX_CONCUR_REQ     10000

int main(int argc, char **argv)
{
    return flags_main(argc, argv, "threadpool", tp_download_many, DEFAULT_CONCUR_REQ,
                      MAX_CONCUR_REQ);
}
