/* cancel.c -- signal handling: a flag, a self-pipe, and a second-signal exit
 * that first removes this process's temporary files from the output folder. */
#define _GNU_SOURCE /* syscall(2) for getdents64 in the handler */
#include "cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fdorder.h"
#include "flags.h"

#define CREATE_WAIT_NS (2 * 1000000000L) /* a creation in progress on another thread */

/* Written by the handler, read by every thread: volatile sig_atomic_t is only
 * safe within one thread, so atomics; lock-free, so the handler may use them. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free for a signal handler");
static atomic_int cancelled; /* the first signal arrived */
static atomic_int exiting;   /* the second signal arrived: create no temporary file */
static atomic_int creating;  /* threads inside flags_tmp_openat past the exiting check */
static int pipe_fds[2] = {-1, -1};

#ifdef FLAGS_TSAN
char flags_fd_order;
#endif

/* The folder the temporary files are made in, and ".PID." as it stands in
 * their names (.CC.gif.PID.N.part, xfer.c): set before any signal handler can
 * run the second-signal path, read-only afterwards. The folder is scanned at
 * exit rather than a registry of names kept, because a temporary file may
 * outlive its descriptor (save.c's spares are closed before their exchange),
 * and a name registry keyed by descriptor would lose it to the next file
 * opened with that number. */
static atomic_int watch_dirfd = -1;
static char pid_tag[32];
static size_t pid_tag_len;
static atomic_int removing; /* a handler is in the second-signal path */

/* The creation the handler may have interrupted on its own thread: set before
 * openat, cleared after. Only that thread's handler reads it, so volatile
 * sig_atomic_t is the right tool. */
static _Thread_local volatile sig_atomic_t pending_set;

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

/* True when name is one of this process's temporary files: ".*.PID.*.part".
 * Async-signal-safe (no libc string function is needed). */
static bool is_our_part(const char *name)
{
    size_t n = 0;

    while (name[n])
        n++;
    if (name[0] != '.' || n < 5 + pid_tag_len || name[n - 5] != '.' || name[n - 4] != 'p' ||
        name[n - 3] != 'a' || name[n - 2] != 'r' || name[n - 1] != 't')
        return false;
    for (size_t i = 1; i + pid_tag_len <= n - 5; i++) {
        size_t k = 0;
        while (k < pid_tag_len && name[i + k] == pid_tag[k])
            k++;
        if (k == pid_tag_len)
            return true;
    }
    return false;
}

