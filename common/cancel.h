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
 * every temporary file that flags_tmp_openat() created and that may still
 * exist. SIGPIPE and SIGXFSZ are ignored: a peer closing a socket, or a file
 * over RLIMIT_FSIZE, is an error of one transfer (EPIPE, EFBIG), never the
 * death of the process.
 */
#ifndef FLAGS_CANCEL_H
#define FLAGS_CANCEL_H

#include <sys/types.h>

/* The exit status of an interrupted run, whatever the signal (documented in
 * docs/client.md). */
#define FLAGS_EXIT_INTERRUPTED 130

/* Installs the handlers and sizes the temporary-file registry for descriptors
 * below the current soft RLIMIT_NOFILE (so call it after raising that limit).
 * Call once, from the main thread, before starting any thread. Returns 0 or a
 * negative errno-style code. */
int flags_cancel_install(void);

/* A non-blocking file descriptor that becomes readable once cancelled, or -1
 * before flags_cancel_install(). Owned by this module; do not close it. */
int flags_cancel_fd(void);

/* openat(dirfd, name, flags, mode) for a temporary file, registered so that a
 * second signal unlinks it before the process exits. name must be shorter than
 * 64 bytes and unique to this process (it is unlinked by name, so it must not
 * be reused for another file after a rename). Once the second signal has
 * arrived, creates nothing and fails with EINTR. Returns the descriptor, or -1
 * with errno set. Thread-safe; needs no unregistering: a registered name that
 * was renamed or unlinked since is harmless to unlink again. */
int flags_tmp_openat(int dirfd, const char *name, int flags, mode_t mode);

#endif /* FLAGS_CANCEL_H */
