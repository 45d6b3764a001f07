/* cancel.c -- signal handling: a flag, a self-pipe, and a second-signal exit. */
#include "cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "flags.h"

/* Written by the handler, read by every thread: volatile sig_atomic_t is only
 * safe within one thread, so an atomic; lock-free, so the handler may use it. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free for a signal handler");
static atomic_int cancelled;
static int pipe_fds[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;

    (void)sig;
    if (atomic_exchange(&cancelled, 1))
        _exit(130); /* second signal: the user insists */
    if (pipe_fds[1] >= 0) {
        ssize_t w = write(pipe_fds[1], "x", 1);
        (void)w; /* a full pipe is already readable */
    }
    errno = saved;
}

bool flags_cancelled(void)
{
    return atomic_load(&cancelled) != 0;
}

int flags_cancel_fd(void)
{
    return pipe_fds[0];
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

int flags_cancel_install(void)
{
    struct sigaction sa = {0};
    int rc;

    if (pipe_fds[0] < 0) {
        if (pipe(pipe_fds) != 0)
            return -errno;
        if ((rc = set_flags(pipe_fds[0])) != 0 || (rc = set_flags(pipe_fds[1])) != 0)
            return rc;
    }

    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -errno;

    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -errno;
    return 0;
}
