/* fdlimit.h -- enough file descriptors for concur_req connections. */
#ifndef FLAGS_FDLIMIT_H
#define FLAGS_FDLIMIT_H

#include <stddef.h>
#include <sys/resource.h>

/* Descriptors a run needs besides those of its transfers in flight: stdio,
 * the output directory, the self-pipe, the event loop, libcurl's resolver
 * pairs. */
#define FLAGS_FD_MARGIN 64u

/* Pure: the soft limit to set for need descriptors given the current soft and
 * hard limits. Returns 0 with *new_soft = soft when soft already suffices or
 * = need when it must be raised (need <= hard), or -EMFILE when the hard
 * limit is below need. */
int flags_fdlimit_plan(rlim_t soft, rlim_t hard, rlim_t need, rlim_t *new_soft);

/* Makes RLIMIT_NOFILE's soft limit at least
 * concur_req x fds_per_transfer + FLAGS_FD_MARGIN, raising it toward the hard
 * limit if needed. Returns 0; -EMFILE with one line for the user in err when
 * the hard limit is too low (it names fds_per_transfer and, if each is not
 * NULL, what they are: "(4 each: each)"); or -errno from getrlimit/setrlimit
 * (err filled too). */
int flags_fdlimit_ensure(unsigned concur_req, unsigned fds_per_transfer, const char *each,
                         char *err, size_t errlen);

/* The descriptors a libcurl multi handle holds for its wakeup, counted in
 * /proc/self/fd around curl_multi_init() and curl_multi_cleanup() for the
 * libcurl actually loaded: 2 for 7.88's socketpair, 1 for the eventfd of
 * 8.9 and later. curl_easy_perform runs every easy handle in such a multi
 * handle of its own, so each pool worker holds these too. Call after
 * curl_global_init, before other threads open descriptors. Returns the count
 * (0 or more), or a negative errno-style code if it cannot be counted. */
int flags_fdlimit_multi_fds(void);

/* Counts the open descriptors of this process (/proc/self/fd). Returns the
 * count or a negative errno-style code. */
int flags_fd_count(void);

#endif /* FLAGS_FDLIMIT_H */
