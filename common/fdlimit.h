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
 * the hard limit is too low; or -errno from getrlimit/setrlimit (err filled
 * too). */
int flags_fdlimit_ensure(unsigned concur_req, unsigned fds_per_transfer, char *err, size_t errlen);

#endif /* FLAGS_FDLIMIT_H */
