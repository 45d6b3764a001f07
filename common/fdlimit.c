/* fdlimit.c -- RLIMIT_NOFILE. */
#include "fdlimit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int flags_fdlimit_plan(rlim_t soft, rlim_t hard, rlim_t need, rlim_t *new_soft)
{
    if (soft == RLIM_INFINITY || soft >= need) {
        *new_soft = soft;
        return 0;
    }
    if (hard != RLIM_INFINITY && hard < need)
        return -EMFILE;
    *new_soft = need;
    return 0;
}

int flags_fdlimit_ensure(unsigned concur_req, char *err, size_t errlen)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)concur_req * FLAGS_FD_PER_TRANSFER + FLAGS_FD_MARGIN, soft;
    int rc;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        rc = -errno;
        snprintf(err, errlen, "*** cannot read the file descriptor limit: %s", strerror(-rc));
        return rc;
    }
    rc = flags_fdlimit_plan(rl.rlim_cur, rl.rlim_max, need, &soft);
    if (rc != 0) {
        snprintf(err, errlen,
                 "*** %u concurrent connections need %llu file descriptors, but the hard "
                 "limit is %llu (ulimit -Hn); use a smaller -m",
                 concur_req, (unsigned long long)need, (unsigned long long)rl.rlim_max);
        return rc;
    }
    if (soft == rl.rlim_cur)
        return 0;
    rl.rlim_cur = soft;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        rc = -errno;
        snprintf(err, errlen, "*** cannot raise the file descriptor limit to %llu: %s",
                 (unsigned long long)need, strerror(-rc));
        return rc;
    }
    return 0;
}
