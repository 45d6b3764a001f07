/* fdorder.h -- tells ThreadSanitizer what orders the reuse of a descriptor
 * number when it cannot see the calls that do it.
 *
 * TSan tracks descriptors by number and sees only the calls it intercepts:
 * gcc 12's runtime sees close(2) but not openat(2), and nothing an io_uring
 * does. When one loop's ring closes a number the loop had used (an fstat of
 * a spare) and another thread's openat gets that number, TSan finds the two
 * threads' uses of "the same descriptor" with nothing between them and
 * reports a race. The kernel's descriptor table orders them: the close is
 * submitted before the open that reuses its number returns. So whoever hands
 * the kernel work that may close a descriptor calls flags_fd_release() first,
 * and whoever gets a new number from a call TSan does not see calls
 * flags_fd_acquire() after. Outside TSan builds both are nothing. */
#ifndef FLAGBENCH_FDORDER_H
#define FLAGBENCH_FDORDER_H

#if defined(__SANITIZE_THREAD__)
#define FLAGS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FLAGS_TSAN 1
#endif
#endif

#ifdef FLAGS_TSAN
#include <sanitizer/tsan_interface.h>

extern char flags_fd_order; /* cancel.c: one address for every descriptor */

static inline void flags_fd_release(void)
{
    __tsan_release(&flags_fd_order);
}
static inline void flags_fd_acquire(void)
{
    __tsan_acquire(&flags_fd_order);
}
#else
static inline void flags_fd_release(void)
{
}
static inline void flags_fd_acquire(void)
{
}
#endif

#endif
