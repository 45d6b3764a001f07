/* fdlimit.c -- RLIMIT_NOFILE. */
#include "fdlimit.h"

#include <curl/curl.h>
#include <dirent.h>
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

int flags_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n; /* the same one too many (the DIR's own) every time */
}

int flags_fdlimit_multi_fds(void)
{
    int before = flags_fd_count(), with;
    CURLM *multi;

    if (before < 0)
        return before;
    if (!(multi = curl_multi_init()))
        return -ENOMEM;
    with = flags_fd_count();
    (void)curl_multi_cleanup(multi); /* fails only for a bad handle */
    if (with < 0)
        return with;
    return with > before ? with - before : 0;
}

int flags_fdlimit_ensure(unsigned concur_req, unsigned fds_per_transfer, const char *each,
                         char *err, size_t errlen)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)concur_req * fds_per_transfer + FLAGS_FD_MARGIN, soft;
    int rc;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        rc = -errno;
        snprintf(err, errlen, "*** cannot read the file descriptor limit: %s", strerror(-rc));
        return rc;
    }
    rc = flags_fdlimit_plan(rl.rlim_cur, rl.rlim_max, need, &soft);
    if (rc != 0) {
        snprintf(err, errlen,
                 "*** %u concurrent transfers need %llu file descriptors (%u each%s%s), but the "
                 "hard limit is %llu (ulimit -Hn); use -m %llu or less",
                 concur_req, (unsigned long long)need, fds_per_transfer, each ? ": " : "",
                 each ? each : "", (unsigned long long)rl.rlim_max,
                 rl.rlim_max > FLAGS_FD_MARGIN
                     ? (unsigned long long)((rl.rlim_max - FLAGS_FD_MARGIN) / fds_per_transfer)
                     : 0ULL);
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