/* The record getdents64(2) returns. */
struct dirent64_rec {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Files in the watched folder that look like this process's temporary files
 * but were there before the run: left by an earlier run with the same pid
 * (pids repeat; one killed by SIGKILL removed nothing). Not ours to delete,
 * so remove_our_parts passes over their inodes (which stay allocated: they
 * are never unlinked by us). Set by flags_cancel_watch_dir before any handler
 * can run; if there are more than FOREIGN_MAX, nothing is removed at all. */
#define FOREIGN_MAX 256
static unsigned long long foreign[FOREIGN_MAX];
static size_t nforeign;
static bool foreign_overflow;

static bool is_foreign(unsigned long long ino)
{
    for (size_t i = 0; i < nforeign; i++)
        if (foreign[i] == ino)
            return true;
    return false;
}

/* Unlinks this process's temporary files in the watched folder. Passes over
 * it until one removes nothing (at most 4): entries not removed are listed
 * exactly once by a pass even while others are unlinked. Async-signal-safe:
 * openat, getdents64, lseek, unlinkat, close. */
static void remove_our_parts(int dirfd)
{
    _Alignas(8) char buf[4096];
    int d = foreign_overflow ? -1 : openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (d < 0)
        return;
    for (int pass = 0; pass < 4; pass++) {
        int removed = 0;
        long n;

        if (lseek(d, 0, SEEK_SET) != 0)
            break;
        while ((n = syscall(SYS_getdents64, d, buf, sizeof(buf))) > 0) {
            for (long off = 0; off < n;) {
                struct dirent64_rec *e = (struct dirent64_rec *)(void *)(buf + off);
                if (is_our_part(e->d_name) && !is_foreign(e->d_ino) &&
                    unlinkat(dirfd, e->d_name, 0) == 0)
                    removed++;
                off += e->d_reclen;
            }
        }
        if (removed == 0)
            break;
    }
    close(d);
}

/* Removes this process's temporary files, then exits 130. Async-signal-safe:
 * atomics, nanosleep, the calls of remove_our_parts, pause, _exit. */
static void remove_temporaries_and_exit(void)
{
    struct timespec tick = {0, 1000000}; /* 1 ms */
    long waited = 0;
    int mine = pending_set ? 1 : 0;

    /* A further signal on another thread must not _exit before this one has
     * removed the files: it waits here for the _exit below. */
    if (atomic_exchange(&removing, 1)) {
        for (;;)
            pause();
    }
    /* exiting is set: no new creation starts. Wait for those under way on
     * other threads; the one this handler interrupted cannot finish, and its
     * file exists whole or not at all (openat is one system call). */
    while (atomic_load(&creating) > mine && waited < CREATE_WAIT_NS) {
        nanosleep(&tick, NULL);
        waited += tick.tv_nsec;
    }
    if (atomic_load(&watch_dirfd) >= 0)
        remove_our_parts(atomic_load(&watch_dirfd));
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
    int fd, saved;

    pending_set = 1;
    /* Dekker with the handler (both sequentially consistent): either the
     * handler sees creating > 0 and waits for this creation before it scans
     * the folder, or this thread sees exiting and creates nothing. */
    atomic_fetch_add(&creating, 1);
    if (atomic_load(&exiting)) {
        atomic_fetch_sub(&creating, 1);
        pending_set = 0;
        errno = EINTR;
        return -1;
    }
    fd = openat(dirfd, name, flags, mode);
    saved = errno;
    if (fd >= 0)
        flags_fd_acquire();
    atomic_fetch_sub(&creating, 1);
    pending_set = 0;
    errno = saved;
    return fd;
}

/* Notes the inodes of the names in dirfd that is_our_part matches now. */
static void note_foreign(int dirfd)
{
    _Alignas(8) char buf[4096];
    int d = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    long n;

    nforeign = 0;
    foreign_overflow = d < 0; /* unknown: remove nothing rather than guess */
    if (d < 0)
        return;
    while ((n = syscall(SYS_getdents64, d, buf, sizeof(buf))) > 0) {
        for (long off = 0; off < n;) {
            struct dirent64_rec *e = (struct dirent64_rec *)(void *)(buf + off);
            if (is_our_part(e->d_name)) {
                if (nforeign < FOREIGN_MAX)
                    foreign[nforeign++] = e->d_ino;
                else
                    foreign_overflow = true;
            }
            off += e->d_reclen;
        }
    }
    if (n < 0)
        foreign_overflow = true;
    close(d);
}

int flags_tmp_async_begin(void)
{
    /* The Dekker of flags_tmp_openat, with the creation left to the kernel. */
    atomic_fetch_add(&creating, 1);
    if (atomic_load(&exiting)) {
        atomic_fetch_sub(&creating, 1);
        return -EINTR;
    }
    return 0;
}

void flags_tmp_async_end(void)
{
    atomic_fetch_sub(&creating, 1);
}

void flags_cancel_watch_dir(int dirfd)
{
    int n = snprintf(pid_tag, sizeof(pid_tag), ".%ld.", (long)getpid());
    pid_tag_len = n > 0 && (size_t)n < sizeof(pid_tag) ? (size_t)n : 0;
    if (pid_tag_len && dirfd >= 0)
        note_foreign(dirfd);
    atomic_store(&watch_dirfd, pid_tag_len ? dirfd : -1);
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
