/* cancel.c -- signal handling: a flag, a self-pipe, and a second-signal exit. */
#include "cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "flags.h"

static volatile sig_atomic_t cancelled;
static int pipe_fds[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    if (cancelled)
        _exit(130); /* second signal: the user insists */
    cancelled = 1;
    if (pipe_fds[1] >= 0) {
        int saved = errno;
        ssize_t w = write(pipe_fds[1], "x", 1);
        (void)w; /* a full pipe is already readable */
        errno = saved;
    }
}

bool flags_cancelled(void)
{
    return cancelled != 0;
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
