/* cancel.h -- terminating signals turn into a flag the backends poll, and the
 * temporary files of running transfers never outlive the process.
 *
 * Every terminating signal a process may catch (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGIO,
 * SIGPWR, SIGSTKFLT and the real-time signals; SIGHUP not when it was
 * inherited ignored, as under nohup) ends a run the same way: the
 * first one sets the flag read by flags_cancelled() (see flags.h) and makes
 * flags_cancel_fd() readable, so an event loop can wake up; running transfers
 * are aborted by xfer.c's progress callback and the summary so far is printed.
 * A second signal exits at once with status 130 -- but only after unlinking
 * every temporary file of this process (".*.PID.*.part") in the folder named
 * by flags_cancel_watch_dir(), once the creations under way through
 * flags_tmp_openat() have finished. SIGPIPE and SIGXFSZ are ignored: a peer closing a socket, or a
 * file over RLIMIT_FSIZE, is an error of one transfer (EPIPE, EFBIG), never the death of the
 * process.
 */
#ifndef FLAGS_CANCEL_H
#define FLAGS_CANCEL_H

#include <sys/types.h>

/* The exit status of an interrupted run, whatever the signal (documented in
 * docs/client.md). */
#define FLAGS_EXIT_INTERRUPTED 130

/* Installs the handlers. Call once, from the main thread, before starting any
 * thread. Returns 0 or a negative errno-style code. */
int flags_cancel_install(void);

/* A non-blocking file descriptor that becomes readable once cancelled, or -1
 * before flags_cancel_install(). Owned by this module; do not close it. */
int flags_cancel_fd(void);

/* Names the folder (an open descriptor, kept open by the caller for the rest
 * of the process) whose temporary files a second signal removes: the names
 * that start with '.', end in ".part" and hold ".PID." for this process's
 * pid -- except those already there now (an earlier run's with the same pid,
 * not ours to delete). Call before flags_cancel_install() and before any
 * temporary file is made. */
void flags_cancel_watch_dir(int dirfd);

/* openat(dirfd, name, flags, mode) for creating a temporary file in the
 * watched folder: once the second signal has arrived it creates nothing and
 * fails with EINTR, and a creation under way when it arrives is waited for (at
 * most 2 s) before the folder is scanned. Returns the descriptor, or -1 with
 * errno set. Thread-safe and async-signal-safe. */
int flags_tmp_openat(int dirfd, const char *name, int flags, mode_t mode);

/* The same promise for a creation the kernel makes on this process's behalf
 * (an io_uring openat, flags_asyncloop --save-uring): call
 * flags_tmp_async_begin before submitting it and flags_tmp_async_end when its
 * completion arrives. begin returns 0, or -EINTR once the second signal has
 * arrived (then submit nothing and do not call end). A second signal waits for
 * these as for flags_tmp_openat's (at most 2 s), so the thread that takes
 * the completions must not be the one the signal interrupts. Thread-safe. */
int flags_tmp_async_begin(void);
void flags_tmp_async_end(void);

#endif /* FLAGS_CANCEL_H */
