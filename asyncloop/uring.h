/* uring.h -- the loop's saves through io_uring (flags_asyncloop --save-uring).
 *
 * A completion-based save: the loop thread prepares the file operations of
 * each save as io_uring submissions and takes their completions like any other
 * event, so it never waits for the file system. The ring is driven from
 * libevent through an eventfd registered with io_uring_register_eventfd and
 * watched as an ordinary read event; one notification may stand for many
 * completions, so each wake-up drains the completion queue to empty.
 * Submissions made during a loop iteration are batched into one
 * io_uring_enter by a libevent event activated once per iteration.
 *
 * One save of a body held in memory (every flag) is two steps:
 *
 *   1. openat(DIR, ".CC.gif.PID.N.part", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW);
 *   2. statx(fd, AT_EMPTY_PATH) -> write -> close ->
 *      renameat(".CC.gif.PID.N.part", "CC.gif") -> statx("CC.gif"), linked,
 *      so each runs only if the one before succeeded. After a failure that
 *      cancelled the close, a close alone follows.
 *
 * Every descriptor of a save is opened, used and closed by the kernel.
 *
 * The body is written only through the descriptor the save created, and the
 * save is OK only when statx finds exactly that inode at CC.gif: a temporary
 * name swapped for something else between the steps is an error, never a
 * file reported as saved. A complete file or the old one, never a partial:
 * rename(2) replaces CC.gif in one step, and a failed save unlinks its
 * temporary file. Saves of one code never overlap, across every loop of the
 * run, so the statx check cannot be confused by a save of our own.
 *
 * The replaced file is not recycled (save.h's write lease has no io_uring
 * operation; docs/asyncloop.md says what that costs). A body too large for
 * the buffer was streamed to its temporary file during the transfer and is
 * committed by flags_xfer_save on the loop.
 *
 * Creations in flight are counted with cancel.h's flags_tmp_async_begin, so a
 * second signal removes the temporary files of operations still in the ring.
 *
 * Threads: a struct uring belongs to the thread of its loop; the struct
 * uring_shared of a run is shared by its loops.
 */
#ifndef FLAGS_URING_H
#define FLAGS_URING_H

#include <event2/event.h>
#include <linux/stat.h> /* struct statx, whatever the feature macros */
#include <liburing.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "flags.h"

struct flags_xfer;

/* Two-letter codes A-Z x A-Z, plus one bucket for anything else. */
#define URING_CODES (26 * 26 + 1)

/* What the loops of one run share: which codes have a save in a ring, and
 * the eventfds that wake each loop. Owned by the caller of the loops. */
struct uring_shared {
    atomic_bool busy[URING_CODES]; /* a save of this code is in some ring */
    atomic_uint deferred;          /* saves waiting for a busy code, all loops */
    int *efds;                     /* owned: nloops eventfds, one per loop */
    unsigned nloops;
};

/* One save; embedded in the caller's transfer slot. */
struct uring_save {
    struct flags_xfer *x;
    struct flags_result *res; /* the caller's; an error is written into it */
    struct uring_save *next;  /* the loop's deferred list */
    unsigned code;            /* its bucket in uring_shared.busy */
    int fd;                   /* the temporary file while open, else -1 */
    size_t off;               /* body bytes written so far */
    unsigned pending;         /* completions still due */
    unsigned name_try;        /* taken temporary names skipped (EEXIST) */
    bool creating;            /* its openat is in the ring */
    bool waiting;             /* counted in uring_shared.deferred */
    int res_own, res_write, res_close, res_rename, res_statx;
    int err;          /* the error a discard ends with */
    struct statx own; /* the temporary file, through its descriptor */
    struct statx stx; /* CC.gif after the rename */
    char name[16];    /* "CC.gif" */
};

struct uring;

/* A save finished: s->res says how (FLAGS_OK, or FLAGS_ERROR with the
 * reason). Called on the loop thread, outside any libcurl callback. */
typedef void (*uring_done_fn)(struct uring_save *s, void *arg);

struct uring {
    struct io_uring ring;
    bool ring_ready;
    int efd;                 /* sh->efds[k]: not owned */
    struct event *efd_ev;    /* owned; watches efd */
    struct event *flush_ev;  /* owned; submits what this iteration queued */
    bool flush_armed;        /* flush_ev is active */
    unsigned queued;         /* SQEs prepared, not yet submitted */
    struct uring_shared *sh; /* not owned */
    const struct flags_job *job;
    struct uring_save *deferred;       /* saves waiting for their code, oldest first */
    struct uring_save **deferred_tail; /* where the next one is linked */
    unsigned inflight;                 /* saves started and not yet done (deferred too) */
    uring_done_fn done;
    void *arg;
    char msg[128]; /* why init or a submission failed */
};

/* Checks that this process may use io_uring with the operations a save
 * needs (a ring can be made, and the kernel offers openat, write, close,
 * renameat and statx). Returns 0, or a negative errno-style code with one
 * line in msg: the kernel's refusal (io_uring disabled by the sysctl, a
 * seccomp filter, an old kernel), which the caller reports as a usage error. */
int uring_probe(char *msg, size_t cap);

/* Prepares sh for nloops loops: one eventfd each. Returns 0, -ENOMEM, or
 * the eventfd's error. On error sh holds nothing that needs freeing. */
int uring_shared_init(struct uring_shared *sh, unsigned nloops);

/* Closes sh's eventfds. No loop may use it any more. Safe twice. */
void uring_shared_free(struct uring_shared *sh);

/* Makes loop k's ring (entries submissions deep) on base, with its eventfd
 * sh->efds[k] registered and watched. done(arg) is called for each save that
 * ends. Returns 0 or a negative errno-style code with u->msg set; on error
 * call uring_free. */
int uring_init(struct uring *u, struct event_base *base, struct uring_shared *sh, unsigned k,
               unsigned entries, const struct flags_job *job, uring_done_fn done, void *arg);

/* Saves the body of x, which flags_xfer_classify found complete (a 200), as
 * DIR/CC.gif, into *res. s stays the caller's until done is called for it;
 * done is never called from inside this function: the save starts later in
 * this loop iteration, when its code is free. */
void uring_save(struct uring *u, struct uring_save *s, struct flags_xfer *x,
                struct flags_result *res);

/* Waits until every save of u has ended (their done calls included),
 * blocking the thread: the end of a run, after the loop stopped. */
void uring_wait(struct uring *u);

/* Frees what u owns. No save may be in flight. Safe on a failed init and
 * twice. */
void uring_free(struct uring *u);

#endif /* FLAGS_URING_H */
