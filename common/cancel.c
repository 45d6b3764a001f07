/* cancel.c -- signal handling: a flag, a self-pipe, a registry of temporary
 * files, and a second-signal exit that removes them first. */
#include "cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "flags.h"

#define TMP_NAME_MAX   64
#define CREATE_WAIT_NS (2 * 1000000000L) /* a creation in progress on another thread */

/* Written by the handler, read by every thread: volatile sig_atomic_t is only
 * safe within one thread, so atomics; lock-free, so the handler may use them. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free for a signal handler");
static atomic_int cancelled; /* the first signal arrived */
static atomic_int exiting;   /* the second signal arrived: create no temporary file */
static atomic_int creating;  /* threads inside flags_tmp_openat past the exiting check */
static int pipe_fds[2] = {-1, -1};

/* The registry: entry fd names the temporary file last created with that
 * descriptor. Written only inside flags_tmp_openat, before `creating` drops;
 * the handler reads it only after `creating` reached zero (or, for the thread
 * it interrupted, after that thread's own creation, see pending_*). */
struct tmp_entry {
    atomic_int live;  /* name and dirfd are set */
    atomic_int owned; /* a registration is writing the entry */
    int dirfd;
    char name[TMP_NAME_MAX];
};
static struct tmp_entry *entries;
static int nentries;

/* The creation the handler may have interrupted on its own thread: set before
 * openat, cleared once the entry is registered. Only that thread's handler
 * reads them, so volatile sig_atomic_t is the right tool. */
static _Thread_local volatile sig_atomic_t pending_set;
static _Thread_local int pending_dirfd;
static _Thread_local char pending_name[TMP_NAME_MAX];

/* Every terminating signal a process may catch (SIGKILL and SIGSTOP cannot
 * be; SIGPIPE and SIGXFSZ are ignored instead; the core-dumping faults --
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS -- are bugs, not
 * requests to stop, and keep their default). The real-time signals are added
 * in flags_cancel_install. */
static const int terminating[] = {
    SIGINT,    SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU,
#ifdef SIGIO
    SIGIO,
#endif
#ifdef SIGPWR
    SIGPWR,
#endif
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
};

/* Unlinks every registered temporary file, then exits 130. Async-signal-safe:
 * atomics, nanosleep, unlinkat, _exit. */
static void remove_temporaries_and_exit(void)
{
    struct timespec tick = {0, 1000000}; /* 1 ms */
    long waited = 0;
    int mine = pending_set ? 1 : 0;

    /* exiting is set: no new creation starts. Wait for those under way on
     * other threads; the one this handler interrupted cannot finish. */
    while (atomic_load(&creating) > mine && waited < CREATE_WAIT_NS) {
        nanosleep(&tick, NULL);
        waited += tick.tv_nsec;
    }
    if (pending_set)
        unlinkat(pending_dirfd, pending_name, 0);
    for (int fd = 0; fd < nentries; fd++) {
        if (atomic_load(&entries[fd].live))
            unlinkat(entries[fd].dirfd, entries[fd].name, 0);
    }
    _exit(FLAGS_EXIT_INTERRUPTED);
}

static void on_signal(int sig)
{
    int saved = errno;

    (void)sig;
    if (atomic_exchange(&cancelled, 1)) {
        /* second signal: the user insists */
        atomic_store(&exiting, 1);
        remove_temporaries_and_exit();
    }
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

int flags_tmp_openat(int dirfd, const char *name, int flags, mode_t mode)
{
    size_t len = strlen(name);
    int fd, saved;

    if (len >= TMP_NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(pending_name, name, len + 1);
    pending_dirfd = dirfd;
    pending_set = 1;
    /* Dekker with the handler (both sequentially consistent): either the
     * handler sees creating > 0 and waits for this registration, or this
     * thread sees exiting and creates nothing. */
    atomic_fetch_add(&creating, 1);
    if (atomic_load(&exiting)) {
        atomic_fetch_sub(&creating, 1);
        pending_set = 0;
        errno = EINTR;
        return -1;
    }
    fd = openat(dirfd, name, flags, mode);
    saved = errno;
    if (fd >= 0 && fd < nentries) {
        struct tmp_entry *e = &entries[fd];
        /* The descriptor is ours while open, so no other registration writes
         * this entry now; the exchange orders this write after the previous
         * owner's of a reused descriptor (the kernel orders them too, but the
         * C memory model and TSan see only atomics). */
        while (atomic_exchange(&e->owned, 1))
            ;
        atomic_store(&e->live, 0);
        e->dirfd = dirfd;
        memcpy(e->name, name, len + 1);
        atomic_store(&e->live, 1);
        atomic_store(&e->owned, 0);
    } else if (fd >= 0) {
        /* Beyond the registry (the limit was raised after install): a file a
         * second signal could not remove is not created. */
        unlinkat(dirfd, name, 0);
        close(fd);
        fd = -1;
        saved = EMFILE;
    }
    atomic_fetch_sub(&creating, 1);
    pending_set = 0;
    errno = saved;
    return fd;
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
    struct rlimit rl;
    int rc;

    if (!entries) {
        if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return -errno;
        nentries =
            rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 20 ? 1 << 20 : (int)rl.rlim_cur;
        entries = calloc((size_t)nentries, sizeof(*entries));
        if (!entries)
            return -ENOMEM;
    }
    if (pipe_fds[0] < 0) {
        if (pipe(pipe_fds) != 0)
            return -errno;
        if ((rc = set_flags(pipe_fds[0])) != 0 || (rc = set_flags(pipe_fds[1])) != 0)
            return rc;
    }

    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) != 0 || sigaction(SIGXFSZ, &sa, NULL) != 0)
        return -errno;

    /* While the handler runs, every other terminating signal waits: the
     * second-signal path is never entered twice at once on one thread. */
    for (size_t i = 0; i < sizeof(terminating) / sizeof(terminating[0]); i++)
        sigaddset(&sa.sa_mask, terminating[i]);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
        sigaddset(&sa.sa_mask, s);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof(terminating) / sizeof(terminating[0]); i++) {
        struct sigaction old;
        /* nohup's promise holds: an ignored SIGHUP stays ignored. (SIGINT
         * and SIGQUIT are caught even when inherited ignored, as a shell
         * does for its background jobs: kill -INT must still stop a run.) */
        if (terminating[i] == SIGHUP && sigaction(SIGHUP, NULL, &old) == 0 &&
            old.sa_handler == SIG_IGN)
            continue;
        if (sigaction(terminating[i], &sa, NULL) != 0)
            return -errno;
    }
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++) {
        if (sigaction(s, &sa, NULL) != 0)
            return -errno;
    }
    return 0;
}
