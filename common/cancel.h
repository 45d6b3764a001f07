/* cancel.h -- SIGINT/SIGTERM turn into a flag the backends poll.
 *
 * The first SIGINT or SIGTERM sets the flag read by flags_cancelled() (see
 * flags.h) and makes flags_cancel_fd() readable, so an event loop can wake up;
 * running transfers are aborted by xfer.c's progress callback. A second signal
 * exits at once with status 130. SIGPIPE is ignored: a peer closing a socket
 * is an error of one transfer, never the death of the process.
 */
#ifndef FLAGS_CANCEL_H
#define FLAGS_CANCEL_H

/* Installs the handlers. Call once, from the main thread, before starting any
 * thread. Returns 0 or a negative errno-style code. */
int flags_cancel_install(void);

/* A non-blocking file descriptor that becomes readable once cancelled, or -1
 * before flags_cancel_install(). Owned by this module; do not close it. */
int flags_cancel_fd(void);

#endif /* FLAGS_CANCEL_H */
